import { describe, expect, it } from 'vitest';

import { BookstoreApiError, ICatalogEntry, ICatalogPage, IStatus } from '../src/api';
import {
  CatalogModel,
  ICatalogActions,
  catalogBusyLabel,
  entryName,
  matchesFilter,
  originalPath
} from '../src/catalog-model';
import { formatTime } from '../src/format';
import { describeCatalogEmpty } from '../src/messages';
import { Outcome } from '../src/model';

// SeaweedFS-like ids: made from the time, so publications close together share long prefixes.
const V1 = '6714a8e1b2c3d4e5f6a7b8c9d0e1f2a3';
const V2 = '6714a8e1b2c3d4e5f6a7b8c9d0e1f9ff';
const V3 = '6714a9000000000000000000000000aa';

const entry = (notebookKey: string, overrides: Partial<ICatalogEntry> = {}): ICatalogEntry => {
  const owner = notebookKey.split('/')[0];
  return {
    key: `published/${notebookKey}`,
    notebook_key: notebookKey,
    owner,
    version_id: V3,
    last_modified: '2026-11-26T10:00:00+00:00',
    size: 1536,
    ...overrides
  };
};

const STATUS: IStatus = {
  version: '0',
  features: ['diff', 'catalog'],
  archiving: true,
  published_prefix: 'published/alice/notebooks'
};

/** A server holding the catalog (in key order), answering `pageSize` a page. */
class FakeServer {
  calls: (string | null | undefined)[] = [];
  statuses = 0;
  status_: IStatus = STATUS;
  failStatus: Error | null = null;
  failCatalog: Error | null = null;
  /** Answer only when released, to test answers that arrive late. */
  hold = false;
  private _pending: (() => void)[] = [];

  constructor(public listed: ICatalogEntry[]) {}

  release(): void {
    const pending = this._pending;
    this._pending = [];
    pending.forEach(resolve => resolve());
  }

  async status(): Promise<IStatus> {
    this.statuses += 1;
    if (this.failStatus) {
      throw this.failStatus;
    }
    return this.status_;
  }

  async catalog(options: { limit?: number; cursor?: string | null } = {}): Promise<ICatalogPage> {
    this.calls.push(options.cursor);
    const listed = this.listed;
    if (this.hold) {
      await new Promise<void>(resolve => this._pending.push(resolve));
    }
    if (this.failCatalog) {
      throw this.failCatalog;
    }
    const start = options.cursor ? Number(options.cursor) : 0;
    const end = start + (options.limit ?? 100);
    return {
      published_root: 'published',
      notebooks: listed.slice(start, end),
      next_cursor: end < listed.length ? String(end) : null
    };
  }
}

/** Actions that record what they were asked and answer `outcome`, or wait until released. */
class FakeActions implements ICatalogActions {
  done: string[] = [];
  outcome: Outcome | Error = null;
  hold = false;
  private _release: (() => void) | null = null;

  release(): void {
    this._release?.();
  }

  private async act(what: string, entry: ICatalogEntry): Promise<Outcome> {
    this.done.push(`${what} ${entry.notebook_key}`);
    if (this.hold) {
      await new Promise<void>(resolve => (this._release = resolve));
    }
    if (this.outcome instanceof Error) {
      throw this.outcome;
    }
    return this.outcome;
  }

  open = (entry: ICatalogEntry) => this.act('open', entry);
  copy = (entry: ICatalogEntry) => this.act('copy', entry);
  compare = (entry: ICatalogEntry) => this.act('compare', entry);
  copyKey = (entry: ICatalogEntry) => this.act('copy-key', entry);
  copyId = (entry: ICatalogEntry) => this.act('copy-id', entry);
  copySnippet = (entry: ICatalogEntry) => this.act('copy-snippet', entry);
  details = (entry: ICatalogEntry) => this.act('details', entry);
}

