/**
 * What the extension tells a person: the archive's health and errors, each with what to do.
 */
import { BookstoreApiError, IPublished, IStatus, Stage } from './api';
import { baseName } from './format';

export type Level = 'ok' | 'info' | 'warning' | 'error';

export interface INotice {
  level: Level;
  text: string;
}

/**
 * Sentences joined with spaces, each ending with terminal punctuation. Server and storage messages
 * may end with their own (`is the server running?`), so a period is added only when missing;
 * empty parts are left out.
 */
export function sentences(...parts: (string | null | undefined | false)[]): string {
  return parts
    .map(part => (part || '').trim())
    .filter(part => part !== '')
    .map(part => (/[.?!…]["')\]]*$/.test(part) ? part : `${part}.`))
    .join(' ');
}

function plural(count: number, one: string, many: string = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * How the built-in backends are named to a person: the scheme of their buckets' URIs (as the
 * server's `Store.uri` writes them), the service's name, and the name of their settings in
 * `c.Bookstore`. Another backend is named by its own name.
 */
const STORES: Record<string, { scheme: string; name: string; settings: string }> = {
  s3: { scheme: 's3', name: 'S3', settings: 'S3' },
  gcs: { scheme: 'gs', name: 'GCS', settings: 'GCS' }
};

function storeOf(status: IStatus): { scheme: string; name: string; settings: string } {
  const backend = status.backend || 's3';
  return STORES[backend] ?? { scheme: backend, name: backend, settings: '<backend>' };
}

/**
 * The notices the archive's status calls for, most serious first; one `ok` notice when
 * everything is archived.
 */
export function describeHealth(status: IStatus): INotice[] {
  const notices: INotice[] = [];
  const store = storeOf(status);
  const bucket = status.bucket_uri || (status.bucket ? `${store.scheme}://${status.bucket}` : 'the bucket');
  if (!status.bucket) {
    notices.push({
      level: 'error',
      text:
        `No ${store.name} bucket is configured for this Jupyter server, so nothing is archived or ` +
        'published. ' +
        `Set c.Bookstore.${store.settings}.bucket in its configuration and restart it.`
    });
    return notices;
  }
  if (!status.archiving) {
    notices.push({
      level: 'warning',
      text:
        'Saves are not archived on this server: its contents manager is not BookstoreContentsArchiver ' +
        '(c.ServerApp.contents_manager_class). Versions already in the bucket are listed below.'
    });
  }
  const versioning = status.versioning;
  const held = status.archive?.state === 'held';
  if (
    status.archiving &&
    !held &&
    versioning !== 'Enabled' &&
    versioning !== 'unknown' &&
    versioning !== undefined
  ) {
    const state = versioning === 'Suspended' ? 'suspended' : 'not enabled';
    notices.push({
      level: 'error',
      text:
        `Versioning is ${state} on ${bucket}: each save replaces the previous one, so no history is kept. ` +
        (status.versioning_fix
          ? `Ask whoever runs the bucket to ${status.versioning_fix}.`
          : 'Ask whoever runs the bucket to enable versioning on it.')
    });
  }
  const archive = status.archive;
  if (archive) {
    const error = archive.last_error && `Last error: ${archive.last_error}`;
    if (archive.state === 'spool-full') {
      notices.push({
        level: 'error',
        text: sentences(
          `${store.name} has been failing for long enough that the archive spool is full: new saves ` +
            `are saved on this server but NOT archived until ${store.name} answers again` +
            (archive.not_archived ? ` (${plural(archive.not_archived, 'save')} not archived so far)` : ''),
          error
        )
      });
    } else if (held) {
      notices.push({
        level: 'error',
        text: sentences(
          `${bucket} stopped keeping versions: ${plural(archive.pending, 'save')} ` +
            `${archive.pending === 1 ? 'is' : 'are'} kept on this server, not archived, so that none ` +
            `replaces another; they are archived once versioning is enabled again`,
          error
        )
      });
    } else if (archive.state === 'retrying') {
      notices.push({
        level: 'error',
        text: sentences(
          `Archiving to ${bucket} is failing; ${plural(archive.pending, 'save')} ` +
            `${archive.pending === 1 ? 'is' : 'are'} kept on this server and retried`,
          error
        )
      });
    } else {
      const waiting = archive.waiting ?? 0;
      if (archive.pending > waiting) {
        notices.push({
          level: 'info',
          text: `${plural(archive.pending - waiting, 'save')} waiting to be archived to ${bucket}.`
        });
      }
      if (waiting > 0) {
        notices.push({
          level: 'info',
          text:
            `${plural(waiting, 'autosave')} of collaborative editing ${waiting === 1 ? 'is' : 'are'} ` +
            'archived once the autosave interval since the last version is over (saving archives at once).'
        });
      }
    }
  }
  if (notices.length === 0) {
    notices.push({
      level: 'ok',
      text: status.archiving ? `All saves are archived to ${bucket}.` : `Versions are read from ${bucket}.`
    });
  }
  return notices;
}

/** What went wrong, and what to do about it, in one or two sentences. */
export function describeError(error: unknown): string {
  if (!(error instanceof BookstoreApiError)) {
    return error instanceof Error ? error.message : String(error);
  }
  switch (error.status) {
    case 0:
      return sentences(capitalise(error.message), 'Check that Jupyter is still running, then try again.');
    case 401:
    case 403:
      return 'Jupyter refused the request: your session may have expired. Reload the page and sign in again.';
    case 404:
      if (!error.reason || error.reason === 'Not Found') {
        return (
          'This Jupyter server does not answer /api/bookstore: the bookstore server extension is not ' +
          'enabled (jupyter server extension enable bookstore).'
        );
      }
      return capitalise(error.message);
    case 503:
      if (error.reason === 'MisconfiguredError') {
        return sentences(
          capitalise(error.message),
          "Your notebooks are saved on this server; whoever runs it needs to fix bookstore's bucket settings."
        );
      }
      return sentences(
        `The bucket is unavailable: ${error.message}`,
        'Your notebooks are saved on this server; try again once it answers.'
      );
    default:
      return capitalise(error.message);
  }
}

/**
 * What a tab of the Version history says when the notebook has nothing there. Said once: the
 * server's own words (`... has no published versions ...: publish it first`) say the same
 * again, so the panel keeps them for a tooltip.
 */
export function describeEmpty(tab: Stage | 'runs'): string {
  switch (tab) {
    case 'published':
      return 'Not published yet: use Publish in the notebook toolbar (or File ▸ Publish Notebook).';
    case 'runs':
      return (
        'No runs yet: runs appear here when a published version of this notebook is run, by an ' +
        'Airflow task (PublishedNotebookOperator) or with bookstore run in a terminal.'
      );
    default:
      return 'No archived saves yet: save the notebook and its versions appear here.';
  }
}

/** What the Published notebooks panel says when the server lists no catalog (it is older than the extension). */
export function describeNoCatalog(): string {
  return (
    'This Jupyter server does not offer a catalog of published notebooks: its bookstore is older ' +
    'than this JupyterLab extension. Ask whoever runs it to upgrade bookstore.'
  );
}

/**
 * What the Published notebooks panel says when it lists nothing: nobody published yet, or
 * nothing loaded matches the filter (`more`: pages not loaded yet may).
 */
export function describeCatalogEmpty(filter: string, more: boolean): string {
  const text = filter.trim();
  if (!text) {
    return 'Nobody on the team has published a notebook yet: use Publish in the notebook toolbar (or File ▸ Publish Notebook).';
  }
  return `No notebook ${more ? 'loaded so far ' : ''}has “${text}” in its owner or path${
    more ? ': Load more to look further.' : '.'
  }`;
}

/**
 * The outcome of publishing, naming the published version by `id` (its short form). When the
 * content equals the latest publication the server publishes nothing and answers that one.
 */
export function describePublished(published: IPublished, id: string): INotice {
  if (published.unchanged) {
    return {
      level: 'info',
      text: `Already published: version ${id} is the same as this save (nothing new was published).`
    };
  }
  return { level: 'ok', text: `Published version ${id} of ${baseName(published.path)}.` };
}

function capitalise(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
