/**
 * What the Published notebooks panel shows and does, apart from how it looks: the team's
 * published notebooks a page at a time, the filter over owner and path, the groups by owner,
 * each row's text, and the action under way with its outcome.
 *
 * The panel (catalog-panel.tsx) renders it and the catalog commands (catalog-commands.ts) call
 * it. It imports no JupyterLab widget, so that the unit tests run it in Node.
 */
import { BookstoreClient, ICatalogEntry, ISchedule, IStatus, ListedSchedule, isBroken } from './api';
import { describeSchedule, shortSchedule } from './cron';
import { baseName, formatAge, formatSize, formatTime, uniqueShortIds, withEllipsis } from './format';
import { IPagingState, PagedList, mergeNew } from './paged';
import { Outcome, PanelModelBase } from './panel-model';

/** A page of the catalog: a team's publications fill a few pages, a large one many. */
export const CATALOG_PAGE_SIZE = 100;

/** What the extension does with a published notebook: dialogs, tabs and the clipboard (catalog-actions.ts). */
export interface ICatalogActions {
  /** Open the listed version read-only. */
  open(entry: ICatalogEntry): Promise<Outcome>;
  /** Copy it into the user's own files and open the copy (asks on a name taken). */
  copy(entry: ICatalogEntry): Promise<Outcome>;
  /** Compare it with one of the user's notebooks (asks which). */
  compare(entry: ICatalogEntry): Promise<Outcome>;
  copyKey(entry: ICatalogEntry): Promise<Outcome>;
  copyId(entry: ICatalogEntry): Promise<Outcome>;
  copySnippet(entry: ICatalogEntry): Promise<Outcome>;
  /** Who published it and when, its keys and version, in a dialog. */
  details(entry: ICatalogEntry): Promise<Outcome>;
}

/** The things a person can do with one listed notebook. */
export type CatalogAction = keyof ICatalogActions;

/** Actions done at once, or in a dialog of their own: they need not wait for a copy or a comparison. */
const IMMEDIATE: ReadonlySet<CatalogAction> = new Set(['copyKey', 'copyId', 'copySnippet', 'details']);

const ONGOING: Partial<Record<CatalogAction, string>> = {
  open: 'Opening',
  copy: 'Copying',
  compare: 'Comparing'
};

/** Whether the server lists a catalog: unknown until its status answers; older servers do not. */
export type CatalogAvailability = 'unknown' | 'available' | 'unavailable';

/** The listed notebooks; `loaded` also once the status said there is no catalog. */
export interface ICatalogState extends IPagingState {
  entries: ICatalogEntry[];
}

/** One owner's notebooks, as listed under the owner's name. */
export interface ICatalogGroup {
  owner: string | null;
  /** The owner's name; `Unknown owner` when the published prefix names no user. */
  label: string;
  /** The user's own publications. */
  mine: boolean;
  collapsed: boolean;
  entries: ICatalogEntry[];
}

/** One published notebook as its row shows it. */
export interface ICatalogRow {
  notebookKey: string;
  /**
   * Its path in its owner's notebooks, `analysis/mine.ipynb` (see {@link originalPath}): what
   * the row shows, in full, wrapping at its slashes; the whole notebook_key is its tooltip.
   */
  path: string;
  /** The path's folders, `analysis/`, shown before the name. */
  folder: string;
  name: string;
  owner: string | null;
  /** When it was published, in local time, and how long ago. */
  time: string;
  age: string;
  /** The time's tooltip: who published it and when, in full. */
  timeTitle: string;
  versionId: string | null;
  /** The shortest prefix telling its version apart from the other versions listed. */
  id: string;
  size: string;
  /** Who published it when that is not its owner (an administrator, say); else null. */
  publishedBy: string | null;
  /** `scheduled: daily 06:00` when Airflow runs it on an enabled schedule; else null. */
  scheduled: string | null;
  /** Its schedules in full, one a line, for a tooltip. */
  scheduledTitle: string;
}

/** The enabled schedules of the team by notebook_key, each notebook's by name. */
export function schedulesByNotebook(listed: readonly ListedSchedule[]): Map<string, ISchedule[]> {
  const found = new Map<string, ISchedule[]>();
  for (const entry of listed) {
    if (isBroken(entry) || !entry.enabled) {
      continue;
    }
    found.set(entry.notebook_key, [...(found.get(entry.notebook_key) ?? []), entry]);
  }
  for (const schedules of found.values()) {
    schedules.sort((a, b) => a.name.localeCompare(b.name));
  }
  return found;
}

