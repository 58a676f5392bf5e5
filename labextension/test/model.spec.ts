import { describe, expect, it } from 'vitest';

import { BookstoreApiError, IStatus, IVersion, IVersionPage, Stage } from '../src/api';
import { formatTime } from '../src/format';
import { HistoryModel, IVersionActions, Outcome, busyLabel } from '../src/model';

// SeaweedFS-like ids: made from the time, so saves close together share long prefixes.
const W1 = '6714a8e1b2c3d4e5f6a7b8c9d0e1f2a3';
const W2 = '6714a8e1b2c3d4e5f6a7b8c9d0e1f9ff';
const W3 = '6714a8e1c0000000000000000000000';
const P1 = '6714a9000000000000000000000000aa';

const save = (id: string, overrides: Partial<IVersion> = {}): IVersion => ({
  version_id: id,
  last_modified: '2026-11-26T10:00:00+00:00',
  size: 1536,
  is_latest: false,
  ...overrides
});

/** A server holding each stage's versions (newest first), answering `pageSize` a page. */
class FakeServer {
  calls: { stage: Stage; cursor?: string | null }[] = [];
  statuses = 0;
  status_: IStatus = { version: '0', features: ['diff'], archiving: true };

  constructor(
    public listed: Record<Stage, IVersion[]>,
    private readonly pageSize = 50
  ) {}

  async versions(path: string, stage: Stage, options: { cursor?: string | null } = {}): Promise<IVersionPage> {
    this.calls.push({ stage, cursor: options.cursor });
    const all = this.listed[stage];
    if (all.length === 0) {
      throw new BookstoreApiError(404, `'${path}' has no ${stage} versions: publish it first`, 'NotFoundError');
    }
    const start = options.cursor ? Number(options.cursor) : 0;
    const end = start + this.pageSize;
    return { key: path, stage, versions: all.slice(start, end), next_cursor: end < all.length ? String(end) : null };
  }

  async status(): Promise<IStatus> {
    this.statuses += 1;
    return this.status_;
  }
}

/** Actions that record what they were asked and answer `outcome`, or wait until released. */
class FakeActions implements IVersionActions {
  done: string[] = [];
  outcome: Outcome | Error = null;
  private _release: (() => void) | null = null;
  hold = false;

  release(): void {
    this._release?.();
  }

  private async act(what: string): Promise<Outcome> {
    this.done.push(what);
    if (this.hold) {
      await new Promise<void>(resolve => (this._release = resolve));
    }
    if (this.outcome instanceof Error) {
      throw this.outcome;
    }
    return this.outcome;
  }

  open = (path: string, stage: Stage, version: IVersion) => this.act(`open ${stage} ${version.version_id}`);
  compare = (path: string, stage: Stage, version: IVersion) => this.act(`compare ${stage} ${version.version_id}`);
  restoreCopy = (path: string, stage: Stage, version: IVersion) => this.act(`copy ${stage} ${version.version_id}`);
  restoreOverwrite = (path: string, stage: Stage, version: IVersion) =>
    this.act(`replace ${stage} ${version.version_id}`);
  publishVersion = (path: string, version: IVersion) => this.act(`publish ${version.version_id}`);
  copyId = (version: IVersion) => this.act(`copy-id ${version.version_id}`);
}

function setUp(listed: Partial<Record<Stage, IVersion[]>> = {}, pageSize = 50) {
  const server = new FakeServer({ workspace: [], published: [], ...listed }, pageSize);
  const model = new HistoryModel(server);
  let changes = 0;
  model.stateChanged.connect(() => (changes += 1));
  return { server, model, changes: () => changes };
}

/** Let the model's pending requests answer. */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

