import { describe, expect, it } from 'vitest';

import {
  BookstoreApiError,
  IRun,
  IRunPage,
  IRunRequest,
  ISchedule,
  IScheduleRequest,
  IStatus,
  IVersionPage,
  ListedSchedule
} from '../src/api';
import { describeScheduled, schedulesByNotebook } from '../src/catalog-model';
import { HistoryModel } from '../src/model';
import { Outcome } from '../src/panel-model';
import { describeOrigin, statusLabel } from '../src/runs-model';
import { IScheduleActions, lastRunOf, runRequestOf } from '../src/schedules-model';

const KEY = 'kylek/notebooks/a.ipynb';
const DAILY_DAG = 'bookstore_schedule__kylek_notebooks_a__daily__1a2b3c4d';

const schedule = (name: string, overrides: Partial<ISchedule> = {}): ISchedule => ({
  name,
  notebook_key: KEY,
  cron: '0 6 * * *',
  timezone: 'Europe/Paris',
  on_publish: false,
  version_id: null,
  parameters: { x: 3 },
  enabled: true,
  retries: 0,
  timeout: null,
  notify: [],
  dag_id: name === 'daily' ? DAILY_DAG : `bookstore_schedule__kylek_notebooks_a__${name}__00000000`,
  description: 'at 06:00 every day (Europe/Paris)',
  next_runs: ['2026-12-08T06:00:00+01:00', '2026-12-09T06:00:00+01:00', '2026-12-10T06:00:00+01:00'],
  ...overrides
});

let started = Date.parse('2026-12-07T12:00:00Z');

const aRun = (id: string, overrides: Partial<IRun> = {}): IRun => {
  started -= 3600_000;
  return {
    run_id: id,
    notebook_key: KEY,
    status: 'succeeded',
    succeeded: true,
    started_at: new Date(started).toISOString(),
    finished_at: new Date(started + 60_000).toISOString(),
    source_key: `published/${KEY}`,
    source_version_id: 'v1',
    parameters: {},
    output_key: `runs/${id}.ipynb`,
    output_version_id: `out-${id}`,
    error: null,
    airflow: null,
    published_event: false,
    parameters_forced: false,
    request_id: null,
    requested_by: null,
    ...overrides
  };
};

/** A server holding one published notebook's schedules and runs. */
class FakeServer {
  status_: IStatus = { version: '0', features: ['diff', 'runs', 'schedules'], archiving: true };
  saved: IScheduleRequest[] = [];
  deleted: string[] = [];
  requests: IRunRequest[] = [];
  refuse: BookstoreApiError | null = null;

  constructor(
    public schedules_: ListedSchedule[],
    public runs_: IRun[] = []
  ) {}

  async status(): Promise<IStatus> {
    return this.status_;
  }

  async versions(path: string): Promise<IVersionPage> {
    return { key: path, stage: 'workspace', versions: [], next_cursor: null };
  }

  async runs(path: string): Promise<IRunPage> {
    return { path, key: path, notebook_key: KEY, runs: [...this.runs_], next_cursor: null };
  }

  async schedules() {
    return { notebook_key: KEY, schedules: [...this.schedules_] };
  }

  async saveSchedule(path: string, request: IScheduleRequest): Promise<ISchedule> {
    if (this.refuse) {
      throw this.refuse;
    }
    this.saved.push(request);
    const index = this.schedules_.findIndex(entry => 'name' in entry && entry.name === request.name);
    const before = this.schedules_[index] as ISchedule;
    const after = {
      ...before,
      ...request,
      description: `${(before.description ?? '').replace('; disabled', '')}${request.enabled === false ? '; disabled' : ''}`,
      next_runs: request.enabled === false ? [] : before.next_runs
    } as ISchedule;
    this.schedules_[index] = after;
    return after;
  }

  async deleteSchedule(path: string, name: string): Promise<void> {
    this.deleted.push(name);
    this.schedules_ = this.schedules_.filter(entry => !('name' in entry) || entry.name !== name);
  }

  async requestRun(path: string, request: IRunRequest): Promise<IRun> {
    this.requests.push(request);
    const run = aRun(`q${this.requests.length}`, {
      status: 'queued',
      succeeded: null,
      finished_at: null,
      started_at: new Date().toISOString(),
      output_key: '',
      output_version_id: null,
      source_version_id: request.version_id ?? null,
      parameters: request.parameters ?? {},
      request_id: `q${this.requests.length}`,
      requested_by: 'kylek'
    });
    this.runs_ = [run, ...this.runs_];
    return run;
  }
}