const TEAM = [
  entry('alice/notebooks/analysis/mine.ipynb', { version_id: V1 }),
  entry('alice/notebooks/report.ipynb', { version_id: V2 }),
  entry('bob/notebooks/Forecast.ipynb', { published_by: 'admin' }),
  entry('carol/notebooks/analysis/mine.ipynb', { version_id: null })
];

function setUp(listed: ICatalogEntry[] = TEAM, pageSize = 100) {
  const server = new FakeServer(listed);
  const model = new CatalogModel(server, pageSize);
  let changes = 0;
  model.stateChanged.connect(() => (changes += 1));
  return { server, model, changes: () => changes };
}

async function listed(entries: ICatalogEntry[] = TEAM) {
  const setup = setUp(entries);
  await setup.model.refresh();
  return setup;
}

describe('CatalogModel: loading', () => {
  it('lists the first page, then the next ones with Load more, each notebook once', async () => {
    const many = Array.from({ length: 5 }, (_, i) => entry(`alice/notebooks/n${i}.ipynb`));
    const { server, model } = setUp(many, 2);
    await model.refresh();
    expect(model.state.entries).toHaveLength(2);
    expect(model.summary()).toBe('2 notebooks by 1 person (more on the server)');
    // A page overlapping the one before (a notebook published meanwhile) lists nothing twice.
    server.listed = [many[0], ...many];
    await model.loadMore();
    await model.loadMore();
    expect(model.state.entries.map(e => e.notebook_key)).toEqual(many.map(e => e.notebook_key));
    expect(model.state.nextCursor).toBeNull();
    expect(server.calls).toEqual([undefined, '2', '4']);
    expect(model.summary()).toBe('5 notebooks by 1 person');
    // On the last page, there is nothing more to ask for.
    await model.loadMore();
    expect(server.calls).toHaveLength(3);
  });

  it('asks for nothing until shown, then lists once until something is published', async () => {
    const { server, model } = setUp();
    model.markStale();
    expect(server.statuses).toBe(0);
    model.visible = true;
    await model.refreshIfStale();
    await model.refreshIfStale();
    expect(server.calls).toEqual([undefined]);
    model.visible = false;
    model.markStale();
    expect(server.calls).toHaveLength(1);
    await model.refreshIfStale();
    expect(server.calls).toHaveLength(2);
  });

  it('says an older server has no catalog, and does not ask it for one', async () => {
    const { server, model } = setUp();
    expect(model.availability).toBe('unknown');
    server.status_ = { version: '0', features: ['diff'], archiving: true };
    await model.refresh();
    expect(model.availability).toBe('unavailable');
    expect(server.calls).toEqual([]);
    expect(model.state).toMatchObject({ loaded: true, loading: false, entries: [], error: null });
  });

  it('keeps what it failed to reach, to show with what to do', async () => {
    const { server, model } = setUp();
    server.failStatus = new BookstoreApiError(0, 'the Jupyter server could not be reached', 'NetworkError');
    await model.refresh();
    expect(model.state.error).toBe(server.failStatus);
    expect(model.state.loading).toBe(false);

    server.failStatus = null;
    server.failCatalog = new BookstoreApiError(503, 'S3 is down', 'StoreUnavailableError');
    await model.refresh();
    expect(model.availability).toBe('available');
    expect(model.state.error).toBe(server.failCatalog);

    server.failCatalog = null;
    await model.refresh();
    expect(model.state.error).toBeNull();
    expect(model.state.entries).toHaveLength(4);
  });

  it('keeps the notebooks listed when the next page fails', async () => {
    const { server, model } = setUp(TEAM, 2);
    await model.refresh();
    server.failCatalog = new BookstoreApiError(503, 'S3 is down', 'StoreUnavailableError');
    await model.loadMore();
    expect(model.state.entries).toHaveLength(2);
    expect(model.state.nextCursor).toBe('2');
    expect(model.state.error).toBe(server.failCatalog);
  });

  it('drops a page that answers after a refresh', async () => {
    const { server, model } = setUp(TEAM, 2);
    await model.refresh();
    server.hold = true;
    const more = model.loadMore();
    await new Promise(resolve => setTimeout(resolve, 0));
    server.listed = [entry('dave/notebooks/new.ipynb')];
    const again = model.refresh();
    await new Promise(resolve => setTimeout(resolve, 0));
    server.release();
    await Promise.all([more, again]);
    expect(model.state.entries.map(e => e.notebook_key)).toEqual(['dave/notebooks/new.ipynb']);
    expect(model.state.loading).toBe(false);
  });
});

