import { describe, expect, it } from 'vitest';

import { BookstoreApiError, IRun, IRunPage, IStatus, IVersion, IVersionPage, Stage } from '../src/api';
import { formatTime } from '../src/format';
import { HistoryModel } from '../src/model';
import { Outcome } from '../src/panel-model';
import {
  IRunActions,
  describeOrigin,
  formatParameters,
  orderRuns,
  previousRun,
  statusLabel
} from '../src/runs-model';

// Published versions, SeaweedFS-like: made close together, they share long prefixes.
const P1 = '6714a9000000000000000000000000aa';
const P2 = '6714a9000000000000000000000000bb';

const publication = (id: string): IVersion => ({
  version_id: id,
  last_modified: '2026-11-26T10:00:00+00:00',
  size: 2048,
  is_latest: false
});

let started = Date.parse('2026-11-26T12:00:00Z');

/** A run that started an hour before the previous one made here (runs are listed newest first). */
const aRun = (id: string, overrides: Partial<IRun> = {}): IRun => {
  started -= 3600_000;
  return {
    run_id: id,
    notebook_key: 'alice/notebooks/a.ipynb',
    status: 'succeeded',
    succeeded: true,
    started_at: new Date(started).toISOString(),
    finished_at: new Date(started + 95_000).toISOString(),
    source_key: 'published/alice/notebooks/a.ipynb',
    source_version_id: P1,
    parameters: {},
    output_key: `runs/@records/${id}.ipynb`,
    output_version_id: `out-${id}`,
    error: null,
    airflow: null,
    published_event: false,
    parameters_forced: false,
    request_id: null,
    requested_by: null,
    airflow_url: null,
    viewer_url: null,
    ...overrides
  };
};

/** A server holding a notebook's publications and runs (newest first), `pageSize` runs a page. */
class FakeServer {
  runCalls: (string | null | undefined)[] = [];
  status_: IStatus = { version: '0', features: ['diff', 'runs'], archiving: true };
  runsError: Error | null = null;

  constructor(
    public runs_: IRun[],
    public published: IVersion[] = [publication(P1), publication(P2)],
    private readonly pageSize = 30
  ) {}

  async versions(path: string, stage: Stage): Promise<IVersionPage> {
    return { key: path, stage, versions: stage === 'published' ? this.published : [], next_cursor: null };
  }

  async status(): Promise<IStatus> {
    return this.status_;
  }

  async runs(path: string, options: { limit?: number; cursor?: string | null } = {}): Promise<IRunPage> {
    this.runCalls.push(options.cursor);
    if (this.runsError) {
      throw this.runsError;
    }
    const start = options.cursor ? Number(options.cursor) : 0;
    const end = start + Math.min(options.limit ?? 100, this.pageSize);
    return {
      path,
      key: `published/alice/notebooks/${path}`,
      notebook_key: `alice/notebooks/${path}`,
      runs: this.runs_.slice(start, end),
      next_cursor: end < this.runs_.length ? String(end) : null
    };
  }
}

/** Actions that record what they were asked and answer `outcome`. */
class FakeActions implements IRunActions {
  done: string[] = [];
  outcome: Outcome = null;

  private async act(what: string): Promise<Outcome> {
    this.done.push(what);
    return this.outcome;
  }

  open = (path: string, run: IRun) => this.act(`open ${run.run_id}`);
  compare = (path: string, base: IRun, remote: IRun) => this.act(`compare ${base.run_id} ${remote.run_id}`);
  openLink = (url: string) => this.act(`link ${url}`);
  copyRunId = (run: IRun) => this.act(`copy ${run.run_id}`);
}

async function setUp(runs: IRun[], pageSize = 30) {
  const server = new FakeServer(runs, undefined, pageSize);
  const model = new HistoryModel(server);
  model.visible = true;
  model.setPath('a.ipynb');
  model.tab = 'runs';
  await settle();
  return { server, model, runs: model.runs };
}

/** Let the model's pending requests answer. */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

