/**
 * What the Schedules tab of the Version history shows and does, apart from how it looks: the
 * notebook's schedules, each row's text (when it runs, its next run, its last run's status),
 * and Run now, Edit, Disable or Enable, Delete.
 *
 * The Version history's model holds it (model.ts) and lends it the panel's one action at a
 * time, its outcome, the runs listed and the Runs tab; the panel (schedules-panel.tsx) renders
 * it and the schedule commands (schedule-commands.ts) call it. It imports no JupyterLab
 * widget, so that the unit tests run it in Node.
 */
import {
  BookstoreClient,
  IBrokenSchedule,
  IRun,
  ISchedule,
  ListedSchedule,
  RunStatus,
  isBroken
} from './api';
import { ISignal, Signal } from '@lumino/signaling';

import { describeSchedule } from './cron';
import { formatInZone } from './cron-times';
import { formatAge, withEllipsis } from './format';
import { sentences } from './messages';
import { IPagingState, PagedList } from './paged';
import { Outcome } from './panel-model';
import { formatParameters, statusLabel } from './runs-model';

/** What the schedules need of the server. */
export type SchedulesClient = Pick<BookstoreClient, 'schedules' | 'saveSchedule' | 'deleteSchedule' | 'requestRun'>;

/** What the extension does with a schedule in dialogs (schedule-actions.ts). */
export interface IScheduleActions {
  /** Open the Schedule form on a new schedule of the notebook at `path`; the saved schedule, or null. */
  create(path: string): Promise<ISchedule | null>;
  /** Open the Schedule form on `schedule`; the saved schedule, or null when cancelled. */
  edit(path: string, schedule: ISchedule): Promise<ISchedule | null>;
  /** Ask before deleting `schedule`. */
  confirmDelete(path: string, schedule: ISchedule): Promise<boolean>;
  copyDagId(schedule: ISchedule): Promise<Outcome>;
}

/** The things a person can do with one listed schedule. */
export type ScheduleAction = 'runNow' | 'edit' | 'disable' | 'enable' | 'delete' | 'copyDagId';

/** Done at once, or in a dialog of its own. */
const IMMEDIATE: ReadonlySet<ScheduleAction> = new Set(['copyDagId', 'edit']);

/** What the model borrows from the panel it is part of (the Version history's model). */
export interface ISchedulesHost {
  readonly path: string | null;
  readonly busy: string | null;
  /** The runs listed in the Runs tab, newest first. */
  readonly listedRuns: readonly IRun[];
  run(label: string, action: () => Promise<Outcome>): Promise<void>;
  runAtOnce(action: () => Promise<Outcome>): Promise<void>;
  /** A run was asked for: show the Runs tab with it. */
  showQueuedRun(run: IRun): Promise<void>;
}

/** The notebook's schedules. */
export interface ISchedulesState extends IPagingState {
  path: string | null;
  schedules: ISchedule[];
  /** Documents that are not schedules (written by hand into the bucket). */
  broken: IBrokenSchedule[];
}

/** One schedule as its row shows it. */
export interface IScheduleRow {
  name: string;
  /** The schedule in words, the server's: `at 06:00 every day (Europe/Paris)`. */
  description: string;
  enabled: boolean;
  /** `next Mon 2026-12-07 06:00` (its time zone's wall clock), or why there is none. */
  next: string;
  /** The next run times in full, for a tooltip. */
  nextTitle: string;
  /** The last run listed that it made, or null when none is. */
  last: { status: RunStatus; label: string; title: string } | null;
  /** `x=3, region="eu"`, empty when none. */
  parameters: string;
  /** `latest` or the pinned version's id. */
  version: string;
  dagId: string;
}

/**
 * The newest run of `runs` (newest first) that `schedule` made: its DAG's, or one asked for
 * with Run now from it (`requested`: request ids by the schedule's DAG id).
 */
