/**
 * What the extension does with a run, in JupyterLab: its executed notebook read-only, two runs'
 * executed notebooks compared, in tabs (dialogs in Notebook 7), Airflow in a browser tab, the
 * clipboard.
 *
 * The runs' model decides when an action runs and shows its outcome (runs-model.ts); this
 * module is the part that needs JupyterLab's shell and widgets.
 */
import { Clipboard } from '@jupyterlab/apputils';
import * as nbformat from '@jupyterlab/nbformat';
import { runIcon } from '@jupyterlab/ui-components';

import { IRun } from './api';
import { IVersionActionsOptions } from './actions';
import { createDiffView } from './diffview';
import { baseName, formatTime } from './format';
import { IRunActions, statusLabel } from './runs-model';
import { createVersionView, showView } from './viewer';

export type IRunActionsOptions = Pick<
  IVersionActionsOptions,
  'app' | 'client' | 'model' | 'rendermime' | 'contentFactory' | 'mimeTypeService'
>;

export class RunActions implements IRunActions {
  constructor(private readonly options: IRunActionsOptions) {}

  async open(path: string, run: IRun): Promise<null> {
    const { client, model } = this.options;
    // The record as the server has it now: the run may have ended since it was listed.
    const answer = await client.run(path, run.run_id);
    const stored = answer.run ?? run;
    const described = model.runs.describe(stored);
    const view = createVersionView({
      content: answer.content as unknown as nbformat.INotebookContent,
      label: `${baseName(path)} ▸ run ${formatTime(stored.started_at)}`,
      caption:
        `${path}\n${described}, ${statusLabel(stored.status)}\n` +
        `run ${stored.run_id}\n${stored.output_key} (read-only)`,
      description:
        `Read-only: what the ${described} of ${path} executed, ${statusLabel(stored.status)}` +
        (stored.error ? `: ${stored.error}` : ''),
      rendermime: this.options.rendermime,
      contentFactory: this.options.contentFactory,
      mimeTypeService: this.options.mimeTypeService,
      icon: runIcon
    });
    showView(this.options.app.shell, view);
    return null;
  }

  async compare(path: string, base: IRun, remote: IRun): Promise<null> {
    const { client, model } = this.options;
    const diff = await client.diffRuns(path, base.run_id, remote.run_id);
    const describe = (run: IRun) => `${model.runs.describe(run)}, ${statusLabel(run.status)}`;
    // Two runs of one day are told apart by their time of day.
    const times = [base, remote].map(run => formatTime(run.started_at));
    if (times[0].slice(0, 10) === times[1].slice(0, 10)) {
      times.forEach((time, index) => (times[index] = time.slice(11)));
    }
    const view = await createDiffView({
      answer: diff,
      label: `${baseName(path)}: runs ${times.join(' ↔ ')}`,
      caption: `${path}\n${describe(base)}\n↔ ${describe(remote)}`,
      baseLabel: describe(base),
      remoteLabel: describe(remote),
      rendermime: this.options.rendermime
    });
    view.title.icon = runIcon;
    showView(this.options.app.shell, view);
    return null;
  }

  async openLink(url: string): Promise<null> {
    window.open(url, '_blank', 'noopener,noreferrer');
    return null;
  }

  async copyRunId(run: IRun): Promise<string> {
    // As JupyterLab's own Copy Path: it also works where navigator.clipboard does not.
    Clipboard.copyToSystem(run.run_id);
    return `Copied run id ${run.run_id} to the clipboard.`;
  }
}
