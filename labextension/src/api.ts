/**
 * A typed client of bookstore's REST API (`/api/bookstore/...`).
 *
 * It knows nothing of JupyterLab: the plugin hands it a `Requester` that sends the request
 * with Jupyter's own authentication (ServerConnection), and the unit tests hand it a fake.
 */

/** A notebook has two histories in the bucket: its saves and its publications. */
export type Stage = 'workspace' | 'published';

export const STAGES: readonly Stage[] = ['workspace', 'published'];

/** One stored version, as `GET /api/bookstore/versions/<path>` lists it. */
export interface IVersion {
  version_id: string | null;
  /** When the version reached S3. */
  last_modified: string;
  /**
   * When the person saved (or published). A save queued while S3 was down reaches S3, and gets
   * its `last_modified`, much later. Absent from older servers.
   */
  saved_at?: string | null;
  size: number;
  is_latest: boolean;
  /** Published versions only: the workspace version (save) it was published from. */
  source_version_id?: string | null;
}

/** One page of versions, newest first; `next_cursor` is null on the last page. */
export interface IVersionPage {
  key: string;
  stage: Stage;
  versions: IVersion[];
  next_cursor: string | null;
}

/** What `PUT /api/bookstore/publish/<path>` answers. */
export interface IPublished {
  path: string;
  key: string;
  version_id: string | null;
  source_key: string;
  source_version_id: string | null;
  sha256: string | null;
  /**
   * True when the content equals the latest published version: nothing new was published, and
   * `version_id` is that existing publication (publish with `force` to publish anyway).
   */
  unchanged?: boolean;
}

/** What to publish: the notebook as saved (no `versionId`) or one of its saves. */
export interface IPublishOptions {
  versionId?: string | null;
  /** Publish even when the content equals the latest published version. */
  force?: boolean;
}

/** One name a notebook's cell tagged `parameters` assigns, read as papermill reads it. */
export interface IParameter {
  name: string;
  /** Its type as papermill infers it (an annotation or a `# type:` comment); null when unknown. */
  type: string | null;
  /** The assigned expression, as written. */
  default: string;
  /** The comment at the end of its line. */
  help: string;
}

/** What `GET /api/bookstore/parameters/<path>` answers (the schema `NotebookParameters`). */
export interface INotebookParameters {
  path: string;
  /** Index (from 0) of the cell tagged `parameters`; null when no cell is. */
  cell: number | null;
  /** What the tagged cell assigns, in order. */
  parameters: IParameter[];
  /** False when papermill cannot read assignments in the notebook's language. */
  inspectable: boolean;
  /** With no tagged cell: index (from 0) of the code cell that only assigns values, the one to tag. */
  untagged_cell: number | null;
  /** What that cell assigns. */
  untagged_parameters: IParameter[];
  /** The notebook's kernel language. */
  language: string;
}

/** Which notebook to read parameters of: as saved in Jupyter (neither given) or a stored version. */
export interface IParametersOptions {
  stage?: Stage | null;
  versionId?: string | null;
}

/** The archive queue's health, part of `GET /api/bookstore`. */
export interface IArchiveStatus {
  state: 'ok' | 'retrying' | 'held' | 'spool-full' | string;
  /** What S3 is doing wrong while uploads fail: 'throttled', 'bucket-missing', 'credentials-refused', ... */
  fault?: string | null;
  pending: number;
  /** Of the pending saves, autosaves of collaborative editing held back for their interval. */
  waiting?: number;
  pending_bytes?: number;
  archived?: number;
  not_archived?: number;
  last_error: string | null;
  last_error_at?: string | number | null;
  failing_since?: string | number | null;
  last_success_at?: string | number | null;
}

/** What `GET /api/bookstore` answers. */
export interface IStatus {
  version: string;
  /**
   * What the server offers beyond the basics: `diff` (nbdime is installed), `catalog` (the team's
   * publications), `runs` (the runs of published versions).
   */
  features: string[];
  archiving: boolean;
  backend?: string;
  bucket?: string | null;
  endpoint_url?: string | null;
  workspace_prefix?: string;
  published_prefix?: string;
  /** The server's owner, who `{username}` in the prefixes names; absent from older servers. */
  username?: string | null;
  /** "Enabled", "Suspended", null (never versioned) or "unknown" (not checked yet). */
  versioning?: string | null;
  archive?: IArchiveStatus;
}

