/**
 * What the extension does with a schedule, in JupyterLab: the Schedule form in a dialog (a new
 * schedule or a change), asking before a delete, the clipboard.
 *
 * The Schedules tab's model decides when an action runs and shows its outcome
 * (schedules-model.ts); this module is the part that needs JupyterLab's dialogs.
 */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';

import { BookstoreApiError, BookstoreClient, INotebookParameters, ISchedule, IVersion, isBroken } from './api';
import { browserTimeZone } from './cron-times';
import { baseName } from './format';
import { ScheduleFormModel } from './schedule-form-model';
import { showScheduleForm } from './schedule-form';
import { IScheduleActions } from './schedules-model';

/** The notebook must be published before it can be scheduled. */
export class NotPublishedError extends Error {
  constructor(path: string) {
    super(
      `${baseName(path)} is not published yet: Airflow runs published versions. Publish it first ` +
        '(Publish in the notebook toolbar), then schedule it.'
    );
    this.name = 'NotPublishedError';
  }
}

export class ScheduleActions implements IScheduleActions {
  constructor(private readonly client: BookstoreClient) {}

  async create(path: string): Promise<ISchedule | null> {
    const form = await this.form(path, null);
    return showScheduleForm(form, `Schedule ${baseName(path)}`, request =>
      this.client.saveSchedule(path, request)
    );
  }

  async edit(path: string, schedule: ISchedule): Promise<ISchedule | null> {
    const form = await this.form(path, schedule);
    return showScheduleForm(form, `Schedule ${schedule.name} of ${baseName(path)}`, request =>
      this.client.saveSchedule(path, request)
    );
  }

  async confirmDelete(path: string, schedule: ISchedule): Promise<boolean> {
    const answer = await showDialog({
      title: `Delete schedule ${schedule.name}?`,
      body:
        `${baseName(path)} will no longer run ${schedule.description ?? 'on this schedule'}. Airflow removes ` +
        `the DAG ${schedule.dag_id} at its next parse; the runs it made stay listed, and the bucket keeps ` +
        "the schedule's history.",
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    return answer.button.accept;
  }

  async copyDagId(schedule: ISchedule): Promise<string> {
    Clipboard.copyToSystem(schedule.dag_id);
    return `Copied DAG id ${schedule.dag_id} to the clipboard.`;
  }

  /**
   * The form on what the server says of the notebook now: its published versions, what its
   * latest publication declares as parameters, and the names of its schedules.
   *
   * @throws NotPublishedError when the notebook has no published version.
   */
  private async form(path: string, editing: ISchedule | null): Promise<ScheduleFormModel> {
    const { client } = this;
    const published = await client.versions(path, 'published', { limit: 50 }).catch(error => {
      if (error instanceof BookstoreApiError && error.isNotFound && error.reason === 'NotFoundError') {
        return { versions: [] as IVersion[] };
      }
      throw error;
    });
    if (published.versions.length === 0) {
      throw new NotPublishedError(path);
    }
    const [declared, listed] = await Promise.all([
      // The form still opens when the parameters cannot be read (a notebook papermill cannot
      // inspect): the server checks the parameters on save.
      client.parameters(path, { stage: 'published' }).catch((): INotebookParameters | null => null),
      client.schedules(path)
    ]);
    return new ScheduleFormModel({
      path,
      published: published.versions,
      declared,
      taken: listed.schedules.filter(entry => !isBroken(entry)).map(entry => (entry as ISchedule).name),
      editing,
      timeZone: browserTimeZone()
    });
  }
}