describe('HistoryModel: loading', () => {
  it('asks for nothing while the panel is hidden, and lists the shown stage once shown', async () => {
    const { server, model } = setUp({ workspace: [save(W1)] });
    model.setPath('a.ipynb');
    await settle();
    expect(server.calls).toEqual([]);
    model.visible = true;
    await model.refresh();
    expect(server.calls.map(call => call.stage).sort()).toEqual(['published', 'workspace']);
    expect(model.histories.workspace.state.items.map(v => v.version_id)).toEqual([W1]);
  });

  it('pages through a long history with Load more', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `v${i}`);
    const { server, model } = setUp({ workspace: ids.map(id => save(id)) }, 2);
    model.visible = true;
    model.setPath('a.ipynb');
    await settle();
    const history = model.histories.workspace;
    expect(history.state.items).toHaveLength(2);
    await history.loadMore();
    await history.loadMore();
    expect(history.state.items.map(v => v.version_id)).toEqual(ids);
    expect(history.state.nextCursor).toBeNull();
    expect(server.calls.map(call => call.cursor)).toEqual([undefined, '2', '4']);
  });

  it('lists a stage when first switched to, and not again when switching back', async () => {
    const { server, model } = setUp({ workspace: [save(W1)], published: [save(P1)] });
    model.visible = true;
    model.setPath('a.ipynb');
    await settle();
    expect(server.calls.map(call => call.stage)).toEqual(['workspace']);
    model.stage = 'published';
    await settle();
    model.stage = 'workspace';
    model.stage = 'published';
    await settle();
    expect(server.calls.map(call => call.stage)).toEqual(['workspace', 'published']);
    expect(model.histories.published.state.items.map(v => v.version_id)).toEqual([P1]);
  });

  it('forgets the outcome and the highlight when another notebook is shown', async () => {
    const { model } = setUp({ workspace: [save(W1)] });
    model.setPath('a.ipynb');
    model.notice = { level: 'ok', text: 'Published.' };
    model.setPath('b.ipynb');
    expect(model.notice).toBeNull();
    expect(model.highlighted).toBeNull();
    expect(model.histories.workspace.state.path).toBe('b.ipynb');
  });
});

describe('HistoryModel: actions', () => {
  async function listed() {
    const setup = setUp({ workspace: [save(W1, { is_latest: true }), save(W3)], published: [save(P1)] });
    setup.model.visible = true;
    setup.model.setPath('a.ipynb');
    await setup.model.refresh();
    return setup;
  }

  it('shows what is under way with one ellipsis, then the outcome', async () => {
    const { model } = await listed();
    const actions = new FakeActions();
    actions.hold = true;
    actions.outcome = 'Restored the version as a-restored.ipynb.';
    const running = model.perform(actions, 'restoreCopy', 'workspace', W3);
    expect(model.busy).toBe('Restoring 6714a8e1c…');
    expect(model.busy).not.toContain('……');
    actions.release();
    await running;
    expect(model.busy).toBeNull();
    expect(actions.done).toEqual([`copy workspace ${W3}`]);
    expect(model.notice).toEqual({ level: 'ok', text: 'Restored the version as a-restored.ipynb.' });
  });

  it('shows a failure with what to do', async () => {
    const { model } = await listed();
    const actions = new FakeActions();
    actions.outcome = new BookstoreApiError(503, 'S3 is down: is the server running?', 'StoreUnavailableError');
    await model.perform(actions, 'open', 'published', P1);
    expect(model.notice?.level).toBe('error');
    expect(model.notice?.text).toContain('is the server running? Your notebooks are saved on this server');
  });

  it('passes a notice through as it is (publishing unchanged content)', async () => {
    const { model } = await listed();
    const actions = new FakeActions();
    actions.outcome = { level: 'info', text: 'Already published: version 6714a900… is the same as this save.' };
    await model.perform(actions, 'publish', 'workspace', W1);
    expect(actions.done).toEqual([`publish ${W1}`]);
    expect(model.notice).toEqual(actions.outcome);
  });

  it('runs one action at a time, but copying an id need not wait', async () => {
    const { model } = await listed();
    const slow = new FakeActions();
    slow.hold = true;
    const comparing = model.perform(slow, 'compare', 'workspace', W1);
    expect(model.isEnabled('open', 'workspace', W3)).toBe(false);
    expect(model.isEnabled('copyId', 'workspace', W3)).toBe(true);
    const other = new FakeActions();
    other.outcome = `Copied version id ${W3} to the clipboard.`;
    await model.perform(other, 'open', 'workspace', W3);
    await model.perform(other, 'copyId', 'workspace', W3);
    expect(other.done).toEqual([`copy-id ${W3}`]);
    expect(model.notice?.text).toBe(`Copied version id ${W3} to the clipboard.`);
    expect(model.busy).toBe('Comparing 6714a8e1b…');
    slow.release();
    await comparing;
    expect(model.isEnabled('open', 'workspace', W3)).toBe(true);
  });

  it('offers publishing for saves only, and comparing only with nbdime on the server', async () => {
    const { model, server } = await listed();
    expect(model.isAvailable('publish', 'workspace')).toBe(true);
    expect(model.isAvailable('publish', 'published')).toBe(false);
    expect(model.isEnabled('publish', 'published', P1)).toBe(false);
    expect(model.isAvailable('compare', 'published')).toBe(true);
    server.status_ = { version: '0', features: [], archiving: true };
    await model.refreshStatus();
    expect(model.isAvailable('compare', 'workspace')).toBe(false);
  });

  it('does nothing with a version that is not listed', async () => {
    const { model } = await listed();
    const actions = new FakeActions();
    await model.perform(actions, 'open', 'workspace', 'gone');
    await model.perform(actions, 'open', 'published', W1);
    expect(actions.done).toEqual([]);
    expect(model.isEnabled('copyId', 'workspace', null)).toBe(false);
  });

  it('says when the save a publication came from is not listed yet', async () => {
    const { model } = await listed();
    await model.showSource(W2);
    expect(model.stage).toBe('workspace');
    expect(model.highlighted).toBe(W2);
    expect(model.notice?.text).toBe(
      'Save 6714a8e1b2c3d4e5f6a7b8c9d0e1f9… is older than the saves listed: use Load more to reach it.'
    );
    await model.showSource(W3);
    expect(model.notice).toBeNull();
    expect(model.takeScroll(W3)).toBe(true);
    expect(model.takeScroll(W3)).toBe(false);
  });

  it('tells the panel about every change', async () => {
    const { model, changes } = await listed();
    const before = changes();
    await model.perform(new FakeActions(), 'open', 'workspace', W1);
    // busy, then done
    expect(changes() - before).toBe(2);
  });
});