/** The body of `POST /api/bookstore/restore/<path>`. */
export interface IRestoreRequest {
  stage: Stage;
  version_id: string;
  target_path?: string;
  overwrite?: boolean;
}

/** One side of a comparison: a stored version (the stage's latest when `version_id` is null). */
export interface IStoredRef {
  stage: Stage;
  version_id: string | null;
}

/** Which notebook one side of a comparison is, as the server answers it. */
export interface IComparedVersion {
  /** Null for the notebook as saved in Jupyter. */
  stage: Stage | null;
  key?: string;
  path?: string;
  version_id: string | null;
}

/**
 * What `GET /api/bookstore/diff/<path>` answers: nbdime's diff of `base` to the remote
 * notebook, the shape nbdime's NotebookDiffModel takes. `V` says which notebook each side is:
 * a version, or a run's executed notebook.
 */
export interface IDiffAnswer<V = IComparedVersion> {
  base: Record<string, unknown>;
  diff: unknown[];
  base_version: V;
  remote_version: V;
}

/** The Airflow task instance that ran a notebook. */
export interface IAirflowTask {
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number?: number | null;
  map_index?: number | null;
}

/** `queued`: asked for (Run now) and not started by Airflow yet. */
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** One run of a published version, as `GET /api/bookstore/runs/<path>` lists it. */
export interface IRun {
  run_id: string;
  /** The notebook's path under the published root; absent from older servers. */
  notebook_key?: string;
  status: RunStatus;
  /** Null while it is queued or runs. */
  succeeded: boolean | null;
  started_at: string;
  finished_at: string | null;
  /** The published object and the exact version that ran. */
  source_key: string;
  source_version_id: string | null;
  /** What papermill injected. */
  parameters: Record<string, unknown>;
  /** Where the executed notebook is; its version id once it is uploaded. */
  output_key: string;
  output_version_id: string | null;
  /** The first line of why it failed. */
  error: string | null;
  /** The Airflow task instance, when Airflow ran it. */
  airflow: IAirflowTask | null;
  /** True when publishing the version started the run (a DAG scheduled on the publication). */
  published_event?: boolean;
  /** The run request (Run now) that asked for it; absent from runs nobody asked for. */
  request_id?: string | null;
  /** Who asked for it (Run now). */
  requested_by?: string | null;
  /** It ran with parameters its notebook does not declare: forced past the check. */
  parameters_forced?: boolean;
  /** The task in Airflow's UI, when the server knows Airflow's address. */
  airflow_url?: string | null;
  /** The executed notebook in Airflow's viewer, when the server knows it. */
  viewer_url?: string | null;
}

/** One page of a notebook's runs, newest first; `next_cursor` is null on the last page. */
export interface IRunPage {
  path: string;
  /** The published notebook's key, whose runs these are. */
  key: string;
  /** Its key under the published root, as `PublishedNotebookOperator(notebook_key=...)` names it. */
  notebook_key?: string;
  runs: IRun[];
  next_cursor: string | null;
}

/** The fields of a schedule a person sets (the schema `ScheduleRequest`); absent ones keep their value. */
export interface IScheduleRequest {
  /** Unique per notebook: 1 to 64 letters, digits, `_`, `.` or `-`. */
  name: string;
  /** Five cron fields (minute hour day month weekday) in `timezone`; null: at publications only. */
  cron?: string | null;
  /** An IANA time zone, e.g. `Europe/Paris`. */
  timezone?: string;
  /** Also run at each publication, at exactly the version published. */
  on_publish?: boolean;
  /** The published version to run; null: the latest when the run starts. */
  version_id?: string | null;
  /** papermill parameters, passed verbatim. */
  parameters?: Record<string, unknown>;
  enabled?: boolean;
  retries?: number;
  /** Minutes a run may take; null: no limit. */
  timeout?: number | null;
  /** E-mail addresses told when a run fails. */
  notify?: string[];
  /** Accept parameters the notebook does not declare. */
  force_parameters?: boolean;
}