/** A notebook's schedules in a few words: `scheduled: daily 06:00, Mondays 07:30`; null when none. */
export function describeScheduled(schedules: readonly ISchedule[] | undefined): string | null {
  if (!schedules?.length) {
    return null;
  }
  const shown = schedules.slice(0, 2).map(shortSchedule);
  const more = schedules.length > 2 ? ` and ${schedules.length - 2} more` : '';
  return `scheduled: ${shown.join(', ')}${more}`;
}

/** Whether every word of `filter` is in the entry's owner or notebook_key (case does not matter). */
export function matchesFilter(entry: ICatalogEntry, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const text = `${entry.owner ?? ''} ${entry.notebook_key}`.toLowerCase();
  return words.every(word => text.includes(word));
}

/** Append `page` to `entries`, leaving out notebooks already listed (pages may overlap). */
export function mergeEntries(entries: ICatalogEntry[], page: ICatalogEntry[]): ICatalogEntry[] {
  return mergeNew(entries, page, entry => entry.key);
}

/**
 * The path a published notebook had in its owner's notebooks: its key under its owner's
 * published prefix, `analysis/mine.ipynb` for `published/alice/notebooks/analysis/mine.ipynb`.
 *
 * Every owner's published prefix has the shape of this server's (`publishedPrefix`, e.g.
 * `published/bob/notebooks`), with the owner's name where this server's owner (`username`)
 * or `{username}` is; a key of another shape (another server's layout) gives its file name.
 */
export function originalPath(
  entry: ICatalogEntry,
  publishedPrefix: string | null | undefined,
  username: string | null | undefined
): string {
  const prefix = (publishedPrefix ?? '').split('/').filter(Boolean);
  const key = entry.key.split('/');
  const ownerAt = (segment: string) => segment === '{username}' || (!!username && segment === username);
  const fits =
    prefix.length > 0 &&
    key.length > prefix.length &&
    prefix.every((segment, index) =>
      key[index] === segment || (ownerAt(segment) && entry.owner !== null && key[index] === entry.owner)
    );
  return fits ? key.slice(prefix.length).join('/') : baseName(entry.notebook_key);
}

/** A listed notebook by its file name and owner: `mine.ipynb (alice)`. */
export function entryName(entry: ICatalogEntry): string {
  const name = baseName(entry.notebook_key);
  return entry.owner ? `${name} (${entry.owner})` : name;
}

/** What the panel says while `action` runs on a notebook: `Copying mine.ipynb…`. */
export function catalogBusyLabel(action: CatalogAction, notebookKey: string): string {
  return withEllipsis(`${ONGOING[action] ?? 'Working on'} ${baseName(notebookKey)}`);
}

/** The state the Published notebooks panel renders. */
export class CatalogModel extends PanelModelBase {
  constructor(
    readonly client: Pick<BookstoreClient, 'status' | 'catalog'> & Partial<Pick<BookstoreClient, 'teamSchedules'>>,
    private readonly pageSize: number = CATALOG_PAGE_SIZE
  ) {
    super();
  }

  get state(): Readonly<ICatalogState> {
    return this._pages.state;
  }

  get status(): IStatus | null {
    return this._status;
  }

  get availability(): CatalogAvailability {
    if (this._status === null) {
      return 'unknown';
    }
    return this._status.features.includes('catalog') ? 'available' : 'unavailable';
  }

  /** Comparing needs nbdime on the server; until the status answers, assume it is there. */
  get canCompare(): boolean {
    return this._status === null || this._status.features.includes('diff');
  }

  /** The filter's text: words that the owner or notebook_key must all contain. */
  get filter(): string {
    return this._filter;
  }

  set filter(filter: string) {
    if (filter === this._filter) {
      return;
    }
    this._filter = filter;
    this.changed();
  }

  /**
   * The catalog may have changed (the user published): list it again now if the panel is
   * shown, else when it is shown next.
   */
  markStale(): void {
    this._stale = true;
    if (this._visible) {
      void this.refresh();
    }
  }

  /** List the catalog unless it is listed and up to date: when the panel is shown. */
  async refreshIfStale(): Promise<void> {
    if ((!this.state.loaded || this._stale) && !this.state.loading) {
      await this.refresh();
    }
  }