describe('CatalogModel: filter and groups', () => {
  it('matches every word against the owner and the notebook_key, whatever the case', () => {
    const bob = TEAM[2];
    expect(matchesFilter(bob, '')).toBe(true);
    expect(matchesFilter(bob, 'BOB')).toBe(true);
    expect(matchesFilter(bob, 'forecast bob')).toBe(true);
    expect(matchesFilter(bob, 'forecast alice')).toBe(false);
    // Who published it is not what the filter is over.
    expect(matchesFilter(bob, 'admin')).toBe(false);
  });

  it('groups the shown notebooks by owner, in alphabetical order, and folds a group', async () => {
    const { model } = await listed([
      entry('bob/notebooks/b.ipynb'),
      entry('x/a.ipynb', { owner: null }),
      entry('alice/notebooks/z.ipynb'),
      entry('alice/notebooks/a.ipynb')
    ]);
    const groups = model.groups();
    expect(groups.map(g => [g.label, g.mine, g.entries.map(e => e.notebook_key)])).toEqual([
      ['alice', true, ['alice/notebooks/a.ipynb', 'alice/notebooks/z.ipynb']],
      ['bob', false, ['bob/notebooks/b.ipynb']],
      ['Unknown owner', false, ['x/a.ipynb']]
    ]);
    model.toggleGroup('bob');
    expect(model.groups().map(g => g.collapsed)).toEqual([false, true, false]);
    model.toggleGroup('bob');
    expect(model.groups()[1].collapsed).toBe(false);
  });

  it('filters, and counts what the filter lets through', async () => {
    const { model, changes } = await listed();
    const before = changes();
    model.filter = 'analysis/mine';
    expect(changes()).toBe(before + 1);
    expect(model.groups().map(g => g.owner)).toEqual(['alice', 'carol']);
    expect(model.summary()).toBe('2 of 4 loaded match');
    model.filter = 'nobody';
    expect(model.groups()).toEqual([]);
    model.filter = '';
    expect(model.summary()).toBe('4 notebooks by 3 people');
  });

  it('says why the list is empty: nothing published, or nothing matching so far', () => {
    expect(describeCatalogEmpty('  ', false)).toContain('Nobody on the team has published a notebook yet');
    expect(describeCatalogEmpty('bob', false)).toBe('No notebook has “bob” in its owner or path.');
    expect(describeCatalogEmpty('bob', true)).toBe(
      'No notebook loaded so far has “bob” in its owner or path: Load more to look further.'
    );
  });

  it("knows the user's own notebooks by the server's owner, or its published prefix", async () => {
    const { model, server } = await listed();
    expect(TEAM.map(e => model.isMine(e))).toEqual([true, true, false, false]);
    server.status_ = { ...STATUS, username: 'bob', published_prefix: 'published/bob/notebooks' };
    await model.refresh();
    expect(TEAM.map(e => model.isMine(e))).toEqual([false, false, true, false]);
    server.status_ = { ...STATUS, published_prefix: 'published/{username}/notebooks' };
    await model.refresh();
    expect(model.isMine(TEAM[0])).toBe(false);
  });
});

