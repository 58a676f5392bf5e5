import { describe, expect, it } from 'vitest';

import { BookstoreApiError, ICatalogEntry, ICopyRequest } from '../src/api';
import { compareTargets, copyNotebook, dagSnippet, nextFreeName, taskIdFor } from '../src/reuse';

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
        return { path: answer as string, name: answer as string };
      }
    };
  }

  it('copies where the server puts it, without asking', async () => {
    const client = copier('Forecast-copy.ipynb');
    const copied = await copyNotebook(client, BOB, async () => {
      throw new Error('not asked');
    });
    expect(copied?.path).toBe('Forecast-copy.ipynb');
    expect(client.asked).toEqual([{ version_id: V3 }]);
  });

  it('asks on a name taken, suggesting a free-looking one, and copies under the new name', async () => {
    const client = copier(conflict('Forecast.ipynb'), conflict('x/a.ipynb'), 'x/a-1.ipynb');
    const questions: string[][] = [];
    const answers = ['x/a.ipynb', 'x/a-1.ipynb'];
    const copied = await copyNotebook(client, BOB, async (message, suggestion) => {
      questions.push([message, suggestion]);
      return { targetPath: answers.shift() as string };
    });
    expect(copied?.path).toBe('x/a-1.ipynb');
    expect(questions).toEqual([
      ["'Forecast.ipynb' already exists: give overwrite to replace it", 'Forecast-1.ipynb'],
      ["'x/a.ipynb' already exists: give overwrite to replace it", 'x/a-1.ipynb']
    ]);
    expect(client.asked).toEqual([
      { version_id: V3 },
      { version_id: V3, target_path: 'x/a.ipynb' },
      { version_id: V3, target_path: 'x/a-1.ipynb' }
    ]);
  });

  it('replaces the taken file when asked to, or gives up', async () => {
    const replacing = copier(conflict('x/a.ipynb'), conflict('x/a.ipynb'), 'x/a.ipynb');
    const choices = [{ targetPath: 'x/a.ipynb' }, { overwrite: true as const }];
    await copyNotebook(replacing, BOB, async () => choices.shift() ?? null);
    expect(replacing.asked[2]).toEqual({ version_id: V3, target_path: 'x/a.ipynb', overwrite: true });

    const cancelled = copier(conflict('Forecast.ipynb'));
    expect(await copyNotebook(cancelled, BOB, async () => null)).toBeNull();
    expect(cancelled.asked).toHaveLength(1);
  });

  it('lets other errors through, to be shown with what to do', async () => {
    const failing = copier(new BookstoreApiError(403, 'Forbidden', null));
    await expect(copyNotebook(failing, BOB, async () => null)).rejects.toMatchObject({ status: 403 });
  });
});