class FakeActions implements IScheduleActions {
  confirm = true;
  edited: ISchedule | null = null;
  async create(): Promise<ISchedule | null> {
    return null;
  }
  async edit(path: string, schedule: ISchedule): Promise<ISchedule | null> {
    this.edited = schedule;
    return null;
  }
  async confirmDelete(): Promise<boolean> {
    return this.confirm;
  }
  async copyDagId(schedule: ISchedule): Promise<Outcome> {
    return `Copied DAG id ${schedule.dag_id} to the clipboard.`;
  }
}

const settle = () => new Promise(resolve => setTimeout(resolve, 0));

async function setUp(schedules: ListedSchedule[], runs: IRun[] = []) {
  const server = new FakeServer(schedules, runs);
  const model = new HistoryModel(server as never);
  model.visible = true;
  model.setPath('a.ipynb');
  await model.refreshStatus();
  model.tab = 'schedules';
  await settle();
  return { server, model, actions: new FakeActions() };
}

describe('the Schedules tab', () => {
  it('lists the schedules, with the runs, when shown; documents that are not schedules apart', async () => {
    const broken = { key: 'schedules/kylek/notebooks/a.ipynb/bad.json', error: 'not JSON' };
    const { model } = await setUp([schedule('daily'), broken], [aRun('r1')]);
    expect(model.tabs).toEqual(['workspace', 'published', 'runs', 'schedules']);
    expect(model.schedules.schedules.map(entry => entry.name)).toEqual(['daily']);
    expect(model.schedules.state.broken).toEqual([broken]);
    expect(model.runs.list.state.loaded).toBe(true);
  });

  it('is not offered by a server without schedules', async () => {
    const { server, model } = await setUp([schedule('daily')]);
    server.status_ = { version: '0', features: ['runs'], archiving: true };
    await model.refreshStatus();
    expect(model.tabs).toEqual(['workspace', 'published', 'runs']);
    expect(model.tab).toBe('workspace');
  });

  it('shows each schedule’s words, next run and last run', async () => {
    const byDag = aRun('r2', { status: 'failed', succeeded: false, airflow: { dag_id: DAILY_DAG, run_id: 'x', task_id: 't' } });
    const { model } = await setUp([schedule('daily'), schedule('weekly', { cron: '0 7 * * 1' })], [aRun('r3'), byDag]);
    const row = model.schedules.row(model.schedules.schedule('daily') as ISchedule);
    expect(row).toMatchObject({
      name: 'daily',
      description: 'at 06:00 every day (Europe/Paris)',
      next: 'next Tue 2026-12-08 06:00',
      last: { status: 'failed', label: 'last failed' },
      parameters: 'x=3',
      version: 'latest version',
      dagId: DAILY_DAG
    });
    expect(row.nextTitle).toContain('Wed 2026-12-09 06:00');
    expect(model.schedules.row(model.schedules.schedule('weekly') as ISchedule).last).toBeNull();
  });

  it('runs a schedule now with its version and parameters, and shows the queued run in the Runs tab', async () => {
    const pinned = schedule('daily', { version_id: 'v1', force_parameters: true });
    const { server, model, actions } = await setUp([pinned], [aRun('r1')]);
    await model.schedules.perform(actions, 'runNow', 'daily');
    expect(server.requests).toEqual([{ version_id: 'v1', parameters: { x: 3 }, force_parameters: true }]);
    expect(model.tab).toBe('runs');
    const [queued] = model.runs.runs;
    expect(queued).toMatchObject({ run_id: 'q1', status: 'queued' });
    expect(statusLabel(queued.status)).toBe('queued');
    expect(describeOrigin(queued)).toBe('run now by kylek, waiting for Airflow to start it');
    expect(model.notice?.text).toMatch(/Asked Airflow to run daily now/);
    // The schedule's last run is the one just asked for, though Airflow's watcher, not its DAG, runs it.
    expect(model.schedules.row(pinned).last).toMatchObject({ status: 'queued', label: 'last queued' });
  });

  it('polls the runs while one is queued', async () => {
    const queued = aRun('q', { status: 'queued', succeeded: null, finished_at: null, request_id: 'q' });
    const { server, model } = await setUp([schedule('daily')], [queued]);
    server.runs_ = [{ ...queued, status: 'running', airflow: { dag_id: 'bookstore_run_requests', run_id: 'r', task_id: 't' } }];
    await model.pollRuns();
    expect(model.runs.runs[0].status).toBe('running');
    expect(describeOrigin(model.runs.runs[0])).toBe('DAG bookstore_run_requests, task t, run now');
  });

  it('disables and enables a schedule, saying what it means', async () => {
    const { server, model, actions } = await setUp([schedule('daily')]);
    expect(model.schedules.isAvailable('enable', model.schedules.schedule('daily'))).toBe(false);
    let written = 0;
    model.schedules.written.connect(() => (written += 1));
    await model.schedules.perform(actions, 'disable', 'daily');
    expect(server.saved).toEqual([{ name: 'daily', enabled: false }]);
    expect(model.notice?.text).toBe('Disabled schedule daily: its DAG stays in Airflow but runs on no schedule.');
    const disabled = model.schedules.schedule('daily') as ISchedule;
    expect(model.schedules.row(disabled).next).toBe('disabled: runs on no schedule');
    expect(model.schedules.isAvailable('disable', disabled)).toBe(false);
    await model.schedules.perform(actions, 'enable', 'daily');
    expect(server.saved[1]).toEqual({ name: 'daily', enabled: true });
    expect(model.notice?.text).toBe('Enabled schedule daily: it runs at 06:00 every day (Europe/Paris).');
    expect(written).toBe(2);
  });

  it('shows what the server refused', async () => {
    const { server, model, actions } = await setUp([schedule('daily')]);
    server.refuse = new BookstoreApiError(409, "'a.ipynb' is not published: publish it first", 'NotPublishedError');
    await model.schedules.perform(actions, 'disable', 'daily');
    expect(model.notice).toEqual({ level: 'error', text: "'a.ipynb' is not published: publish it first" });
  });

  it('deletes a schedule only once confirmed', async () => {
    const { server, model, actions } = await setUp([schedule('daily'), schedule('weekly')]);
    actions.confirm = false;
    await model.schedules.perform(actions, 'delete', 'daily');
    expect(server.deleted).toEqual([]);
    actions.confirm = true;
    await model.schedules.perform(actions, 'delete', 'daily');
    expect(server.deleted).toEqual(['daily']);
    expect(model.schedules.schedules.map(entry => entry.name)).toEqual(['weekly']);
    expect(model.notice?.text).toMatch(/^Deleted schedule daily/);
  });

  it('opens the form on the schedule to edit, and copies its DAG id at once', async () => {
    const { model, actions } = await setUp([schedule('daily')]);
    await model.schedules.perform(actions, 'edit', 'daily');
    expect(actions.edited?.name).toBe('daily');
    expect(model.notice).toBeNull();
    await model.schedules.perform(actions, 'copyDagId', 'daily');
    expect(model.notice?.text).toBe(`Copied DAG id ${DAILY_DAG} to the clipboard.`);
  });

  it('lists another notebook’s schedules afresh', async () => {
    const { server, model } = await setUp([schedule('daily')]);
    server.schedules_ = [];
    model.setPath('b.ipynb');
    await settle();
    expect(model.schedules.state.path).toBe('b.ipynb');
    expect(model.schedules.schedules).toEqual([]);
  });
});

