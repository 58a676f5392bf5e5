/**
 * What the Version history panel shows and does, apart from how it looks: which notebook, its
 * two histories, its runs (runs-model.ts) and its schedules (schedules-model.ts), the archive's
 * health, the action under way and its outcome, and each row's text.
 *
 * The panel (panel.tsx) renders it and the version commands (commands.ts) call it. It imports
 * no JupyterLab widget, so that the unit tests run it in Node.
 */
import { BookstoreClient, IRun, IStatus, IVersion, Stage } from './api';
import { waitUntilArchived } from './archive';
import {
  formatAge,
  formatDay,
  formatSize,
  formatTime,
  uniqueShortIds,
  uploadHint,
  versionTime,
  withEllipsis
} from './format';
import { VersionHistory } from './history';
import { Outcome, PanelModelBase } from './panel-model';
import { RunsModel } from './runs-model';
import { SchedulesClient, SchedulesModel } from './schedules-model';

export { settleOutcome } from './panel-model';
export type { Outcome } from './panel-model';

/** What the extension does with a version: dialogs, tabs and the clipboard (actions.ts). */
export interface IVersionActions {
  open(path: string, stage: Stage, version: IVersion): Promise<Outcome>;
  restoreCopy(path: string, stage: Stage, version: IVersion): Promise<Outcome>;
  restoreOverwrite(path: string, stage: Stage, version: IVersion): Promise<Outcome>;
  publishVersion(path: string, version: IVersion): Promise<Outcome>;
  /** Compare the version with the saved notebook or another version (asks which). */
  compare(path: string, stage: Stage, version: IVersion): Promise<Outcome>;
  copyId(version: IVersion): Promise<Outcome>;
}

/** The things a person can do with one listed version. */
export type VersionAction = 'open' | 'compare' | 'restoreCopy' | 'restoreOverwrite' | 'publish' | 'copyId';

const ONGOING: Record<VersionAction, string> = {
  open: 'Opening',
  compare: 'Comparing',
  restoreCopy: 'Restoring',
  restoreOverwrite: 'Restoring',
  publish: 'Publishing',
  copyId: 'Copying'
};

/** What the panel says while `action` runs on the version shown as `id`: `Comparing 6713fada…`. */
export function busyLabel(action: VersionAction, id: string): string {
  return withEllipsis(`${ONGOING[action]} ${id}`);
}

/** One version as its row shows it. */
export interface IVersionRow {
  versionId: string | null;
  /** When it was saved (or published), in local time: `2026-11-26 14:03:12`. */
  time: string;
  /** The same as its day (`Today`, `2026-11-26`) and its time of day, which a narrow panel must not cut off. */
  date: string;
  clock: string;
  /** The time's tooltip: saved and uploaded, in full. */
  timeTitle: string;
  age: string;
  size: string;
  /** The shortest prefix telling it apart from the other versions listed. */
  id: string;
  /** `uploaded 15:20` when it reached the bucket a minute or more after it was saved; else null. */
  uploaded: string | null;
  /** What "latest" means in this stage, when the version is the latest; else null. */
  latest: string | null;
  /** A published version's save, as `versionId` and its short id. */
  source: { versionId: string; id: string } | null;
  /** The save a publication came from, just pointed out. */
  highlighted: boolean;
}

/** The panel's tabs: a stage's versions, the runs of the published versions, or its schedules. */
export type HistoryTab = Stage | 'runs' | 'schedules';

export const HISTORY_TABS: readonly HistoryTab[] = ['workspace', 'published', 'runs', 'schedules'];

/** The tabs that list something other than versions, and the server feature each needs. */
const FEATURE_TABS: Partial<Record<HistoryTab, string>> = { runs: 'runs', schedules: 'schedules' };

function isStage(tab: HistoryTab): tab is Stage {
  return tab === 'workspace' || tab === 'published';
}