/** A schedule as the server answers it (the schema `Schedule`): its document, DAG and next runs. */
export interface ISchedule {
  name: string;
  notebook_key: string;
  cron: string | null;
  timezone: string;
  on_publish: boolean;
  version_id: string | null;
  parameters: Record<string, unknown>;
  enabled: boolean;
  retries: number;
  timeout: number | null;
  notify: string[];
  force_parameters?: boolean;
  created_by?: string | null;
  created_at?: string | null;
  updated_by?: string | null;
  updated_at?: string | null;
  /** The Airflow DAG that runs it: a run it made has this `airflow.dag_id`. */
  dag_id: string;
  /** The schedule in words, e.g. `at 06:00 every day (Europe/Paris)`. */
  description?: string;
  /** The next three times the cron fires (ISO, in its time zone); none when disabled. */
  next_runs: string[];
  /** True when the PUT made it, false when it changed it. */
  created?: boolean;
}

/** A schedule document that cannot be read as a schedule (written by hand, say). */
export interface IBrokenSchedule {
  key: string;
  error: string;
}

/** One listed schedule: a schedule, or a document that is not one. */
export type ListedSchedule = ISchedule | IBrokenSchedule;

/** Whether a listed schedule is a document that cannot be read. */
export function isBroken(listed: ListedSchedule): listed is IBrokenSchedule {
  return 'error' in listed && typeof (listed as IBrokenSchedule).error === 'string';
}

/** What `GET /api/bookstore/schedules/<path>` answers. */
export interface INotebookSchedules {
  notebook_key: string;
  schedules: ListedSchedule[];
}

/** What `GET /api/bookstore/schedules` answers: the team's schedules. */
export interface ITeamSchedules {
  schedules_root?: string;
  schedules: ListedSchedule[];
}

/** The body of `POST /api/bookstore/runs/<path>` (Run now). */
export interface IRunRequest {
  /** The published version to run; the latest when absent. */
  version_id?: string | null;
  parameters?: Record<string, unknown>;
  force_parameters?: boolean;
}

/** One run with its executed notebook. */
export interface IRunNotebook {
  run: IRun;
  content: Record<string, unknown>;
}

/** Which executed notebook one side of a comparison of runs is. */
export interface IComparedRun {
  run_id: string;
  output_key: string;
  output_version_id: string | null;
}

/**
 * One published notebook of the team at its latest version, as `GET /api/bookstore/catalog`
 * lists it.
 */
export interface ICatalogEntry {
  /** The full S3 key, e.g. `published/alice/notebooks/analysis/mine.ipynb`. */
  key: string;
  /**
   * The key under the published root, e.g. `alice/notebooks/analysis/mine.ipynb`: what
   * `PublishedNotebookOperator(notebook_key=...)` takes and the catalog's endpoints name.
   */
  notebook_key: string;
  /** Whose notebook it is (the user the key names); null when the prefix names no user. */
  owner: string | null;
  /** The latest published version. */
  version_id: string | null;
  /** When it was published (when it reached S3). */
  last_modified: string;
  size: number;
  /** The Jupyter user who published it, when the publication recorded one. */
  published_by?: string | null;
}

/** One page of the catalog; `next_cursor` is null on the last page. */
export interface ICatalogPage {
  notebooks: ICatalogEntry[];
  next_cursor: string | null;
}

/** The body of `POST /api/bookstore/copy/<notebook_key>`; the server picks the target when none is given. */
export interface ICopyRequest {
  /** The published version to copy; its latest when absent. */
  version_id?: string | null;
  /** Where in the user's own files, a Jupyter path. */
  target_path?: string;
  overwrite?: boolean;
}

/** A published version of anyone's notebook, by its key under the published root. */
export interface IPublishedRef {
  notebook_key: string;
  version_id: string | null;
}

/** The contents model of a file the server wrote: a restore or a copy (only the fields the extension uses). */
export interface IRestored {
  path: string;
  name: string;
  [key: string]: unknown;
}

/**
 * Sends one request to the Jupyter server. `path` is relative to the server's base URL
 * and already percent-encoded, e.g. `api/bookstore/versions/analysis/mine.ipynb?stage=workspace`.
 */
export type Requester = (path: string, init: RequestInit) => Promise<Response>;