describe('a schedule’s runs', () => {
  it('is the newest run its DAG made or that was asked for from it', () => {
    const daily = schedule('daily');
    const mine = aRun('mine', { airflow: { dag_id: DAILY_DAG, run_id: 'x', task_id: 't' } });
    const asked = aRun('asked', { request_id: 'asked' });
    expect(lastRunOf(daily, [aRun('other'), mine])).toBe(mine);
    expect(lastRunOf(daily, [asked, mine], new Map([[DAILY_DAG, ['asked']]]))).toBe(asked);
    expect(lastRunOf(daily, [asked])).toBeUndefined();
  });

  it('asks for a run with the schedule’s version and parameters', () => {
    expect(runRequestOf(schedule('daily'))).toEqual({ version_id: null, parameters: { x: 3 } });
  });
});

describe('schedules in the catalog', () => {
  it('notes the enabled schedules of each notebook', () => {
    const other = { ...schedule('weekly', { cron: '30 7 * * 1' }), notebook_key: 'bob/notebooks/b.ipynb' };
    const byNotebook = schedulesByNotebook([
      schedule('daily'),
      schedule('hourly', { cron: '5 * * * *', on_publish: true }),
      schedule('off', { enabled: false }),
      other,
      { key: 'schedules/x.json', error: 'not JSON' }
    ]);
    expect([...byNotebook.keys()]).toEqual([KEY, 'bob/notebooks/b.ipynb']);
    expect(describeScheduled(byNotebook.get(KEY))).toBe('scheduled: daily 06:00, hourly at :05 + on publish');
    expect(describeScheduled(byNotebook.get('bob/notebooks/b.ipynb'))).toBe('scheduled: Mondays 07:30');
    expect(describeScheduled(undefined)).toBeNull();
    expect(describeScheduled([schedule('a'), schedule('b'), schedule('c')])).toBe(
      'scheduled: daily 06:00, daily 06:00 and 1 more'
    );
  });
});