/** The state the panel renders: which notebook, its two histories and its runs, health and the last outcome. */
export class HistoryModel extends PanelModelBase {
  constructor(readonly client: Pick<BookstoreClient, 'versions' | 'status' | 'runs'> & SchedulesClient) {
    super();
    const changed = () => this.changed();
    this.histories = {
      workspace: new VersionHistory(client, 'workspace', changed),
      published: new VersionHistory(client, 'published', changed)
    };
    this.runs = new RunsModel(client, this, changed);
    this.schedules = new SchedulesModel(client, this, changed);
  }

  readonly histories: Record<Stage, VersionHistory>;

  /** The runs of the notebook's published versions. */
  readonly runs: RunsModel;

  /** The notebook's schedules. */
  readonly schedules: SchedulesModel;

  /** The runs listed in the Runs tab, newest first: a schedule's last run is among them. */
  get listedRuns(): readonly IRun[] {
    return this.runs.runs;
  }

  /** Show the Runs tab with a run just asked for (Run now) at its top. */
  async showQueuedRun(run: IRun): Promise<void> {
    const list = this.runs.list;
    this.tab = 'runs';
    if (list.state.loaded && !list.state.loading) {
      await list.refreshNewest();
    } else {
      await list.reload();
    }
    if (run.request_id && !list.find(run.run_id)) {
      // Listed at the next poll otherwise.
      await list.refreshNewest();
    }
  }

  get path(): string | null {
    return this._path;
  }

  /** The tab shown. */
  get tab(): HistoryTab {
    return this._tab;
  }

  set tab(tab: HistoryTab) {
    if (tab === this._tab || !this.tabs.includes(tab)) {
      return;
    }
    this._tab = tab;
    if (isStage(tab)) {
      this._lastStage = tab;
    }
    if (this._visible && this._path !== null) {
      this.loadIfNeeded(tab);
    }
    this.changed();
  }

  /**
   * The tabs offered: Runs and Schedules only when the server lists them (until its status
   * answers, assume it does).
   */
  get tabs(): readonly HistoryTab[] {
    return HISTORY_TABS.filter(tab => {
      const feature = FEATURE_TABS[tab];
      return feature === undefined || this._status === null || this._status.features.includes(feature);
    });
  }

  /** The stage whose versions are shown, or were last (while the Runs or Schedules tab is shown). */
  get stage(): Stage {
    return isStage(this._tab) ? this._tab : this._lastStage;
  }

  set stage(stage: Stage) {
    this.tab = stage;
  }

  /** Whether the server lists the runs of published versions; until its status answers, assume it does. */
  get canListRuns(): boolean {
    return this._status === null || this._status.features.includes('runs');
  }

  get status(): IStatus | null {
    return this._status;
  }

  get statusError(): unknown {
    return this._statusError;
  }

  /** The version id to point out in the list (the save a publication came from). */
  get highlighted(): string | null {
    return this._highlighted;
  }

  /** Comparing needs nbdime on the server; until the status answers, assume it is there. */
  get canCompare(): boolean {
    return this._status === null || this._status.features.includes('diff');
  }

  /** True once for the version just pointed out: the list scrolls to it, then leaves scrolling to you. */
  takeScroll(versionId: string | null): boolean {
    if (versionId === null || versionId !== this._scrollTo) {
      return false;
    }
    this._scrollTo = null;
    return true;
  }

  /**
   * How a version id is shown: its shortest prefix that no other listed id (in either stage,
   * or named as a publication's source) starts with. One id thus reads the same in both tabs,
   * in a publication's "from save" and in a comparison; an id not listed is told apart from
   * those that are.
   */
  shortId(versionId: string | null): string {
    if (!versionId) {
      return 'null';
    }
    const shown = this.listedShortIds();
    return shown.get(versionId) ?? (uniqueShortIds([...shown.keys(), versionId]).get(versionId) as string);
  }

  /** The listed version of `stage` with this id. */
  version(stage: Stage, versionId: string | null): IVersion | undefined {
    return this.histories[stage].find(versionId);
  }