describe('formatParameters', () => {
  it('shows the parameters in one line, as Python would take them', () => {
    expect(formatParameters({ alpha: 0.5, region: 'eu', full: true, since: null, days: [1, 2] })).toBe(
      'alpha=0.5, region="eu", full=True, since=None, days=[1,2]'
    );
  });

  it('is empty without parameters, and cut with an ellipsis when long', () => {
    expect(formatParameters({})).toBe('');
    expect(formatParameters(null)).toBe('');
    const long = formatParameters({ text: 'x'.repeat(200) }, 40);
    expect(long).toHaveLength(40);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('describeOrigin', () => {
  it('names the Airflow task, its map index and retry', () => {
    const airflow = { dag_id: 'daily', run_id: 'manual__1', task_id: 'report', try_number: 2, map_index: -1 };
    expect(describeOrigin(aRun('r', { airflow }))).toBe('DAG daily, task report (try 2)');
    expect(describeOrigin(aRun('r', { airflow: { ...airflow, try_number: 1, map_index: 3 } }))).toBe(
      'DAG daily, task report[3]'
    );
    expect(describeOrigin(aRun('r', { airflow, published_event: true }))).toBe(
      'DAG daily, task report (try 2), on publish'
    );
    expect(describeOrigin(aRun('r'))).toBe('bookstore run');
  });
});

describe('previousRun and orderRuns', () => {
  it('finds the run before, skipping runs without an executed notebook', () => {
    const [c, b, a] = [aRun('c'), aRun('b', { status: 'failed', output_version_id: null }), aRun('a')];
    expect(previousRun([c, b, a], c)?.run_id).toBe('a');
    expect(previousRun([c, b, a], a)).toBeUndefined();
    expect(previousRun([c, a], b)).toBeUndefined();
  });

  it('puts the run that started first on the left', () => {
    const [later, earlier] = [aRun('later'), aRun('earlier')];
    expect(orderRuns(later, earlier).map(run => run.run_id)).toEqual(['earlier', 'later']);
    expect(orderRuns(earlier, later).map(run => run.run_id)).toEqual(['earlier', 'later']);
  });
});

describe('HistoryModel: the Runs tab', () => {
  it('lists runs only once their tab is shown, then pages with Load more', async () => {
    const runs = ['r5', 'r4', 'r3', 'r2', 'r1'].map(id => aRun(id));
    const server = new FakeServer(runs, undefined, 2);
    const model = new HistoryModel(server);
    model.visible = true;
    model.setPath('a.ipynb');
    await model.refresh();
    expect(server.runCalls).toEqual([]);
    model.tab = 'runs';
    await settle();
    expect(model.runs.runs.map(run => run.run_id)).toEqual(['r5', 'r4']);
    await model.runs.list.loadMore();
    await model.runs.list.loadMore();
    expect(model.runs.runs.map(run => run.run_id)).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
    expect(server.runCalls).toEqual([undefined, '2', '4']);
    // Once listed, Refresh lists them again, also from another tab.
    model.tab = 'published';
    await model.refresh();
    expect(server.runCalls).toEqual([undefined, '2', '4', undefined]);
    expect(model.stage).toBe('published');
  });

  it('says where runs come from when there are none', async () => {
    const { runs } = await setUp([]);
    expect(runs.list.state.loaded).toBe(true);
    expect(runs.list.state.emptyMessage).not.toBeNull();
    expect(runs.list.state.error).toBeNull();
  });

  it('shows an error as the other lists do, keeping the tab', async () => {
    const server = new FakeServer([]);
    server.runsError = new BookstoreApiError(503, 'S3 is down', 'StoreUnavailableError');
    const model = new HistoryModel(server);
    model.visible = true;
    model.setPath('a.ipynb');
    model.tab = 'runs';
    await settle();
    expect(model.runs.list.state.error).toMatchObject({ status: 503 });
    expect(model.tab).toBe('runs');
  });

  it('offers no Runs tab when the server does not list runs', async () => {
    const { server, model } = await setUp([aRun('r1')]);
    expect(model.tabs).toContain('runs');
    server.status_ = { version: '0', features: ['diff'], archiving: true };
    await model.refreshStatus();
    expect(model.tabs).toEqual(['workspace', 'published']);
    expect(model.tab).toBe('workspace');
    model.tab = 'runs';
    expect(model.tab).toBe('workspace');
  });

  it('lists the runs of another notebook afresh, forgetting the runs chosen', async () => {
    const { server, model, runs } = await setUp([aRun('r2'), aRun('r1')]);
    runs.toggleSelected('r1');
    model.setPath('b.ipynb');
    await settle();
    expect(runs.selected).toEqual([]);
    expect(runs.list.state.path).toBe('b.ipynb');
    expect(server.runCalls).toHaveLength(2);
  });
});

describe('HistoryModel: watching runs', () => {
  it('lists the newest runs again while one runs, keeping older pages, until it ends', async () => {
    const running = aRun('r3', { status: 'running', succeeded: null, finished_at: null, output_version_id: null });
    const [r2, r1] = [aRun('r2'), aRun('r1')];
    const { server, model, runs } = await setUp([running, r2, r1], 2);
    await runs.list.loadMore();
    expect(runs.runs.map(run => run.run_id)).toEqual(['r3', 'r2', 'r1']);
    // It ends, and another starts.
    const next = aRun('r4', { status: 'running', finished_at: null, output_version_id: null });
    next.started_at = new Date(Date.parse(running.started_at) + 60_000).toISOString();
    server.runs_ = [next, { ...running, status: 'succeeded', output_version_id: 'out-r3' }, r2, r1];
    await model.pollRuns();
    expect(runs.runs.map(run => `${run.run_id} ${run.status}`)).toEqual([
      'r4 running',
      'r3 succeeded',
      'r2 succeeded',
      'r1 succeeded'
    ]);
    expect(runs.list.state.nextCursor).toBeNull();
  });

  it('asks for nothing when no run is running, or on another tab', async () => {
    const { server, model } = await setUp([aRun('r1')]);
    await model.pollRuns();
    expect(server.runCalls).toHaveLength(1);
    const waiting = await setUp([]);
    waiting.model.tab = 'workspace';
    await waiting.model.pollRuns();
    expect(waiting.server.runCalls).toHaveLength(1);
    waiting.model.tab = 'runs';
    await waiting.model.pollRuns();
    expect(waiting.server.runCalls).toHaveLength(2);
  });
});

describe('RunsModel: rows', () => {
  it('shows when it started and how long it ran, the version as the Published tab shows it', async () => {
    const run = aRun('r1', { source_version_id: P2, parameters: { alpha: 0.5 } });
    const { model, runs } = await setUp([run]);
    await model.refresh();
    const row = runs.row(run, Date.parse(run.started_at) + 60_000);
    expect(`${row.date} ${row.clock}`).toBe(`Today ${formatTime(run.started_at).slice(11)}`);
    expect(row.duration).toBe('1 min 35 s');
    expect(row.timeTitle).toContain(`Finished ${formatTime(run.finished_at as string)}, after 1 min 35 s`);
    expect(row.timeTitle).toContain('Run r1');
    expect(row.version).toEqual({ versionId: P2, id: model.shortId(P2) });
    // P1 and P2 differ in their last characters only: the short id tells them apart.
    expect(row.version?.id).toBe('6714a9000000000000000000000000b…');
    expect(row.parameters).toBe('alpha=0.5');
    expect(row.parametersTitle).toBe('alpha = 0.5');
    expect(row.status).toBe('succeeded');
    expect(row.error).toBeNull();
    expect(row.hasOutput).toBe(true);
  });

  it('tells apart the versions runs ran that the Published tab has not listed', async () => {
    const [q1, q2] = ['6714aa00000000000000000000000001', '6714aa00000000000000000000000002'];
    const { runs } = await setUp([aRun('r2', { source_version_id: q2 }), aRun('r1', { source_version_id: q1 })]);
    const [second, first] = runs.runs.map(run => runs.row(run).version?.id);
    expect(second).not.toBe(first);
    expect(second).toBe('6714aa00000000000000000000000002');
  });

  it('shows a running run without a duration, and a failed one with its error', async () => {
    const running = aRun('r2', { status: 'running', succeeded: null, finished_at: null, output_version_id: null });
    const failed = aRun('r1', { status: 'failed', succeeded: false, error: "KeyError: 'region'" });
    const { runs } = await setUp([running, failed]);
    expect(runs.row(running).duration).toBeNull();
    expect(runs.row(running).hasOutput).toBe(false);
    expect(runs.row(failed).error).toBe("KeyError: 'region'");
    expect(runs.row(aRun('r0', { status: 'failed', error: null })).error).toBe('failed without saying why');
    expect(statusLabel('running')).toBe('running');
  });

  it('links to Airflow only when the server says where', async () => {
    const linked = aRun('r2', {
      airflow_url: 'http://airflow/dags/daily/runs/manual__1/tasks/report',
      viewer_url: 'http://airflow/bookstore/view?key=x'
    });
    const plain = aRun('r1');
    const { runs } = await setUp([linked, plain]);
    expect(runs.row(linked).airflowUrl).toBe(linked.airflow_url);
    expect(runs.row(linked).viewerUrl).toBe(linked.viewer_url);
    expect(runs.row(plain).airflowUrl).toBeNull();
    expect(runs.isAvailable('openAirflow', plain)).toBe(false);
    expect(runs.isAvailable('openViewer', plain)).toBe(false);
    const actions = new FakeActions();
    await runs.perform(actions, 'openAirflow', 'r2');
    await runs.perform(actions, 'openViewer', 'r2');
    await runs.perform(actions, 'openAirflow', 'r1');
    expect(actions.done).toEqual([`link ${linked.airflow_url}`, `link ${linked.viewer_url}`]);
  });
});

describe('RunsModel: actions', () => {
  it('opens an executed notebook, showing what is under way', async () => {
    const run = aRun('r1');
    const { model, runs } = await setUp([run]);
    const actions = new FakeActions();
    const opening = runs.perform(actions, 'open', 'r1');
    expect(model.busy).toBe(`Opening the run of ${formatTime(run.started_at)} (version ${model.shortId(P1)})…`);
    await opening;
    expect(model.busy).toBeNull();
    expect(actions.done).toEqual(['open r1']);
  });

  it('cannot open or compare a run whose executed notebook is not stored', async () => {
    const { runs } = await setUp([aRun('r2', { status: 'running', output_version_id: null }), aRun('r1')]);
    expect(runs.isEnabled('open', 'r2')).toBe(false);
    expect(runs.isEnabled('comparePrevious', 'r2')).toBe(false);
    expect(runs.isEnabled('copyRunId', 'r2')).toBe(true);
    runs.toggleSelected('r2');
    expect(runs.selected).toEqual([]);
    expect(runs.isEnabled('open', 'gone')).toBe(false);
  });

  it('compares a run with the one before it, loading older pages to find it', async () => {
    const { server, runs } = await setUp([aRun('r3'), aRun('r2', { output_version_id: null }), aRun('r1')], 2);
    expect(runs.runs.map(run => run.run_id)).toEqual(['r3', 'r2']);
    expect(runs.isEnabled('comparePrevious', 'r3')).toBe(true);
    const actions = new FakeActions();
    await runs.perform(actions, 'comparePrevious', 'r3');
    expect(actions.done).toEqual(['compare r1 r3']);
    expect(server.runCalls).toEqual([undefined, '2']);
    // The oldest run has none before it.
    expect(runs.isEnabled('comparePrevious', 'r1')).toBe(false);
  });

  it('says so when no earlier run has an executed notebook', async () => {
    const { model, runs } = await setUp([aRun('r2'), aRun('r1', { output_version_id: null })], 1);
    const actions = new FakeActions();
    await runs.perform(actions, 'comparePrevious', 'r2');
    expect(actions.done).toEqual([]);
    expect(model.notice?.level).toBe('info');
    expect(model.notice?.text).toContain('No run before the run of');
  });

  it('compares the two runs chosen, the earlier on the left; a third choice replaces the first', async () => {
    const { model, runs } = await setUp([aRun('r3'), aRun('r2'), aRun('r1')]);
    expect(runs.canCompareSelected).toBe(false);
    runs.toggleSelected('r1');
    runs.toggleSelected('r3');
    runs.toggleSelected('r2');
    expect(runs.selected).toEqual(['r3', 'r2']);
    expect(runs.row(runs.run('r1') as IRun).selected).toBe(false);
    expect(runs.canCompareSelected).toBe(true);
    const actions = new FakeActions();
    await runs.compareSelected(actions);
    expect(actions.done).toEqual(['compare r2 r3']);
    runs.toggleSelected('r2');
    expect(runs.selected).toEqual(['r3']);
    expect(runs.canCompareSelected).toBe(false);
    expect(model.notice).toBeNull();
  });

  it('compares nothing without nbdime on the server', async () => {
    const { server, model, runs } = await setUp([aRun('r2'), aRun('r1')]);
    server.status_ = { version: '0', features: ['runs'], archiving: true };
    await model.refreshStatus();
    runs.toggleSelected('r1');
    runs.toggleSelected('r2');
    expect(runs.canCompareSelected).toBe(false);
    expect(runs.isAvailable('comparePrevious', runs.run('r2'))).toBe(false);
  });

  it('copies a run id while an executed notebook opens', async () => {
    const { model, runs } = await setUp([aRun('r2'), aRun('r1')]);
    let release!: () => void;
    const slow: IRunActions = {
      ...new FakeActions(),
      open: () => new Promise<Outcome>(resolve => (release = () => resolve(null)))
    };
    const opening = runs.perform(slow, 'open', 'r2');
    expect(runs.isEnabled('open', 'r1')).toBe(false);
    expect(runs.isEnabled('copyRunId', 'r1')).toBe(true);
    const actions = new FakeActions();
    actions.outcome = 'Copied run id r1 to the clipboard.';
    await runs.perform(actions, 'copyRunId', 'r1');
    expect(model.notice?.text).toBe('Copied run id r1 to the clipboard.');
    release();
    await opening;
  });
});