/** An error answered by the server (`status` > 0) or a failure to reach it (`status` 0). */
export class BookstoreApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string | null = null
  ) {
    super(message);
    this.name = 'BookstoreApiError';
  }

  /** True when the notebook (or version) is not in the bucket at all. */
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** Percent-encode each segment of a Jupyter path, keeping its slashes. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter(segment => segment !== '')
    .map(segment => encodeURIComponent(segment))
    .join('/');
}

/** A query string of the given parameters, leaving out undefined and null ones. */
export function queryString(params: Record<string, string | number | null | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * The error an answer carries: bookstore answers `{"message", "reason"}`, Jupyter's own
 * handlers `{"message"}` or an HTML page.
 */
export async function errorFromResponse(response: Response): Promise<BookstoreApiError> {
  let message = '';
  let reason: string | null = null;
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') {
      message = typeof body.message === 'string' ? body.message : '';
      reason = typeof body.reason === 'string' ? body.reason : null;
    }
  } catch {
    // Not JSON: a proxy's or Jupyter's HTML error page; the status says enough.
  }
  if (!message) {
    message = response.statusText || `the server answered HTTP ${response.status}`;
  }
  return new BookstoreApiError(response.status, message, reason);
}

/** The REST API of one Jupyter server. */
export class BookstoreClient {
  constructor(private readonly request: Requester) {}

  /** `GET /api/bookstore`: settings, versioning and the archive queue's health. */
  status(): Promise<IStatus> {
    return this.json<IStatus>('api/bookstore', { method: 'GET' });
  }

  /** Publish the notebook as it is saved at `path`, or one of its workspace versions. */
  publish(path: string, options: IPublishOptions = {}): Promise<IPublished> {
    const body: { version_id?: string; force?: boolean } = {};
    if (options.versionId) {
      body.version_id = options.versionId;
    }
    if (options.force) {
      body.force = true;
    }
    return this.json<IPublished>(`api/bookstore/publish/${encodePath(path)}`, {
      method: 'PUT',
      body: JSON.stringify(body)
    });
  }

  /**
   * What the notebook at `path` declares as parameters: as saved in Jupyter, or in a stored
   * version when `stage` or `versionId` is given.
   */
  parameters(path: string, options: IParametersOptions = {}): Promise<INotebookParameters> {
    const query = queryString({ stage: options.stage, version_id: options.versionId });
    return this.json<INotebookParameters>(`api/bookstore/parameters/${encodePath(path)}${query}`, {
      method: 'GET'
    });
  }

  /** One page of the versions of `path` in `stage`, newest first. */
  versions(
    path: string,
    stage: Stage,
    options: { limit?: number; cursor?: string | null } = {}
  ): Promise<IVersionPage> {
    const query = queryString({ stage, limit: options.limit, cursor: options.cursor });
    return this.json<IVersionPage>(`api/bookstore/versions/${encodePath(path)}${query}`, {
      method: 'GET'
    });
  }

  /** The notebook JSON of one version. */
  notebook(path: string, stage: Stage, versionId: string | null): Promise<Record<string, unknown>> {
    const query = queryString({ stage, version_id: versionId });
    return this.json(`api/bookstore/notebook/${encodePath(path)}${query}`, { method: 'GET' });
  }