  /** A version's row: its time (when saved), short id, size, and whether it is the latest. */
  row(stage: Stage, version: IVersion, now: number = Date.now()): IVersionRow {
    const time = versionTime(version);
    const uploaded = uploadHint(version);
    const source = stage === 'published' ? version.source_version_id : null;
    return {
      versionId: version.version_id,
      time: formatTime(time),
      date: formatDay(time, now),
      clock: formatTime(time).slice(11),
      timeTitle:
        `${stage === 'published' ? 'Published' : 'Saved'} ${formatTime(time)}` +
        (version.saved_at ? `\nUploaded to the bucket ${formatTime(version.last_modified)}` : ''),
      age: formatAge(time, now),
      size: formatSize(version.size),
      id: this.shortId(version.version_id),
      uploaded,
      latest: version.is_latest
        ? stage === 'published'
          ? 'The latest published version: what a DAG that does not pin a version runs'
          : 'The latest archived save'
        : null,
      source: source ? { versionId: source, id: this.shortId(source) } : null,
      highlighted: version.version_id !== null && version.version_id === this._highlighted
    };
  }

  /** Whether `action` is offered for versions of `stage` at all (a menu hides the others). */
  isAvailable(action: VersionAction, stage: Stage): boolean {
    if (action === 'publish') {
      // A publication is published already; publishing a save is what makes one.
      return stage === 'workspace';
    }
    return action !== 'compare' || this.canCompare;
  }

  /** Whether `action` can run now on that version: one action at a time, and only on a stored version. */
  isEnabled(action: VersionAction, stage: Stage, versionId: string | null): boolean {
    const listed = versionId !== null && this.version(stage, versionId) !== undefined;
    if (this._path === null || !listed || !this.isAvailable(action, stage)) {
      return false;
    }
    // Copying an id touches nothing: it needs not wait for a restore or a comparison.
    return action === 'copyId' || this._busy === null;
  }

  /** Run `action` on a listed version, showing that it is busy and then its outcome. */
  async perform(
    actions: IVersionActions,
    action: VersionAction,
    stage: Stage,
    versionId: string | null
  ): Promise<void> {
    const path = this._path;
    const version = this.version(stage, versionId);
    if (path === null || version === undefined || !this.isEnabled(action, stage, versionId)) {
      return;
    }
    const run = (): Promise<Outcome> => {
      switch (action) {
        case 'open':
          return actions.open(path, stage, version);
        case 'compare':
          return actions.compare(path, stage, version);
        case 'restoreCopy':
          return actions.restoreCopy(path, stage, version);
        case 'restoreOverwrite':
          return actions.restoreOverwrite(path, stage, version);
        case 'publish':
          return actions.publishVersion(path, version);
        case 'copyId':
          return actions.copyId(version);
      }
    };
    if (action === 'copyId') {
      // Not shown as busy: it is done at once, and may run while a dialog is open.
      await this.runAtOnce(run);
      return;
    }
    await this.run(busyLabel(action, this.shortId(versionId)), run);
  }

  /** Show the save that a published version was published from. */
  async showSource(sourceVersionId: string): Promise<void> {
    this._highlighted = sourceVersionId;
    this._scrollTo = sourceVersionId;
    const history = this.histories.workspace;
    // Started before switching tabs, so that the switch does not list the saves a second time.
    const loading = history.state.loaded ? Promise.resolve() : history.reload();
    this.stage = 'workspace';
    await loading;
    if (this._highlighted !== sourceVersionId) {
      return;
    }
    const listed = history.find(sourceVersionId) !== undefined;
    this._notice =
      listed || history.state.error
        ? null
        : {
            level: 'info',
            text:
              `Save ${this.shortId(sourceVersionId)} is older than the saves listed: ` +
              'use Load more to reach it.'
          };
    this.changed();
  }

  /**
   * Show the versions of the notebook at `path` (a path on the Jupyter server), or none. A
   * hidden panel lists nothing (switching notebooks would otherwise ask the bucket each time): showing
   * it refreshes.
   */
  setPath(path: string | null): void {
    if (path === this._path) {
      return;
    }
    this._path = path;
    this._notice = null;
    this._highlighted = null;
    for (const history of Object.values(this.histories)) {
      history.setPath(path);
    }
    this.runs.setPath(path);
    this.schedules.setPath(path);
    this.changed();
    if (path !== null && this._visible) {
      this.loadIfNeeded(this._tab);
    }
  }

