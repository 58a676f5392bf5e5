/**
 * What the Runs view of the Version history shows and does, apart from how it looks: the runs
 * of the notebook's published versions a page at a time, each row's text, the two runs chosen
 * for a comparison, and which run an action may act on.
 *
 * The Version history's model holds it (model.ts) and lends it the panel's one action at a
 * time, its outcome and the short ids of versions; the panel (runs-panel.tsx) renders it and
 * the run commands (run-commands.ts) call it. It imports no JupyterLab widget, so that the unit
 * tests run it in Node.
 */
import { BookstoreClient, IRun, IRunPage, RunStatus } from './api';
import { formatAge, formatDay, formatDuration, formatTime, withEllipsis } from './format';
import { NotebookList } from './history';
import { Outcome } from './panel-model';

/** A page of runs: a scheduled notebook runs a few times a day. */
export const RUNS_PAGE_SIZE = 30;

/** What the extension does with a run: tabs, links and the clipboard (run-actions.ts). */
export interface IRunActions {
  /** Open the run's executed notebook read-only. */
  open(path: string, run: IRun): Promise<Outcome>;
  /** Compare two runs' executed notebooks: `base` on the left, `remote` on the right. */
  compare(path: string, base: IRun, remote: IRun): Promise<Outcome>;
  /** Open an address in a new browser tab (Airflow's task, its viewer). */
  openLink(url: string): Promise<Outcome>;
  copyRunId(run: IRun): Promise<Outcome>;
}

/** The things a person can do with one listed run. */
export type RunAction = 'open' | 'comparePrevious' | 'openAirflow' | 'openViewer' | 'copyRunId';

/** Actions done at once: they need not wait for an opening or a comparison. */
const IMMEDIATE: ReadonlySet<RunAction> = new Set(['openAirflow', 'openViewer', 'copyRunId']);

const ONGOING: Partial<Record<RunAction, string>> = {
  open: 'Opening',
  comparePrevious: 'Comparing'
};

/** What the model borrows from the panel it is part of (the Version history's model). */
export interface IRunsHost {
  readonly path: string | null;
  readonly busy: string | null;
  /** Comparing needs nbdime on the server. */
  readonly canCompare: boolean;
  /** How a version id is shown, as in the Saves and Published tabs. */
  shortId(versionId: string | null): string;
  run(label: string, action: () => Promise<Outcome>): Promise<void>;
  runAtOnce(action: () => Promise<Outcome>): Promise<void>;
}

/** One run as its row shows it. */
export interface IRunRow {
  runId: string;
  status: RunStatus;
  /** When it started: its day (`Today`, `2026-11-26`) and its time of day. */
  date: string;
  clock: string;
  /** The time's tooltip: started, finished and how long ago, in full. */
  timeTitle: string;
  /** How long it ran, once it finished; else null. */
  duration: string | null;
  /** Why it failed, its first line; else null. */
  error: string | null;
  /** The published version that ran, as `versionId` and its short id. */
  version: { versionId: string; id: string } | null;
  /** The parameters in one short line (`alpha=0.5, region="eu"`), empty when none. */
  parameters: string;
  /** Every parameter, one a line. */
  parametersTitle: string;
  /** Who ran it: `DAG daily_report, task mine (try 2)`, or `bookstore run` when not Airflow. */
  origin: string;
  airflowUrl: string | null;
  viewerUrl: string | null;
  /** Its executed notebook is stored: it can be opened and compared. */
  hasOutput: boolean;
  /** Chosen for a comparison. */
  selected: boolean;
}

const STATUS_LABELS: Record<RunStatus, string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed'
};

/** How a status reads in a row: `succeeded`, `failed`, `running`, `queued` (asked for, not started yet). */
export function statusLabel(status: RunStatus): string {
  return STATUS_LABELS[status] ?? status;
}

/** A parameter's value as Python would take it back: numbers and strings as literals, the rest as JSON. */
function parameterValue(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  return JSON.stringify(value);
}

/**
 * The parameters in one line, `alpha=0.5, region="eu"`, cut to `limit` characters with `…`;
 * empty when there are none.
 */