  /** Ask the server whether it has a catalog, then list its first page again. */
  async refresh(): Promise<void> {
    this._stale = false;
    await this._pages.reload(
      async current => {
        const status = await this.client.status();
        if (!current()) {
          return null;
        }
        this._status = status;
        if (this.availability !== 'available') {
          return { notebooks: [], next_cursor: null };
        }
        const [page] = await Promise.all([this.client.catalog({ limit: this.pageSize }), this.loadSchedules()]);
        return page;
      },
      page => ({ entries: page.notebooks })
    );
  }

  /** The team's enabled schedules by notebook_key, as last listed. */
  get schedules(): ReadonlyMap<string, readonly ISchedule[]> {
    return this._schedules;
  }

  /**
   * List the team's schedules, when the server has them. The catalog lists its notebooks
   * without them when that fails: the schedules are a note beside each.
   */
  private async loadSchedules(): Promise<void> {
    if (!this._status?.features.includes('schedules') || !this.client.teamSchedules) {
      this._schedules = new Map();
      return;
    }
    try {
      this._schedules = schedulesByNotebook((await this.client.teamSchedules()).schedules);
    } catch {
      // Kept as last listed.
    }
  }

  /** Load the page after the last one loaded; nothing when on the last page or busy. */
  async loadMore(): Promise<void> {
    await this._pages.loadMore(
      cursor => this.client.catalog({ limit: this.pageSize, cursor }),
      (state, page) => ({ entries: mergeEntries(state.entries, page.notebooks) })
    );
  }

  /** The listed notebook with this notebook_key. */
  entry(notebookKey: string): ICatalogEntry | undefined {
    return this.state.entries.find(entry => entry.notebook_key === notebookKey);
  }

  /** The listed notebooks that the filter lets through. */
  get shown(): ICatalogEntry[] {
    return this.state.entries.filter(entry => matchesFilter(entry, this._filter));
  }

  /**
   * Whether a notebook is the user's own: its owner is the server's owner, or (from a server
   * that does not say who owns it) its key is under the server's published prefix.
   */
  isMine(entry: ICatalogEntry): boolean {
    const username = this._status?.username;
    if (username) {
      return entry.owner === username;
    }
    const prefix = (this._status?.published_prefix ?? '').replace(/\/+$/, '');
    // A prefix still holding `{username}` (an older server's status) names nobody.
    return prefix !== '' && !prefix.includes('{') && entry.key.startsWith(`${prefix}/`);
  }

  /**
   * Where the notebook was in its owner's notebooks (`analysis/mine.ipynb`): where a copy of
   * it goes in the user's own (see {@link originalPath}).
   */
  originalPath(entry: ICatalogEntry): string {
    return originalPath(entry, this._status?.published_prefix, this._status?.username);
  }

  /** The shown notebooks by owner, owners in alphabetical order, each owner's by notebook_key. */
  groups(): ICatalogGroup[] {
    const byOwner = new Map<string | null, ICatalogEntry[]>();
    for (const entry of this.shown) {
      const list = byOwner.get(entry.owner) ?? [];
      list.push(entry);
      byOwner.set(entry.owner, list);
    }
    const owners = [...byOwner.keys()].sort((a, b) =>
      a === null ? 1 : b === null ? -1 : a.localeCompare(b)
    );
    return owners.map(owner => {
      const entries = (byOwner.get(owner) as ICatalogEntry[]).sort((a, b) =>
        a.notebook_key.localeCompare(b.notebook_key)
      );
      return {
        owner,
        label: owner ?? 'Unknown owner',
        mine: entries.some(entry => this.isMine(entry)),
        collapsed: this._collapsed.has(owner ?? ''),
        entries
      };
    });
  }

  /** Fold or unfold an owner's notebooks. */
  toggleGroup(owner: string | null): void {
    const key = owner ?? '';
    if (!this._collapsed.delete(key)) {
      this._collapsed.add(key);
    }
    this.changed();
  }

  /** How many notebooks are listed and shown: `12 notebooks by 3 people`, `2 of 12 loaded match`. */
  summary(): string | null {
    const { entries, nextCursor, loaded } = this.state;
    if (!loaded || entries.length === 0) {
      return null;
    }
    const more = nextCursor !== null ? ' (more on the server)' : '';
    if (this._filter.trim()) {
      return `${this.shown.length} of ${entries.length} loaded match${more}`;
    }
    const owners = new Set(entries.map(entry => entry.owner)).size;
    const notebooks = `${entries.length} notebook${entries.length === 1 ? '' : 's'}`;
    return `${notebooks} by ${owners} ${owners === 1 ? 'person' : 'people'}${more}`;
  }