  /** Reload the health and both stages' first pages, and the runs and schedules when they were listed. */
  async refresh(): Promise<void> {
    const runs = this.runs.list;
    const schedules = this.schedules.list;
    const shown = (tab: HistoryTab) => this._tab === tab || (tab === 'runs' && this._tab === 'schedules');
    await Promise.all([
      this.refreshStatus(),
      this.histories.workspace.reload(),
      this.histories.published.reload(),
      // Runs cost a request per run record: listed when their tab (or Schedules, which shows
      // each schedule's last run) is shown.
      shown('runs') || runs.state.loaded ? runs.reload() : undefined,
      shown('schedules') || schedules.state.loaded ? this.schedules.reload() : undefined
    ]);
  }

  async refreshStatus(): Promise<void> {
    try {
      this._status = await this.client.status();
      this._statusError = null;
    } catch (error) {
      this._statusError = error;
    }
    if (!this.tabs.includes(this._tab)) {
      // An older server: no runs or schedules to show.
      this._tab = this._lastStage;
    }
    this.changed();
  }

  /**
   * While the Runs or Schedules tab is shown: list the newest runs again when one is queued or
   * running (to see it start and end) or none is listed yet (to see the first start). The panel
   * calls it now and then.
   */
  async pollRuns(): Promise<void> {
    const list = this.runs.list;
    const waiting =
      list.state.items.length === 0 ||
      list.state.items.some(run => run.status === 'running' || run.status === 'queued');
    if (this._visible && (this._tab === 'runs' || this._tab === 'schedules') && waiting) {
      await list.refreshNewest();
    }
  }

  /** After a save: wait (bounded) for it to reach the bucket, then list the saves again. */
  async refreshAfterSave(): Promise<void> {
    if (!this._visible) {
      // Listed afresh when the panel is shown.
      return;
    }
    try {
      this._status = await waitUntilArchived(this.client);
      this._statusError = null;
    } catch (error) {
      this._statusError = error;
    }
    this.changed();
    await this.histories.workspace.reload();
  }

  /** List what `tab` shows unless it is listed: the Schedules tab shows each schedule's last run too. */
  private loadIfNeeded(tab: HistoryTab): void {
    const lists: { state: { loaded: boolean; loading: boolean }; reload(): Promise<void> }[] =
      tab === 'runs'
        ? [this.runs.list]
        : tab === 'schedules'
          ? [this.schedules, this.runs.list]
          : [this.histories[tab]];
    for (const list of lists) {
      if (!list.state.loaded && !list.state.loading) {
        void list.reload();
      }
    }
  }

  /**
   * The short ids of every id listed (versions, the saves publications came from, the
   * versions runs ran), computed again only when a list changed.
   */
  private listedShortIds(): Map<string, string> {
    const workspace = this.histories.workspace.state.items;
    const published = this.histories.published.state.items;
    const runs = this.runs.runs;
    const cached = this._shortIds;
    if (cached && cached.workspace === workspace && cached.published === published && cached.runs === runs) {
      return cached.shown;
    }
    const shown = uniqueShortIds([
      ...[...workspace, ...published].flatMap(version => [version.version_id, version.source_version_id]),
      ...runs.map(run => run.source_version_id)
    ]);
    this._shortIds = { workspace, published, runs, shown };
    return shown;
  }

  private _path: string | null = null;
  private _tab: HistoryTab = 'workspace';
  private _lastStage: Stage = 'workspace';
  private _status: IStatus | null = null;
  private _statusError: unknown = null;
  private _highlighted: string | null = null;
  private _scrollTo: string | null = null;
  private _shortIds: {
    workspace: readonly IVersion[];
    published: readonly IVersion[];
    runs: readonly IRun[];
    shown: Map<string, string>;
  } | null = null;
}