export function lastRunOf(
  schedule: ISchedule,
  runs: readonly IRun[],
  requested: ReadonlyMap<string, readonly string[]> = new Map()
): IRun | undefined {
  const asked = requested.get(schedule.dag_id) ?? [];
  return runs.find(
    run => run.airflow?.dag_id === schedule.dag_id || (!!run.request_id && asked.includes(run.request_id))
  );
}

/** The run request Run now sends for a schedule: its version, parameters and force. */
export function runRequestOf(schedule: ISchedule): {
  version_id: string | null;
  parameters: Record<string, unknown>;
  force_parameters?: boolean;
} {
  return {
    version_id: schedule.version_id,
    parameters: schedule.parameters,
    ...(schedule.force_parameters && { force_parameters: true })
  };
}

/** The state of the Schedules tab. */
export class SchedulesModel {
  constructor(
    private readonly client: SchedulesClient,
    private readonly host: ISchedulesHost,
    onChange: () => void = () => undefined
  ) {
    this.list = new PagedList<ISchedulesState>(SchedulesModel.initial(null), onChange);
  }

  readonly list: PagedList<ISchedulesState>;

  /** Emitted after a schedule of the notebook was created, changed or deleted (the catalog shows them). */
  get written(): ISignal<this, void> {
    return this._written;
  }

  get state(): Readonly<ISchedulesState> {
    return this.list.state;
  }

  get schedules(): readonly ISchedule[] {
    return this.list.state.schedules;
  }

  schedule(name: string | null): ISchedule | undefined {
    return this.schedules.find(schedule => schedule.name === name);
  }

  /** Show the schedules of the notebook at `path`. Does not load. */
  setPath(path: string | null): void {
    if (path !== this.list.state.path) {
      this.list.reset(SchedulesModel.initial(path));
    }
  }

  /** List the notebook's schedules again. */
  async reload(): Promise<void> {
    const path = this.list.state.path;
    if (path === null) {
      return;
    }
    await this.list.reload(
      async () => ({ ...(await this.client.schedules(path)), next_cursor: null }),
      answer => split(answer.schedules)
    );
  }

  /** A schedule's row. */
  row(schedule: ISchedule, now: number = Date.now()): IScheduleRow {
    const last = lastRunOf(schedule, this.host.listedRuns, this._requested);
    const next = schedule.next_runs ?? [];
    const inZone = (time: string) => formatInZone(time, schedule.timezone);
    return {
      name: schedule.name,
      description: describe(schedule),
      enabled: schedule.enabled,
      next: !schedule.enabled
        ? 'disabled: runs on no schedule'
        : next.length
          ? `next ${inZone(next[0])}`
          : schedule.on_publish
            ? 'next at the next publication'
            : 'no run ahead',
      nextTitle: next.length
        ? `Next runs (${schedule.timezone}):\n${next.map(inZone).join('\n')}`
        : 'No run on a clock ahead',
      last: last
        ? {
            status: last.status,
            label: `last ${statusLabel(last.status)}`,
            title: `Last run ${last.run_id}, ${statusLabel(last.status)}, started ${formatAge(last.started_at, now) || last.started_at}`
          }
        : null,
      parameters: formatParameters(schedule.parameters, 60),
      version: schedule.version_id ? `version ${schedule.version_id.slice(0, 12)}` : 'latest version',
      dagId: schedule.dag_id
    };
  }

  /** Whether `action` is offered for `schedule` (a menu hides the others). */
  isAvailable(action: ScheduleAction, schedule: ISchedule | undefined): boolean {
    switch (action) {
      case 'disable':
        return !!schedule?.enabled;
      case 'enable':
        return schedule !== undefined && !schedule.enabled;
      default:
        return true;
    }
  }

  /** Whether `action` can run now on that schedule: one action at a time. */
  isEnabled(action: ScheduleAction, name: string | null): boolean {
    const schedule = this.schedule(name);
    if (this.host.path === null || schedule === undefined || !this.isAvailable(action, schedule)) {
      return false;
    }
    return IMMEDIATE.has(action) || this.host.busy === null;
  }

