import { describe, expect, it } from 'vitest';

import { BookstoreApiError, IVersion, IVersionPage, Stage } from '../src/api';
import { VersionHistory, mergeVersions } from '../src/history';

const version = (id: string, isLatest = false): IVersion => ({
  version_id: id,
  last_modified: '2026-11-26T01:00:00+00:00',
  size: 100,
  is_latest: isLatest
});

/** A server holding `ids` (newest first), answering `limit` versions a page. */
class FakeServer {
  calls: { path: string; stage: Stage; limit?: number; cursor?: string | null }[] = [];
  pending: (() => void)[] = [];
  hold = false;

  constructor(public ids: string[]) {}

  async versions(
    path: string,
    stage: Stage,
    options: { limit?: number; cursor?: string | null } = {}
  ): Promise<IVersionPage> {
    this.calls.push({ path, stage, ...options });
    if (this.hold) {
      await new Promise<void>(resolve => this.pending.push(resolve));
    }
    if (this.ids.length === 0) {
      throw new BookstoreApiError(404, `'${path}' has no ${stage} versions: publish it first`, 'NotFoundError');
    }
    const start = options.cursor ? Number(options.cursor) : 0;
    const end = start + (options.limit ?? 100);
    return {
      key: path,
      stage,
      versions: this.ids.slice(start, end).map((id, i) => version(id, start + i === 0)),
      next_cursor: end < this.ids.length ? String(end) : null
    };
  }
}

describe('mergeVersions', () => {
  it('appends a page, leaving out versions already listed', () => {
    const merged = mergeVersions([version('a'), version('b')], [version('b'), version('c')]);
    expect(merged.map(v => v.version_id)).toEqual(['a', 'b', 'c']);
  });
});

describe('VersionHistory', () => {
  it('loads a page at a time and follows next_cursor', async () => {
    const server = new FakeServer(['v5', 'v4', 'v3', 'v2', 'v1']);
    const history = new VersionHistory(server, 'workspace', undefined, 2);
    history.setPath('a.ipynb');
    await history.reload();
    expect(history.state.items.map(v => v.version_id)).toEqual(['v5', 'v4']);
    expect(history.state.nextCursor).toBe('2');
    await history.loadMore();
    await history.loadMore();
    expect(history.state.items.map(v => v.version_id)).toEqual(['v5', 'v4', 'v3', 'v2', 'v1']);
    expect(history.state.nextCursor).toBeNull();
    await history.loadMore();
    expect(server.calls.map(c => c.cursor)).toEqual([undefined, '2', '4']);
  });

  it('never asks for two pages at once', async () => {
    const server = new FakeServer(['v3', 'v2', 'v1']);
    const history = new VersionHistory(server, 'workspace', undefined, 1);
    history.setPath('a.ipynb');
    await history.reload();
    server.hold = true;
    const first = history.loadMore();
    const second = history.loadMore();
    expect(history.state.loading).toBe(true);
    server.pending.forEach(resolve => resolve());
    await Promise.all([first, second]);
    expect(server.calls).toHaveLength(2);
    expect(history.state.items).toHaveLength(2);
  });

  it("drops an answer for a notebook that is no longer shown", async () => {
    const server = new FakeServer(['v1']);
    const history = new VersionHistory(server, 'workspace');
    history.setPath('old.ipynb');
    server.hold = true;
    const late = history.reload();
    history.setPath('new.ipynb');
    server.pending.forEach(resolve => resolve());
    await late;
    expect(history.state.path).toBe('new.ipynb');
    expect(history.state.items).toEqual([]);
    expect(history.state.loaded).toBe(false);
  });

  it('shows "none yet" with the server\'s words rather than an error', async () => {
    const history = new VersionHistory(new FakeServer([]), 'published');
    history.setPath('a.ipynb');
    await history.reload();
    expect(history.state.error).toBeNull();
    expect(history.state.loaded).toBe(true);
    expect(history.state.emptyMessage).toContain('publish it first');
  });

  it('keeps what is listed when a later page fails', async () => {
    const server = new FakeServer(['v2', 'v1']);
    const history = new VersionHistory(server, 'workspace', undefined, 1);
    history.setPath('a.ipynb');
    await history.reload();
    server.versions = async () => {
      throw new BookstoreApiError(503, 'S3 is down', 'StoreUnavailableError');
    };
    await history.loadMore();
    expect(history.state.items.map(v => v.version_id)).toEqual(['v2']);
    expect(history.state.error).toMatchObject({ status: 503 });
    expect(history.state.nextCursor).toBe('1');
  });

  it('tells its listener about every change', async () => {
    let changes = 0;
    const history = new VersionHistory(new FakeServer(['v1']), 'workspace', () => (changes += 1));
    history.setPath('a.ipynb');
    await history.reload();
    // setPath, loading, loaded
    expect(changes).toBe(3);
  });
});
