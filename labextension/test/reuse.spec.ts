import { describe, expect, it } from 'vitest';

import { BookstoreApiError, ICatalogEntry, ICopyRequest } from '../src/api';
import {
  COPY_NAMES_TRIED,
  compareTargets,
  copyNames,
  copyNotebook,
  dagSnippet,
  nextFreeName,
  taskIdFor
} from '../src/reuse';

const V1 = '6714a8e1b2c3d4e5f6a7b8c9d0e1f2a3';
const V3 = '6714a9000000000000000000000000aa';

const entry = (notebookKey: string, overrides: Partial<ICatalogEntry> = {}): ICatalogEntry => ({
  key: `published/${notebookKey}`,
  notebook_key: notebookKey,
  owner: notebookKey.split('/')[0],
  version_id: V3,
  last_modified: '2026-11-26T10:00:00+00:00',
  size: 1536,
  ...overrides
});

const ALICE = entry('alice/notebooks/analysis/mine.ipynb', { version_id: V1 });
const BOB = entry('bob/notebooks/Forecast.ipynb');
const CAROL = entry('carol/notebooks/analysis/mine.ipynb', { version_id: null });

describe('The DAG snippet', () => {
  it('writes the operator call that runs exactly that version', () => {
    expect(dagSnippet(ALICE)).toBe(
      `PublishedNotebookOperator(task_id="mine", notebook_key="alice/notebooks/analysis/mine.ipynb", version_id="${V1}")`
    );
    expect(dagSnippet(CAROL)).toContain('version_id=None)');
    expect(dagSnippet(entry('bob/notebooks/say "hi".ipynb'))).toContain(
      'task_id="say_hi", notebook_key="bob/notebooks/say \\"hi\\".ipynb"'
    );
    expect(taskIdFor('bob/notebooks/Q3 report (final).ipynb')).toBe('Q3_report_final');
    expect(taskIdFor('bob/notebooks/….ipynb')).toBe('run_notebook');
  });
});

describe('Choosing names and notebooks', () => {
  it('numbers a name beside a file that exists', () => {
    expect(nextFreeName('mine.ipynb')).toBe('mine-1.ipynb');
    expect(nextFreeName('analysis/mine-1.ipynb')).toBe('analysis/mine-2.ipynb');
    expect(nextFreeName('a.b/notes')).toBe('a.b/notes-1');
    expect(nextFreeName('.hidden')).toBe('.hidden-1');
  });

  it('offers the open notebook of the same file name first, then the current one', () => {
    expect(compareTargets(CAROL, ['x.ipynb', 'other/mine.ipynb', 'analysis/mine.ipynb'], 'x.ipynb')).toEqual({
      paths: ['other/mine.ipynb', 'analysis/mine.ipynb', 'x.ipynb'],
      preferred: 'other/mine.ipynb'
    });
    expect(compareTargets(CAROL, ['other/mine.ipynb', 'analysis/mine.ipynb'], 'analysis/mine.ipynb').preferred).toBe(
      'analysis/mine.ipynb'
    );
    expect(compareTargets(CAROL, ['y.ipynb', 'x.ipynb', 'x.ipynb'], 'x.ipynb')).toEqual({
      paths: ['x.ipynb', 'y.ipynb'],
      preferred: 'x.ipynb'
    });
    expect(compareTargets(CAROL, [], null)).toEqual({ paths: [], preferred: null });
  });
});