  /**
   * How a version id is shown: its shortest prefix that no other listed version id starts
   * with; an id not listed is told apart from those that are.
   */
  shortId(versionId: string | null): string {
    if (!versionId) {
      return 'null';
    }
    const shown = this.listedShortIds();
    return shown.get(versionId) ?? (uniqueShortIds([...shown.keys(), versionId]).get(versionId) as string);
  }

  /** A notebook's row: its key, when and by whom it was published, its short version id and size. */
  row(entry: ICatalogEntry, now: number = Date.now()): ICatalogRow {
    const path = this.originalPath(entry);
    const slash = path.lastIndexOf('/') + 1;
    const publisher = entry.published_by || entry.owner;
    const age = formatAge(entry.last_modified, now);
    const schedules = this._schedules.get(entry.notebook_key);
    return {
      notebookKey: entry.notebook_key,
      path,
      folder: path.slice(0, slash),
      name: path.slice(slash),
      owner: entry.owner,
      time: formatTime(entry.last_modified),
      age,
      timeTitle:
        `Published ${formatTime(entry.last_modified)}` +
        (publisher ? ` by ${publisher}` : '') +
        (age ? ` (${age})` : ''),
      versionId: entry.version_id,
      id: this.shortId(entry.version_id),
      size: formatSize(entry.size),
      publishedBy: entry.published_by && entry.published_by !== entry.owner ? entry.published_by : null,
      scheduled: describeScheduled(schedules),
      scheduledTitle: (schedules ?? [])
        .map(schedule => `${schedule.name}: runs ${schedule.description || describeSchedule(schedule)}`)
        .join('\n')
    };
  }

  /**
   * The listed version in words, as dialogs and views name it: `published version of
   * 2026-11-26 14:03:12 by alice (6714a900…)`.
   */
  describe(entry: ICatalogEntry): string {
    const publisher = entry.published_by || entry.owner;
    return (
      `published version of ${formatTime(entry.last_modified)}` +
      (publisher ? ` by ${publisher}` : '') +
      ` (${this.shortId(entry.version_id)})`
    );
  }

  /** Whether `action` is offered at all (a menu hides the others). */
  isAvailable(action: CatalogAction): boolean {
    return action !== 'compare' || this.canCompare;
  }

  /** Whether `action` can run now on that notebook: one copy or comparison at a time. */
  isEnabled(action: CatalogAction, notebookKey: string | null): boolean {
    const entry = notebookKey === null ? undefined : this.entry(notebookKey);
    if (entry === undefined || !this.isAvailable(action)) {
      return false;
    }
    if (action === 'copyId' && !entry.version_id) {
      // An unversioned bucket: there is no id to pin.
      return false;
    }
    return IMMEDIATE.has(action) || this._busy === null;
  }

  /** Run `action` on a listed notebook, showing that it is busy and then its outcome. */
  async perform(actions: ICatalogActions, action: CatalogAction, notebookKey: string): Promise<void> {
    const entry = this.entry(notebookKey);
    if (entry === undefined || !this.isEnabled(action, notebookKey)) {
      return;
    }
    const run = () => actions[action](entry);
    if (IMMEDIATE.has(action)) {
      // Not shown as busy: done at once, or in a dialog that says what is going on.
      await this.runAtOnce(run);
      return;
    }
    await this.run(catalogBusyLabel(action, notebookKey), run);
  }

  /** The short ids of the listed versions, computed again only when the list changed. */
  private listedShortIds(): Map<string, string> {
    const entries = this.state.entries;
    if (this._shortIds?.entries !== entries) {
      this._shortIds = { entries, shown: uniqueShortIds(entries.map(entry => entry.version_id)) };
    }
    return this._shortIds.shown;
  }

  private readonly _pages = new PagedList<ICatalogState>(
    { entries: [], nextCursor: null, loading: false, loaded: false, error: null },
    () => this.changed()
  );
  private _status: IStatus | null = null;
  private _schedules: ReadonlyMap<string, readonly ISchedule[]> = new Map();
  private _filter = '';
  private _stale = false;
  private readonly _collapsed = new Set<string>();
  private _shortIds: { entries: readonly ICatalogEntry[]; shown: Map<string, string> } | null = null;
}