describe('CatalogModel: rows', () => {
  it('tells versions apart by the shortest unique prefix of the ids listed', async () => {
    const { model } = await listed();
    expect(model.shortId(V1)).toBe('6714a8e1b2c3d4e5f6a7b8c9d0e1f2…');
    expect(model.shortId(V2)).toBe('6714a8e1b2c3d4e5f6a7b8c9d0e1f9…');
    expect(model.shortId(V3)).toBe('6714a900…');
    expect(model.shortId('6714a900ff')).toBe('6714a900f…');
    expect(model.shortId(null)).toBe('null');
  });

  it('shows the key, when and by whom it was published, its short id and size', async () => {
    const { model } = await listed();
    const now = new Date('2026-11-26T13:00:00+00:00').getTime();
    const row = model.row(TEAM[0], now);
    expect(row).toMatchObject({
      notebookKey: 'alice/notebooks/analysis/mine.ipynb',
      path: 'analysis/mine.ipynb',
      folder: 'analysis/',
      name: 'mine.ipynb',
      owner: 'alice',
      time: formatTime(TEAM[0].last_modified),
      age: '3 h ago',
      id: '6714a8e1b2c3d4e5f6a7b8c9d0e1f2…',
      size: '1.5 KB',
      publishedBy: null
    });
    expect(row.timeTitle).toBe(`Published ${formatTime(TEAM[0].last_modified)} by alice (3 h ago)`);
    const bob = model.row(TEAM[2], now);
    expect(bob.publishedBy).toBe('admin');
    expect(bob.timeTitle).toContain('by admin');
    expect(model.row(entry('top.ipynb', { owner: null }), now)).toMatchObject({ folder: '', name: 'top.ipynb' });
  });

  it("shows each notebook's whole path in its owner's notebooks, readable in any panel width", async () => {
    const { model, server } = await listed();
    server.status_ = { ...STATUS, username: 'alice' };
    await model.refresh();
    const deep = entry('bob/notebooks/team/2026/q3/analysis/mine.ipynb');
    expect(model.row(deep)).toMatchObject({
      notebookKey: 'bob/notebooks/team/2026/q3/analysis/mine.ipynb',
      path: 'team/2026/q3/analysis/mine.ipynb',
      folder: 'team/2026/q3/analysis/',
      name: 'mine.ipynb'
    });
    expect(model.originalPath(deep)).toBe('team/2026/q3/analysis/mine.ipynb');
  });
});

describe('Where a published notebook was in its owner\'s notebooks', () => {
  const bobs = entry('bob/notebooks/analysis/mine.ipynb');

  it("is its key under its owner's published prefix, shaped as this server's", () => {
    expect(originalPath(bobs, 'published/alice/notebooks', 'alice')).toBe('analysis/mine.ipynb');
    expect(originalPath(bobs, 'published/{username}/notebooks', null)).toBe('analysis/mine.ipynb');
    expect(originalPath(bobs, '/published/alice/notebooks/', 'alice')).toBe('analysis/mine.ipynb');
    // One owner for all (the seed's static prefix): the key under it.
    const static_ = entry('kylek/notebooks/analysis/mine.ipynb', {
      key: 'published/kylek/notebooks/analysis/mine.ipynb',
      owner: null
    });
    expect(originalPath(static_, 'published/kylek/notebooks', 'root')).toBe('analysis/mine.ipynb');
  });

  it('is the file name when the key has another shape, or nothing tells whose prefix it is', () => {
    expect(originalPath(bobs, 'published/alice/notebooks', null)).toBe('mine.ipynb'); // an older server
    expect(originalPath(bobs, 'shared/alice/notebooks', 'alice')).toBe('mine.ipynb');
    expect(originalPath(bobs, 'published/alice/notebooks/analysis/mine.ipynb', 'alice')).toBe('mine.ipynb');
    expect(originalPath(bobs, undefined, 'alice')).toBe('mine.ipynb');
    expect(originalPath({ ...bobs, owner: null }, 'published/alice/notebooks', 'alice')).toBe('mine.ipynb');
  });

  it('names a version with its owner, time, publisher and short id', async () => {
    const { model } = await listed();
    expect(entryName(TEAM[2])).toBe('Forecast.ipynb (bob)');
    expect(entryName(entry('x/a.ipynb', { owner: null }))).toBe('a.ipynb');
    expect(model.describe(TEAM[2])).toBe(`published version of ${formatTime(TEAM[2].last_modified)} by admin (6714a900…)`);
  });

});