  /** Run `action` on a listed schedule, showing that it is busy and then its outcome. */
  async perform(actions: IScheduleActions, action: ScheduleAction, name: string): Promise<void> {
    const path = this.host.path;
    const schedule = this.schedule(name);
    if (path === null || schedule === undefined || !this.isEnabled(action, name)) {
      return;
    }
    switch (action) {
      case 'runNow':
        return this.host.run(withEllipsis(`Asking Airflow to run ${name} now`), () => this.runNow(path, schedule));
      case 'edit':
        return this.host.runAtOnce(async () => {
          const saved = await actions.edit(path, schedule);
          return saved === null ? null : this.saved(`Saved schedule ${saved.name}: it runs ${describe(saved)}`);
        });
      case 'disable':
      case 'enable': {
        const enabled = action === 'enable';
        return this.host.run(withEllipsis(`${enabled ? 'Enabling' : 'Disabling'} ${name}`), async () => {
          const saved = await this.client.saveSchedule(path, { name, enabled });
          return this.saved(
            enabled
              ? `Enabled schedule ${name}: it runs ${describe(saved)}`
              : `Disabled schedule ${name}: its DAG stays in Airflow but runs on no schedule`
          );
        });
      }
      case 'delete':
        return this.host.runAtOnce(async () => {
          if (!(await actions.confirmDelete(path, schedule))) {
            return null;
          }
          await this.client.deleteSchedule(path, name);
          this._written.emit(void 0);
          await this.reload();
          return `Deleted schedule ${name}: Airflow removes its DAG at its next parse; its runs stay listed.`;
        });
      case 'copyDagId':
        return this.host.runAtOnce(() => actions.copyDagId(schedule));
    }
  }

  /**
   * Open the Schedule form on a new schedule of the notebook shown; answers whether there is an
   * outcome to show (saved, or what went wrong), not when the form was cancelled.
   */
  async create(actions: IScheduleActions): Promise<boolean> {
    const path = this.host.path;
    if (path === null) {
      return false;
    }
    let cancelled = false;
    await this.host.runAtOnce(async () => {
      const saved = await actions.create(path);
      cancelled = saved === null;
      return saved === null ? null : this.saved(`Scheduled ${saved.name}: it runs ${describe(saved)}`);
    });
    return !cancelled;
  }

  /** A schedule was saved: list the schedules again, and say so. */
  private async saved(text: string): Promise<Outcome> {
    this._written.emit(void 0);
    await this.reload();
    return sentences(text);
  }

  private async runNow(path: string, schedule: ISchedule): Promise<Outcome> {
    const run = await this.client.requestRun(path, runRequestOf(schedule));
    if (run.request_id) {
      this._requested.set(schedule.dag_id, [...(this._requested.get(schedule.dag_id) ?? []), run.request_id]);
    }
    await this.host.showQueuedRun(run);
    return `Asked Airflow to run ${schedule.name} now: the run is queued until Airflow starts it.`;
  }

  private static initial(path: string | null): ISchedulesState {
    return { path, schedules: [], broken: [], nextCursor: null, loading: false, loaded: false, error: null };
  }

  /** The request ids of the runs asked for from each schedule (by DAG id) since the page loaded. */
  private readonly _requested = new Map<string, string[]>();
  private readonly _written = new Signal<this, void>(this);
}

/** When a schedule runs, in words: the server's, or as the server words it. */
function describe(schedule: ISchedule): string {
  return schedule.description || describeSchedule(schedule);
}

function split(listed: readonly ListedSchedule[]): { schedules: ISchedule[]; broken: IBrokenSchedule[] } {
  return {
    schedules: listed.filter((entry): entry is ISchedule => !isBroken(entry)),
    broken: listed.filter(isBroken)
  };
}