describe('Copying a published notebook', () => {
  const conflict = (path: string) =>
    new BookstoreApiError(409, `'${path}' already exists: give overwrite to replace it`, 'ConflictError');

  /** A server answering `answers` in turn, recording what it was asked. */
  function copier(...answers: (string | Error)[]) {
    const asked: ICopyRequest[] = [];
    return {
      asked,
      copy: async (notebookKey: string, request: ICopyRequest = {}) => {
        asked.push(request);
        const answer = answers.shift();
        if (answer instanceof Error) {
          throw answer;
        }
        return { path: answer as string, name: answer as string, type: 'notebook' };
      }
    };
  }

  it('numbers the names a copy takes beside a file of its name', () => {
    const names = copyNames('analysis/mine.ipynb');
    expect([0, 1, 2, 3].map(() => names.next().value)).toEqual([
      'analysis/mine.ipynb',
      'analysis/mine-copy.ipynb',
      'analysis/mine-copy-1.ipynb',
      'analysis/mine-copy-2.ipynb'
    ]);
    const bare = copyNames('notes');
    expect([bare.next().value, bare.next().value]).toEqual(['notes', 'notes-copy']);
  });

  it('copies into the folder the notebook was in, without asking', async () => {
    const client = copier('analysis/mine.ipynb');
    const copied = await copyNotebook(client, ALICE, 'analysis/mine.ipynb', async () => {
      throw new Error('not asked');
    });
    expect(copied?.path).toBe('analysis/mine.ipynb');
    expect(client.asked).toEqual([{ version_id: V1, target_path: 'analysis/mine.ipynb' }]);
  });

  it('takes the first free name beside a file of its name, never replacing it', async () => {
    const client = copier(
      conflict('analysis/mine.ipynb'),
      conflict('analysis/mine-copy.ipynb'),
      'analysis/mine-copy-1.ipynb'
    );
    const copied = await copyNotebook(client, ALICE, 'analysis/mine.ipynb', async () => {
      throw new Error('not asked');
    });
    expect(copied?.path).toBe('analysis/mine-copy-1.ipynb');
    expect(client.asked.map(request => request.target_path)).toEqual([
      'analysis/mine.ipynb',
      'analysis/mine-copy.ipynb',
      'analysis/mine-copy-1.ipynb'
    ]);
    expect(client.asked.some(request => request.overwrite)).toBe(false);
  });

  it('asks once every name it tries is taken, and again when a chosen name is', async () => {
    const taken = Array.from({ length: COPY_NAMES_TRIED }, (_, i) => conflict(`Forecast-copy-${i}.ipynb`));
    const client = copier(...taken, conflict('x/a.ipynb'), 'x/a-1.ipynb');
    const questions: string[][] = [];
    const answers = ['x/a.ipynb', 'x/a-1.ipynb'];
    const copied = await copyNotebook(client, BOB, 'Forecast.ipynb', async (message, suggestion) => {
      questions.push([message, suggestion]);
      return { targetPath: answers.shift() as string };
    });
    expect(copied?.path).toBe('x/a-1.ipynb');
    expect(client.asked).toHaveLength(COPY_NAMES_TRIED + 2);
    expect(questions).toEqual([
      [`'Forecast-copy-${COPY_NAMES_TRIED - 1}.ipynb' already exists: give overwrite to replace it`, `Forecast-copy-${COPY_NAMES_TRIED - 1}.ipynb`],
      ["'x/a.ipynb' already exists: give overwrite to replace it", 'x/a-1.ipynb']
    ]);
    expect(client.asked.slice(-2)).toEqual([
      { version_id: V3, target_path: 'x/a.ipynb' },
      { version_id: V3, target_path: 'x/a-1.ipynb' }
    ]);
  });

  it('replaces the taken file when asked to, or gives up', async () => {
    const full = () => Array.from({ length: COPY_NAMES_TRIED }, () => conflict('Forecast.ipynb'));
    const replacing = copier(...full(), conflict('x/a.ipynb'), 'x/a.ipynb');
    const choices = [{ targetPath: 'x/a.ipynb' }, { overwrite: true as const }];
    await copyNotebook(replacing, BOB, 'Forecast.ipynb', async () => choices.shift() ?? null);
    expect(replacing.asked[COPY_NAMES_TRIED + 1]).toEqual({ version_id: V3, target_path: 'x/a.ipynb', overwrite: true });

    const cancelled = copier(...full());
    expect(await copyNotebook(cancelled, BOB, 'Forecast.ipynb', async () => null)).toBeNull();
    expect(cancelled.asked).toHaveLength(COPY_NAMES_TRIED);
  });

  it('lets other errors through, to be shown with what to do', async () => {
    const failing = copier(new BookstoreApiError(403, 'Forbidden', null));
    await expect(copyNotebook(failing, BOB, 'Forecast.ipynb', async () => null)).rejects.toMatchObject({ status: 403 });
  });
});