describe('HistoryModel: rows', () => {
  it('tells versions apart by the shortest unique prefix of all ids listed', async () => {
    const { model } = setUp({
      workspace: [save(W1), save(W3)],
      published: [save(P1, { source_version_id: W2 })]
    });
    model.visible = true;
    model.setPath('a.ipynb');
    await model.refresh();
    // W1 and W2 differ only late; W2 is listed as a publication's source.
    expect(model.shortId(W1)).toBe('6714a8e1b2c3d4e5f6a7b8c9d0e1f2…');
    expect(model.shortId(W3)).toBe('6714a8e1c…');
    expect(model.shortId(P1)).toBe('6714a900…');
    const row = model.row('published', model.histories.published.state.items[0]);
    expect(row.source).toEqual({ versionId: W2, id: '6714a8e1b2c3d4e5f6a7b8c9d0e1f9…' });
    // An id not listed is told apart from those that are.
    expect(model.shortId('6714a900ff')).toBe('6714a900f…');
    expect(model.shortId(null)).toBe('null');
  });

  it('shows when a save was made, and when it reached S3 if much later', async () => {
    const queued = save(W1, {
      saved_at: '2026-11-26T09:00:00+00:00',
      last_modified: '2026-11-26T09:45:00+00:00',
      is_latest: true
    });
    const { model } = setUp({ workspace: [queued, save(W3)] });
    model.setPath('a.ipynb');
    model.visible = true;
    await model.refresh();
    const row = model.row('workspace', queued, Date.parse('2026-12-24T12:00:00Z'));
    expect(row.time).toBe(formatTime('2026-11-26T09:00:00+00:00'));
    expect(`${row.date} ${row.clock}`).toBe(row.time);
    expect(row.age).toBe('28 days ago');
    expect(model.row('workspace', queued, Date.parse(queued.saved_at as string)).date).toBe('Today');
    expect(row.uploaded).toBe(`uploaded ${formatTime('2026-11-26T09:45:00+00:00').slice(11, 16)}`);
    expect(row.timeTitle).toContain(`Uploaded to the bucket ${formatTime('2026-11-26T09:45:00+00:00')}`);
    expect(row.latest).toBe('The latest archived save');
    expect(row.size).toBe('1.5 KB');
    const plain = model.row('workspace', save(W3));
    expect(plain.uploaded).toBeNull();
    expect(plain.latest).toBeNull();
    expect(plain.source).toBeNull();
  });

  it('reads "none yet" from a 404 rather than an error', async () => {
    const { model } = setUp({ workspace: [save(W1)] });
    model.setPath('a.ipynb');
    model.visible = true;
    await model.refresh();
    const published = model.histories.published.state;
    expect(published.error).toBeNull();
    expect(published.emptyMessage).toContain('publish it first');
  });
});

describe('busyLabel', () => {
  it('does not double the ellipsis of a short id', () => {
    expect(busyLabel('compare', '6713fada89b3…')).toBe('Comparing 6713fada89b3…');
    expect(busyLabel('open', 'v1')).toBe('Opening v1…');
  });
});
