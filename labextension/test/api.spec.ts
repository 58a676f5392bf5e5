import { describe, expect, it } from 'vitest';

import { BookstoreApiError, BookstoreClient, encodePath, queryString } from '../src/api';

interface ISent {
  path: string;
  init: RequestInit;
}

/** A client whose server answers `answers` in turn and records what it was sent. */
function fakeClient(...answers: (Response | Error)[]) {
  const sent: ISent[] = [];
  const client = new BookstoreClient(async (path, init) => {
    sent.push({ path, init });
    const answer = answers.shift();
    if (answer === undefined) {
      throw new Error('no more answers');
    }
    if (answer instanceof Error) {
      throw answer;
    }
    return answer;
  });
  return { client, sent };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('encodePath', () => {
  it('encodes each segment and keeps the slashes', () => {
    expect(encodePath('analysis/my notebook#1.ipynb')).toBe('analysis/my%20notebook%231.ipynb');
  });

  it('drops empty segments, so a leading slash does not double', () => {
    expect(encodePath('/a//b.ipynb')).toBe('a/b.ipynb');
  });

  it('encodes a percent sign, which the server decodes exactly once', () => {
    expect(encodePath('100%.ipynb')).toBe('100%25.ipynb');
  });
});

describe('queryString', () => {
  it('leaves out missing values', () => {
    expect(queryString({ stage: 'workspace', limit: undefined, cursor: null })).toBe('?stage=workspace');
    expect(queryString({})).toBe('');
  });

  it('encodes opaque cursors', () => {
    expect(queryString({ cursor: 'a/b+c=' })).toBe('?cursor=a%2Fb%2Bc%3D');
  });
});

describe('BookstoreClient', () => {
  it('publishes with an empty body, or a workspace version', async () => {
    const answer = { path: 'a.ipynb', key: 'published/a.ipynb', version_id: 'v2' };
    const { client, sent } = fakeClient(json(answer, 201), json(answer, 201));
    expect(await client.publish('analysis/a b.ipynb')).toEqual(answer);
    await client.publish('analysis/a b.ipynb', { versionId: 'v1' });
    expect(sent.map(s => [s.path, s.init.method, s.init.body])).toEqual([
      ['api/bookstore/publish/analysis/a%20b.ipynb', 'PUT', '{}'],
      ['api/bookstore/publish/analysis/a%20b.ipynb', 'PUT', '{"version_id":"v1"}']
    ]);
  });

  it('answers an unchanged publication (200), and publishes anyway with force', async () => {
    const existing = { path: 'a.ipynb', key: 'published/a.ipynb', version_id: 'p1', unchanged: true };
    const fresh = { ...existing, version_id: 'p2', unchanged: false };
    const { client, sent } = fakeClient(json(existing, 200), json(fresh, 201), json(fresh, 201));
    expect(await client.publish('a.ipynb')).toMatchObject({ unchanged: true, version_id: 'p1' });
    expect(await client.publish('a.ipynb', { force: true })).toMatchObject({ unchanged: false, version_id: 'p2' });
    await client.publish('a.ipynb', { versionId: 'v1', force: true });
    expect(sent.map(s => JSON.parse(s.init.body as string))).toEqual([
      {},
      { force: true },
      { version_id: 'v1', force: true }
    ]);
  });

  it('pages versions with a cursor', async () => {
    const page = { key: 'k', stage: 'published', versions: [], next_cursor: null };
    const { client, sent } = fakeClient(json(page));
    await client.versions('a.ipynb', 'published', { limit: 50, cursor: 'c1' });
    expect(sent[0].path).toBe('api/bookstore/versions/a.ipynb?stage=published&limit=50&cursor=c1');
  });

  it('reads one version and restores over a target', async () => {
    const { client, sent } = fakeClient(json({ cells: [], nbformat: 4 }), json({ path: 'a.ipynb', name: 'a.ipynb' }));
    await client.notebook('a.ipynb', 'workspace', 'v 1');
    await client.restore('a.ipynb', { stage: 'workspace', version_id: 'v1', target_path: 'a.ipynb', overwrite: true });
    expect(sent[0].path).toBe('api/bookstore/notebook/a.ipynb?stage=workspace&version_id=v%201');
    expect(sent[1].init.method).toBe('POST');
    expect(JSON.parse(sent[1].init.body as string)).toEqual({
      stage: 'workspace',
      version_id: 'v1',
      target_path: 'a.ipynb',
      overwrite: true
    });
  });

  it('reads the parameters of the saved notebook, or of a stored version', async () => {
    const answer = {
      path: 'a b.ipynb',
      cell: 0,
      parameters: [{ name: 'region', type: 'str', default: '"EU"', help: 'sales region' }],
      inspectable: true,
      untagged_cell: null,
      untagged_parameters: [],
      language: 'python'
    };
    const { client, sent } = fakeClient(json(answer), json(answer));
    expect(await client.parameters('x/a b.ipynb')).toEqual(answer);
    await client.parameters('x/a b.ipynb', { stage: 'published', versionId: 'p 1' });
    expect(sent.map(s => [s.init.method, s.path])).toEqual([
      ['GET', 'api/bookstore/parameters/x/a%20b.ipynb'],
      ['GET', 'api/bookstore/parameters/x/a%20b.ipynb?stage=published&version_id=p%201']
    ]);
  });

  it('lists the runs of a notebook a page at a time, one run with its executed notebook, and compares two runs', async () => {
    const page = { path: 'a b.ipynb', key: 'published/a b.ipynb', runs: [], next_cursor: null };
    const one = { run: { run_id: 'r1' }, content: { cells: [] } };
    const answer = { base: {}, diff: [], base_version: { run_id: 'r1' }, remote_version: { run_id: 'r2' } };
    const { client, sent } = fakeClient(json(page), json(page), json(one), json(answer));
    expect(await client.runs('x/a b.ipynb')).toEqual(page);
    await client.runs('x/a b.ipynb', { limit: 30, cursor: 'k/2+' });
    expect(await client.run('x/a b.ipynb', '20261128T021500123456Z-1a2b3c4d')).toEqual(one);
    expect(await client.diffRuns('x/a b.ipynb', 'r1', 'r2')).toEqual(answer);
    expect(sent.map(s => [s.init.method, s.path])).toEqual([
      ['GET', 'api/bookstore/runs/x/a%20b.ipynb'],
      ['GET', 'api/bookstore/runs/x/a%20b.ipynb?limit=30&cursor=k%2F2%2B'],
      ['GET', 'api/bookstore/runs/x/a%20b.ipynb?run_id=20261128T021500123456Z-1a2b3c4d'],
      ['GET', 'api/bookstore/diff/x/a%20b.ipynb?base_run_id=r1&remote_run_id=r2']
    ]);
  });

  it('reads an unknown run as the server words it', async () => {
    const { client } = fakeClient(json({ message: "no run 'r9' of 'alice/notebooks/a.ipynb'", reason: 'NotFoundError' }, 404));
    await expect(client.run('a.ipynb', 'r9')).rejects.toMatchObject({ status: 404, reason: 'NotFoundError' });
  });

  it('compares with the saved notebook, or with another stored version', async () => {
    const answer = { base: {}, diff: [], base_version: {}, remote_version: {} };
    const { client, sent } = fakeClient(json(answer), json(answer));
    expect(await client.diff('a/b.ipynb', { stage: 'workspace', version_id: 'v1' })).toEqual(answer);
    await client.diff('a/b.ipynb', { stage: 'workspace', version_id: 'v1' }, { stage: 'published', version_id: 'p 2' });
    expect(sent.map(s => [s.init.method, s.path])).toEqual([
      ['GET', 'api/bookstore/diff/a/b.ipynb?base_stage=workspace&base_version_id=v1'],
      [
        'GET',
        'api/bookstore/diff/a/b.ipynb?base_stage=workspace&base_version_id=v1&remote_stage=published&remote_version_id=p%202'
      ]
    ]);
  });

  it('pages the catalog with an opaque cursor', async () => {
    const page = {
      notebooks: [
        {
          key: 'published/alice/notebooks/a.ipynb',
          notebook_key: 'alice/notebooks/a.ipynb',
          owner: 'alice',
          version_id: 'v1',
          last_modified: '2026-11-26T10:00:00+00:00',
          size: 10
        }
      ],
      next_cursor: 'n/1'
    };
    const { client, sent } = fakeClient(json(page), json({ notebooks: [], next_cursor: null }));
    expect(await client.catalog({ limit: 100 })).toEqual(page);
    await client.catalog({ limit: 100, cursor: 'n/1' });
    expect(sent.map(s => [s.init.method, s.path])).toEqual([
      ['GET', 'api/bookstore/catalog?limit=100'],
      ['GET', 'api/bookstore/catalog?cursor=n%2F1&limit=100']
    ]);
  });

  it("reads a colleague's published version by its notebook_key", async () => {
    const { client, sent } = fakeClient(json({ cells: [], nbformat: 4 }), json({ cells: [], nbformat: 4 }));
    await client.published('bob/notebooks/my analysis.ipynb', 'p 1');
    await client.published('bob/notebooks/a.ipynb', null);
    expect(sent.map(s => [s.init.method, s.path])).toEqual([
      ['GET', 'api/bookstore/published/bob/notebooks/my%20analysis.ipynb?version_id=p%201'],
      ['GET', 'api/bookstore/published/bob/notebooks/a.ipynb']
    ]);
  });

  it('copies a published notebook, to the default target or a chosen one, overwriting when asked', async () => {
    const copied = { path: 'a.ipynb', name: 'a.ipynb', type: 'notebook' };
    const { client, sent } = fakeClient(json(copied, 201), json(copied, 201), json(copied, 201));
    expect(await client.copy('bob/notebooks/a.ipynb')).toEqual(copied);
    await client.copy('bob/notebooks/a.ipynb', { version_id: 'p1', target_path: 'x/a-1.ipynb' });
    await client.copy('bob/notebooks/a.ipynb', { version_id: 'p1', overwrite: true });
    expect(sent.map(s => [s.init.method, s.path])).toEqual(
      Array(3).fill(['POST', 'api/bookstore/copy/bob/notebooks/a.ipynb'])
    );
    expect(sent.map(s => JSON.parse(s.init.body as string))).toEqual([
      {},
      { version_id: 'p1', target_path: 'x/a-1.ipynb' },
      { version_id: 'p1', overwrite: true }
    ]);
  });

  it('answers 409 when the copy would replace a file', async () => {
    const { client } = fakeClient(json({ message: "'a.ipynb' already exists", reason: 'Conflict' }, 409));
    const error = await client.copy('bob/notebooks/a.ipynb').catch(e => e);
    expect(error).toMatchObject({ status: 409, message: "'a.ipynb' already exists" });
  });

  it("compares a colleague's published version with one's own saved notebook", async () => {
    const answer = { base: {}, diff: [], base_version: {}, remote_version: {} };
    const { client, sent } = fakeClient(json(answer));
    expect(
      await client.diffWithPublished('mine/a b.ipynb', { notebook_key: 'bob/notebooks/a.ipynb', version_id: 'p1' })
    ).toEqual(answer);
    expect(sent[0].path).toBe(
      'api/bookstore/diff/mine/a%20b.ipynb?base_notebook_key=bob%2Fnotebooks%2Fa.ipynb&base_version_id=p1'
    );
  });

  it("turns bookstore's JSON errors into BookstoreApiError", async () => {
    const { client } = fakeClient(json({ message: 'S3 is down', reason: 'StoreUnavailableError' }, 503));
    const error = await client.status().catch(e => e);
    expect(error).toBeInstanceOf(BookstoreApiError);
    expect(error).toMatchObject({ status: 503, message: 'S3 is down', reason: 'StoreUnavailableError' });
  });

  it('keeps the status of an HTML error page', async () => {
    const { client } = fakeClient(new Response('<html>Not Found</html>', { status: 404, statusText: 'Not Found' }));
    const error = await client.status().catch(e => e);
    expect(error).toMatchObject({ status: 404, message: 'Not Found', reason: null });
  });

  it('reports an unreachable server as status 0', async () => {
    const { client } = fakeClient(new TypeError('Failed to fetch'));
    const error = await client.status().catch(e => e);
    expect(error).toMatchObject({ status: 0, reason: 'NetworkError' });
    expect(error.message).toContain('Failed to fetch');
  });
});

describe('BookstoreClient and schedules', () => {
  it('lists, saves and removes a notebook’s schedules, and the team’s', async () => {
    const saved = { name: 'daily', cron: '0 6 * * *', dag_id: 'd', next_runs: [] };
    const { client, sent } = fakeClient(
      json({ notebook_key: 'k/a b.ipynb', schedules: [saved] }),
      json(saved, 201),
      new Response(null, { status: 204 }),
      json({ schedules: [] }),
      json({ schedules: [] })
    );
    expect((await client.schedules('a b.ipynb')).schedules).toEqual([saved]);
    expect(await client.saveSchedule('a b.ipynb', { name: 'daily', cron: '0 6 * * *' })).toEqual(saved);
    await client.deleteSchedule('a b.ipynb', 'daily');
    await client.teamSchedules();
    await client.teamSchedules('k/a b.ipynb');
    expect(sent.map(({ path, init }) => [init.method, path, init.body])).toEqual([
      ['GET', 'api/bookstore/schedules/a%20b.ipynb', undefined],
      ['PUT', 'api/bookstore/schedules/a%20b.ipynb', '{"name":"daily","cron":"0 6 * * *"}'],
      ['DELETE', 'api/bookstore/schedules/a%20b.ipynb?name=daily', undefined],
      ['GET', 'api/bookstore/schedules', undefined],
      ['GET', 'api/bookstore/schedules?notebook_key=k%2Fa%20b.ipynb', undefined]
    ]);
  });

  it('asks for a run now, and says why the server refused one', async () => {
    const queued = { run_id: 'r', request_id: 'r', status: 'queued' };
    const { client, sent } = fakeClient(
      json(queued, 202),
      json({ message: "'a.ipynb' is not published: publish it first", reason: 'NotPublishedError' }, 409)
    );
    expect(await client.requestRun('a.ipynb', { parameters: { x: 3 } })).toEqual(queued);
    expect(sent[0].init).toMatchObject({ method: 'POST', body: '{"parameters":{"x":3}}' });
    await expect(client.requestRun('a.ipynb')).rejects.toMatchObject({
      status: 409,
      message: "'a.ipynb' is not published: publish it first"
    });
  });

  it('says why a schedule was not removed', async () => {
    const { client } = fakeClient(json({ message: "'k/a.ipynb' has no schedule named 'daily'", reason: 'NotFoundError' }, 404));
    await expect(client.deleteSchedule('a.ipynb', 'daily')).rejects.toBeInstanceOf(BookstoreApiError);
  });
});