export function formatParameters(parameters: Record<string, unknown> | null | undefined, limit = 80): string {
  const text = Object.entries(parameters ?? {})
    .map(([name, value]) => `${name}=${parameterValue(value)}`)
    .join(', ');
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/**
 * Who started a run: the Airflow task (`DAG daily, task report[3] (try 2)`, `…, on publish` when
 * publishing the version started it, `…, run now by alice` when someone asked for it), Run now
 * while Airflow has not started it, or the terminal when no Airflow task is recorded.
 */
export function describeOrigin(run: IRun): string {
  const airflow = run.airflow;
  const asked = run.request_id ? `run now${run.requested_by ? ` by ${run.requested_by}` : ''}` : null;
  if (!airflow) {
    if (asked !== null) {
      return run.status === 'queued' ? `${asked}, waiting for Airflow to start it` : asked;
    }
    return 'bookstore run';
  }
  const mapped = airflow.map_index !== undefined && airflow.map_index !== null && airflow.map_index >= 0;
  const tryNumber = airflow.try_number && airflow.try_number > 1 ? ` (try ${airflow.try_number})` : '';
  return (
    `DAG ${airflow.dag_id}, task ${airflow.task_id}${mapped ? `[${airflow.map_index}]` : ''}${tryNumber}` +
    (run.published_event ? ', on publish' : '') +
    (asked !== null ? `, ${asked}` : '')
  );
}

/** Whether a run's executed notebook is stored, to open and compare. */
export function hasOutput(run: IRun): boolean {
  return !!run.output_version_id;
}

function startTime(run: IRun): number {
  const time = new Date(run.started_at).getTime();
  return Number.isNaN(time) ? 0 : time;
}

/** The two runs as [base, remote]: the one that started first is the base. */
export function orderRuns(a: IRun, b: IRun): [IRun, IRun] {
  return startTime(b) < startTime(a) ? [b, a] : [a, b];
}

/** The run before `run` among `runs` (newest first) whose executed notebook is stored. */
export function previousRun(runs: readonly IRun[], run: IRun): IRun | undefined {
  const index = runs.findIndex(listed => listed.run_id === run.run_id);
  return index === -1 ? undefined : runs.slice(index + 1).find(hasOutput);
}

/** The state of the Runs view. */
export class RunsModel {
  constructor(
    client: Pick<BookstoreClient, 'runs'>,
    private readonly host: IRunsHost,
    private readonly onChange: () => void = () => undefined,
    pageSize: number = RUNS_PAGE_SIZE
  ) {
    this.list = new NotebookList<IRun, IRunPage>(
      {
        fetch: (path, options) => client.runs(path, options),
        items: page => page.runs,
        key: run => run.run_id
      },
      onChange,
      pageSize
    );
  }

  /** The runs listed so far, newest first. */
  readonly list: NotebookList<IRun, IRunPage>;

  get runs(): readonly IRun[] {
    return this.list.state.items;
  }

  /** The listed run with this id. */
  run(runId: string | null): IRun | undefined {
    return this.list.find(runId);
  }

  /** Show the runs of the notebook at `path`; forgets the runs chosen for a comparison. Does not load. */
  setPath(path: string | null): void {
    if (path !== this.list.state.path) {
      this._selected = [];
    }
    this.list.setPath(path);
  }

  /** The runs chosen for a comparison (their ids), at most two, the first chosen first. */
  get selected(): readonly string[] {
    return this._selected;
  }

  /**
   * Choose a run for a comparison, or no longer. Choosing a third forgets the first chosen, so
   * that the last two clicked are compared.
   */
  toggleSelected(runId: string): void {
    const run = this.run(runId);
    if (this._selected.includes(runId)) {
      this._selected = this._selected.filter(id => id !== runId);
    } else if (run !== undefined && hasOutput(run)) {
      this._selected = [...this._selected, runId].slice(-2);
    } else {
      return;
    }
    this.onChange();
  }

  /** Whether the two chosen runs can be compared now. */
  get canCompareSelected(): boolean {
    return this.host.canCompare && this.chosen().length === 2 && this.host.busy === null;
  }

  /** Compare the two chosen runs, the one that started first on the left. */
  async compareSelected(actions: IRunActions): Promise<void> {
    const path = this.host.path;
    const chosen = this.chosen();
    if (path === null || chosen.length !== 2 || !this.canCompareSelected) {
      return;
    }
    const [base, remote] = orderRuns(chosen[0], chosen[1]);
    await this.host.run(withEllipsis(`Comparing ${this.describe(base)} with ${this.describe(remote)}`), () =>
      actions.compare(path, base, remote)
    );
  }

  /** A run's row: when, how long, which version, parameters, status, links. */
  row(run: IRun, now: number = Date.now()): IRunRow {
    const duration = run.finished_at ? formatDuration(run.started_at, run.finished_at) : null;
    const age = formatAge(run.started_at, now);
    const parameters = Object.entries(run.parameters ?? {});
    return {
      runId: run.run_id,
      status: run.status,
      date: formatDay(run.started_at, now),
      clock: formatTime(run.started_at).slice(11),
      timeTitle:
        `${run.status === 'queued' ? 'Asked for' : 'Started'} ${formatTime(run.started_at)}${age ? ` (${age})` : ''}` +
        (run.finished_at
          ? `\nFinished ${formatTime(run.finished_at)}${duration ? `, after ${duration}` : ''}`
          : '') +
        `\nRun ${run.run_id}`,
      duration,
      error: run.status === 'failed' ? run.error || 'failed without saying why' : null,
      version: run.source_version_id
        ? { versionId: run.source_version_id, id: this.host.shortId(run.source_version_id) }
        : null,
      parameters: formatParameters(run.parameters),
      parametersTitle: parameters.length
        ? parameters.map(([name, value]) => `${name} = ${parameterValue(value)}`).join('\n')
        : 'No parameters: the notebook ran with its own defaults',
      origin: describeOrigin(run),
      airflowUrl: run.airflow_url || null,
      viewerUrl: run.viewer_url || null,
      hasOutput: hasOutput(run),
      selected: this._selected.includes(run.run_id)
    };
  }

  /** A run in words, as tabs and comparisons name it: `run of 2026-11-26 14:03:12 (version 6714a900…)`. */
  describe(run: IRun): string {
    return `run of ${formatTime(run.started_at)} (version ${this.host.shortId(run.source_version_id)})`;
  }

  /** Whether `action` is offered for `run` (a menu hides the others). */
  isAvailable(action: RunAction, run: IRun | undefined): boolean {
    switch (action) {
      case 'comparePrevious':
        return this.host.canCompare;
      case 'openAirflow':
        return !!run?.airflow_url;
      case 'openViewer':
        return !!run?.viewer_url;
      default:
        return true;
    }
  }

  /** Whether `action` can run now on that run: one opening or comparison at a time, on a stored notebook. */
  isEnabled(action: RunAction, runId: string | null): boolean {
    const run = this.run(runId);
    if (this.host.path === null || run === undefined || !this.isAvailable(action, run)) {
      return false;
    }
    if (action === 'open' && !hasOutput(run)) {
      return false;
    }
    if (action === 'comparePrevious') {
      // An earlier run may still be on a page not loaded yet.
      const earlier = previousRun(this.runs, run) !== undefined || this.list.state.nextCursor !== null;
      if (!hasOutput(run) || !earlier) {
        return false;
      }
    }
    return IMMEDIATE.has(action) || this.host.busy === null;
  }

  /** Run `action` on a listed run, showing that it is busy and then its outcome. */
  async perform(actions: IRunActions, action: RunAction, runId: string): Promise<void> {
    const path = this.host.path;
    const run = this.run(runId);
    if (path === null || run === undefined || !this.isEnabled(action, runId)) {
      return;
    }
    const act = (): Promise<Outcome> => {
      switch (action) {
        case 'open':
          return actions.open(path, run);
        case 'comparePrevious':
          return this.compareWithPrevious(actions, path, run);
        case 'openAirflow':
          return actions.openLink(run.airflow_url as string);
        case 'openViewer':
          return actions.openLink(run.viewer_url as string);
        case 'copyRunId':
          return actions.copyRunId(run);
      }
    };
    if (IMMEDIATE.has(action)) {
      await this.host.runAtOnce(act);
      return;
    }
    await this.host.run(withEllipsis(`${ONGOING[action]} the ${this.describe(run)}`), act);
  }

  /** Compare `run` with the run before it, loading older pages until one is found. */
  private async compareWithPrevious(actions: IRunActions, path: string, run: IRun): Promise<Outcome> {
    let previous = previousRun(this.runs, run);
    while (previous === undefined && this.list.state.nextCursor !== null && this.list.state.path === path) {
      const before = this.runs.length;
      await this.list.loadMore();
      if (this.list.state.error) {
        throw this.list.state.error;
      }
      if (this.runs.length === before) {
        break;
      }
      previous = previousRun(this.runs, run);
    }
    if (previous === undefined) {
      return {
        level: 'info',
        text: `No run before the ${this.describe(run)} has an executed notebook to compare with.`
      };
    }
    return actions.compare(path, previous, run);
  }

  /** The chosen runs still listed. */
  private chosen(): IRun[] {
    return this._selected.map(id => this.run(id)).filter((run): run is IRun => run !== undefined);
  }

  private _selected: string[] = [];
}
