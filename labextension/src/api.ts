/**
 * A typed client of bookstore's REST API (`/api/bookstore/...`).
 *
 * It knows nothing of JupyterLab: the plugin hands it a `Requester` that sends the request
 * with Jupyter's own authentication (ServerConnection), and the unit tests hand it a fake.
 *
 * The shapes of answers and bodies are the schemas of the API's OpenAPI document
 * (bookstore/jupyter/openapi.yaml), from which `./openapi` is generated
 * (`npm run generate-api-types`): what the document says is what the server answers, and a
 * change there that the extension does not follow fails to compile.
 */
import type { components } from './openapi';

type Schemas = components['schemas'];

/** A notebook has two histories in the bucket: its saves and its publications. */
export type Stage = Schemas['Stage'];

export const STAGES: readonly Stage[] = ['workspace', 'published'];

/** One stored version, as `GET /api/bookstore/versions/<path>` lists it. */
export type IVersion = Schemas['Version'];

/** One page of versions, newest first; `next_cursor` is null on the last page. */
export type IVersionPage = Schemas['VersionPage'];

/** A notebook in nbformat's JSON, as a version or a publication stores it. */
export type INotebook = Schemas['Notebook'];

/** What `PUT /api/bookstore/publish/<path>` answers. */
export type IPublished = Schemas['Published'];

/** What to publish: the notebook as saved (no `versionId`) or one of its saves. */
export interface IPublishOptions {
  versionId?: string | null;
  /** Publish even when the content equals the latest published version. */
  force?: boolean;
}

/** One name a notebook's cell tagged `parameters` assigns, read as papermill reads it. */
export type IParameter = Schemas['Parameter'];

/** What `GET /api/bookstore/parameters/<path>` answers. */
export type INotebookParameters = Schemas['NotebookParameters'];

/** Which notebook to read parameters of: as saved in Jupyter (neither given) or a stored version. */
export interface IParametersOptions {
  stage?: Stage | null;
  versionId?: string | null;
}

/** The archive queue's health, part of `GET /api/bookstore`. */
export type IArchiveStatus = Schemas['ArchiveStatus'];

/** What `GET /api/bookstore` answers. */
export type IStatus = Schemas['Status'];

/** The body of `POST /api/bookstore/restore/<path>`. */
export type IRestoreRequest = Schemas['RestoreRequest'];

/** One side of a comparison: a stored version (the stage's latest when `version_id` is null). */
export interface IStoredRef {
  stage: Stage;
  version_id: string | null;
}

/** Which notebook one side of a comparison is, as the server answers it. */
export type IComparedVersion = Schemas['ComparedStoredVersion'];

/** Which executed notebook one side of a comparison of runs is. */
export type IComparedRun = Schemas['ComparedRun'];

/**
 * What `GET /api/bookstore/diff/<path>` answers: nbdime's diff of `base` to the remote
 * notebook, the shape nbdime's NotebookDiffModel takes. `V` says which notebook each side is:
 * a version, or a run's executed notebook.
 */
export type IDiffAnswer<V = IComparedVersion> = Omit<
  Schemas['DiffAnswer'],
  'base_version' | 'remote_version'
> & {
  base_version: V;
  remote_version: V;
};

/** The Airflow task instance that ran a notebook. */
export type IAirflowTask = Schemas['AirflowTask'];

/** `queued`: asked for (Run now) and not started by Airflow yet. */
export type RunStatus = IRun['status'];

/** One run of a published version, as `GET /api/bookstore/runs/<path>` lists it. */
export type IRun = Schemas['Run'];

/** One page of a notebook's runs, newest first; `next_cursor` is null on the last page. */
export type IRunPage = Schemas['RunPage'];

/** The fields of a schedule a person sets; absent ones keep their value. */
export type IScheduleRequest = Schemas['ScheduleRequest'];

/** A schedule as the server answers it: its document, DAG and next runs. */
export type ISchedule = Schemas['Schedule'];

/** A schedule document that cannot be read as a schedule (written by hand, say). */
export type IBrokenSchedule = Schemas['BrokenSchedule'];

/** One listed schedule: a schedule, or a document that is not one. */
export type ListedSchedule = Schemas['ListedSchedule'];

/** Whether a listed schedule is a document that cannot be read. */
export function isBroken(listed: ListedSchedule): listed is IBrokenSchedule {
  return 'error' in listed && typeof (listed as IBrokenSchedule).error === 'string';
}

/** What `GET /api/bookstore/schedules/<path>` answers. */
export type INotebookSchedules = Schemas['NotebookSchedules'];

/** What `GET /api/bookstore/schedules` answers: the team's schedules. */
export type ITeamSchedules = Schemas['TeamSchedules'];

/** The body of `POST /api/bookstore/runs/<path>` (Run now). */
export type IRunRequest = Schemas['RunRequest'];

/** One run with its executed notebook. */
export type IRunNotebook = Schemas['RunWithNotebook'];

/**
 * One published notebook of the team at its latest version, as `GET /api/bookstore/catalog`
 * lists it.
 */
export type ICatalogEntry = Schemas['CatalogEntry'];

/** One page of the catalog; `next_cursor` is null on the last page. */
export type ICatalogPage = Schemas['CatalogPage'];

/** The body of `POST /api/bookstore/copy/<notebook_key>`; the server picks the target when none is given. */
export type ICopyRequest = Schemas['CopyRequest'];

/** A published version of anyone's notebook, by its key under the published root. */
export interface IPublishedRef {
  notebook_key: string;
  version_id: string | null;
}

/** The contents model of a file the server wrote: a restore or a copy. */
export type IRestored = Schemas['ContentsModel'];

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
