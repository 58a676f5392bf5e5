/**
 * Reusing a colleague's published notebook: copying it into one's own files, into the folder
 * it was in (another name, or replacing, when the one chosen is taken), which of one's notebooks to compare it with, and
 * the operator line that runs it in a DAG.
 *
 * Imports no JupyterLab widget: the dialogs that ask are passed in (catalog-actions.ts).
 */
import { BookstoreApiError, BookstoreClient, ICatalogEntry, ICopyRequest, IRestored } from './api';
import { baseName } from './format';

/** A Python string literal (JSON's escapes are Python's too). */
function pythonString(text: string): string {
  return JSON.stringify(text);
}

/** An Airflow task id for running the notebook: its file name without `.ipynb`, in the characters task ids allow. */
export function taskIdFor(notebookKey: string): string {
  const stem = baseName(notebookKey).replace(/\.ipynb$/i, '');
  const taskId = stem.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.]+|_+$/g, '');
  return taskId || 'run_notebook';
}

/**
 * The operator call that runs exactly this version in a DAG:
 * `PublishedNotebookOperator(task_id="mine", notebook_key="alice/notebooks/mine.ipynb", version_id="...")`.
 */
export function dagSnippet(entry: ICatalogEntry): string {
  const versionId = entry.version_id ? pythonString(entry.version_id) : 'None';
  return (
    `PublishedNotebookOperator(task_id=${pythonString(taskIdFor(entry.notebook_key))}, ` +
    `notebook_key=${pythonString(entry.notebook_key)}, version_id=${versionId})`
  );
}

/** A name beside a file that exists: `analysis/mine-1.ipynb` for `analysis/mine.ipynb`, `-3` after `-2`. */
export function nextFreeName(path: string): string {
  const slash = path.lastIndexOf('/') + 1;
  const folder = path.slice(0, slash);
  const name = path.slice(slash);
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const numbered = /^(.*)-(\d+)$/.exec(stem);
  const next = numbered ? `${numbered[1]}-${Number(numbered[2]) + 1}` : `${stem}-1`;
  return `${folder}${next}${extension}`;
}

/**
 * Which of the user's notebooks to offer for comparing with `entry`: the open ones with its
 * file name first (the current one first among them), then the current one, then the other
 * open ones; `preferred` is the one chosen at first, null when none is open.
 */
export function compareTargets(
  entry: ICatalogEntry,
  open: readonly string[],
  current: string | null
): { paths: string[]; preferred: string | null } {
  const name = baseName(entry.notebook_key);
  const unique = [...new Set(open)];
  const rank = (path: string) => (baseName(path) === name ? 0 : 2) + (path === current ? 0 : 1);
  const paths = unique
    .map((path, index) => ({ path, index }))
    .sort((a, b) => rank(a.path) - rank(b.path) || a.index - b.index)
    .map(item => item.path);
  return { paths, preferred: paths.length ? paths[0] : null };
}

/** What the person chose when a copy's target exists: another path, replacing it, or nothing. */
export type CopyChoice = { targetPath: string } | { overwrite: true } | null;

/** How many free names a copy tries by itself before it asks: `mine.ipynb`, `mine-copy.ipynb`, `mine-copy-1.ipynb`, ... */
export const COPY_NAMES_TRIED = 20;

/** `path`, then the names a copy of it may take beside it: `a/mine-copy.ipynb`, `a/mine-copy-1.ipynb`, ... */
export function* copyNames(path: string): Generator<string, never> {
  yield path;
  const slash = path.lastIndexOf('/') + 1;
  const name = path.slice(slash);
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let counter = 0; ; counter++) {
    yield `${path.slice(0, slash)}${stem}-copy${counter ? `-${counter}` : ''}${extension}`;
  }
}

/**
 * Copy a published notebook into the user's files at `target` (the path it had in its
 * owner's notebooks, folders created as needed), or beside it under the first free `-copy`
 * name, never over a file; when none of {@link COPY_NAMES_TRIED} names is free, or a name
 * the person chose exists (409), where `ask` says, given the server's message and a
 * free-looking name to suggest. Answers the copy, or null when the person gave up.
 */
export async function copyNotebook(
  client: Pick<BookstoreClient, 'copy'>,
  entry: ICatalogEntry,
  target: string,
  ask: (message: string, suggestion: string) => Promise<CopyChoice>
): Promise<IRestored | null> {
  const names = copyNames(target);
  let request: ICopyRequest = { version_id: entry.version_id, target_path: names.next().value };
  let tried = 1;
  let chosen = false;
  for (;;) {
    try {
      return await client.copy(entry.notebook_key, request);
    } catch (error) {
      if (!(error instanceof BookstoreApiError) || error.status !== 409) {
        throw error;
      }
      if (!chosen && tried < COPY_NAMES_TRIED) {
        request = { version_id: entry.version_id, target_path: names.next().value };
        tried++;
        continue;
      }
      // Suggest the next name it would have tried, or one beside the name the person chose.
      const suggestion = chosen ? nextFreeName(request.target_path ?? target) : names.next().value;
      const choice = await ask(error.message, suggestion);
      if (choice === null) {
        return null;
      }
      chosen = true;
      request =
        'overwrite' in choice
          ? { ...request, overwrite: true }
          : { version_id: entry.version_id, target_path: choice.targetPath };
    }
  }
}