  /** Write one version into Jupyter: as a new `-restored` file, or over `target_path`. */
  restore(path: string, request: IRestoreRequest): Promise<IRestored> {
    return this.json<IRestored>(`api/bookstore/restore/${encodePath(path)}`, {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  /**
   * Compare `base` with `remote` (nbdime's diff, computed by the server); without `remote`,
   * with the notebook as saved in Jupyter.
   */
  diff(path: string, base: IStoredRef, remote: IStoredRef | null = null): Promise<IDiffAnswer> {
    const query = queryString({
      base_stage: base.stage,
      base_version_id: base.version_id,
      remote_stage: remote?.stage,
      remote_version_id: remote?.version_id
    });
    return this.json<IDiffAnswer>(`api/bookstore/diff/${encodePath(path)}${query}`, { method: 'GET' });
  }

  /** One page of the runs of the published versions of `path`, newest first. */
  runs(path: string, options: { limit?: number; cursor?: string | null } = {}): Promise<IRunPage> {
    const query = queryString({ limit: options.limit, cursor: options.cursor });
    return this.json<IRunPage>(`api/bookstore/runs/${encodePath(path)}${query}`, { method: 'GET' });
  }

  /** One run of `path` with its executed notebook. */
  run(path: string, runId: string): Promise<IRunNotebook> {
    const query = queryString({ run_id: runId });
    return this.json<IRunNotebook>(`api/bookstore/runs/${encodePath(path)}${query}`, { method: 'GET' });
  }

  /** Compare the executed notebooks of two runs of `path`: `baseRunId`'s (left) with `remoteRunId`'s. */
  diffRuns(path: string, baseRunId: string, remoteRunId: string): Promise<IDiffAnswer<IComparedRun>> {
    const query = queryString({ base_run_id: baseRunId, remote_run_id: remoteRunId });
    return this.json<IDiffAnswer<IComparedRun>>(`api/bookstore/diff/${encodePath(path)}${query}`, {
      method: 'GET'
    });
  }

  /** One page of the team's published notebooks, the latest version of each. */
  catalog(options: { limit?: number; cursor?: string | null } = {}): Promise<ICatalogPage> {
    const query = queryString({ cursor: options.cursor, limit: options.limit });
    return this.json<ICatalogPage>(`api/bookstore/catalog${query}`, { method: 'GET' });
  }

  /** The notebook JSON of a published version of anyone's notebook (its latest when `versionId` is null). */
  published(notebookKey: string, versionId: string | null): Promise<Record<string, unknown>> {
    const query = queryString({ version_id: versionId });
    return this.json(`api/bookstore/published/${encodePath(notebookKey)}${query}`, { method: 'GET' });
  }

  /** Copy a published notebook (anyone's) into the user's own files; 409 when the target exists. */
  copy(notebookKey: string, request: ICopyRequest = {}): Promise<IRestored> {
    const body: ICopyRequest = {};
    if (request.version_id) {
      body.version_id = request.version_id;
    }
    if (request.target_path) {
      body.target_path = request.target_path;
    }
    if (request.overwrite) {
      body.overwrite = true;
    }
    return this.json<IRestored>(`api/bookstore/copy/${encodePath(notebookKey)}`, {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }

  /** Compare a published version of anyone's notebook (the base) with the user's notebook saved at `path`. */
  diffWithPublished(path: string, base: IPublishedRef): Promise<IDiffAnswer> {
    const query = queryString({ base_notebook_key: base.notebook_key, base_version_id: base.version_id });
    return this.json<IDiffAnswer>(`api/bookstore/diff/${encodePath(path)}${query}`, { method: 'GET' });
  }

  /** The schedules of the notebook at `path` (one of this server's own). */
  schedules(path: string): Promise<INotebookSchedules> {
    return this.json<INotebookSchedules>(`api/bookstore/schedules/${encodePath(path)}`, { method: 'GET' });
  }

  /** The team's schedules, or those of one published notebook (its key under the published root). */
  teamSchedules(notebookKey: string | null = null): Promise<ITeamSchedules> {
    const query = queryString({ notebook_key: notebookKey });
    return this.json<ITeamSchedules>(`api/bookstore/schedules${query}`, { method: 'GET' });
  }

  /** Create or change the schedule `request.name` of the published notebook at `path`. */
  saveSchedule(path: string, request: IScheduleRequest): Promise<ISchedule> {
    return this.json<ISchedule>(`api/bookstore/schedules/${encodePath(path)}`, {
      method: 'PUT',
      body: JSON.stringify(request)
    });
  }

  /** Remove the schedule `name` of the notebook at `path`. */
  async deleteSchedule(path: string, name: string): Promise<void> {
    await this.send(`api/bookstore/schedules/${encodePath(path)}${queryString({ name })}`, { method: 'DELETE' });
  }

  /** Ask Airflow to run the published notebook at `path` now: its run record, `queued`. */
  requestRun(path: string, request: IRunRequest = {}): Promise<IRun> {
    return this.json<IRun>(`api/bookstore/runs/${encodePath(path)}`, {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  private async json<T>(path: string, init: RequestInit): Promise<T> {
    const response = await this.send(path, init);
    return (await response.json()) as T;
  }

  /** Send a request; an error answer, or none, is thrown as a BookstoreApiError. */
  private async send(path: string, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await this.request(path, init);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new BookstoreApiError(0, `the Jupyter server could not be reached (${detail})`, 'NetworkError');
    }
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    return response;
  }
}