describe('CatalogModel: actions', () => {
  const ALICE = TEAM[0].notebook_key;
  const BOB = TEAM[2].notebook_key;
  const CAROL = TEAM[3].notebook_key;

  it('shows what is under way, then the outcome', async () => {
    const { model } = await listed();
    const actions = new FakeActions();
    actions.hold = true;
    actions.outcome = 'Copied Forecast.ipynb into Forecast.ipynb.';
    const running = model.perform(actions, 'copy', BOB);
    expect(model.busy).toBe('Copying Forecast.ipynb…');
    expect(catalogBusyLabel('compare', ALICE)).toBe('Comparing mine.ipynb…');
    actions.release();
    await running;
    expect(model.busy).toBeNull();
    expect(actions.done).toEqual([`copy ${BOB}`]);
    expect(model.notice).toEqual({ level: 'ok', text: 'Copied Forecast.ipynb into Forecast.ipynb.' });
  });

  it('shows a failure with what to do', async () => {
    const { model } = await listed();
    const actions = new FakeActions();
    actions.outcome = new BookstoreApiError(503, 'S3 is down: is the server running?', 'StoreUnavailableError');
    await model.perform(actions, 'open', ALICE);
    expect(model.notice?.level).toBe('error');
    expect(model.notice?.text).toContain('is the server running? Your notebooks are saved on this server');
  });

  it('runs one copy or comparison at a time, but copying a key or an id need not wait', async () => {
    const { model } = await listed();
    const slow = new FakeActions();
    slow.hold = true;
    const comparing = model.perform(slow, 'compare', ALICE);
    expect(model.isEnabled('open', BOB)).toBe(false);
    expect(model.isEnabled('copy', BOB)).toBe(false);
    for (const action of ['copyKey', 'copyId', 'copySnippet', 'details'] as const) {
      expect(model.isEnabled(action, BOB)).toBe(true);
    }
    const other = new FakeActions();
    other.outcome = `Copied notebook_key ${BOB} to the clipboard.`;
    await model.perform(other, 'open', BOB);
    await model.perform(other, 'copyKey', BOB);
    expect(other.done).toEqual([`copy-key ${BOB}`]);
    expect(model.notice?.text).toBe(`Copied notebook_key ${BOB} to the clipboard.`);
    expect(model.busy).toBe('Comparing mine.ipynb…');
    slow.release();
    await comparing;
    expect(model.isEnabled('open', BOB)).toBe(true);
  });

  it('offers comparing only with nbdime on the server, and a version id only when there is one', async () => {
    const { model, server } = await listed();
    expect(model.isAvailable('compare')).toBe(true);
    expect(model.isEnabled('copyId', CAROL)).toBe(false);
    expect(model.isEnabled('copySnippet', CAROL)).toBe(true);
    server.status_ = { ...STATUS, features: ['catalog'] };
    await model.refresh();
    expect(model.isAvailable('compare')).toBe(false);
    expect(model.isEnabled('compare', ALICE)).toBe(false);
  });

  it('does nothing with a notebook that is not listed', async () => {
    const { model } = await listed();
    const actions = new FakeActions();
    await model.perform(actions, 'open', 'gone/notebooks/x.ipynb');
    expect(actions.done).toEqual([]);
    expect(model.isEnabled('copyKey', null)).toBe(false);
  });

  it('tells the panel about every change', async () => {
    const { model, changes } = await listed();
    const before = changes();
    await model.perform(new FakeActions(), 'open', ALICE);
    // busy, then done
    expect(changes() - before).toBe(2);
  });
});
