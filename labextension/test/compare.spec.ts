import { describe, expect, it } from 'vitest';

import { IVersion } from '../src/api';
import {
  SAVED,
  compareCandidates,
  describeSide,
  describeSummary,
  orderSides,
  sideKey,
  storedRef,
  summarizeDiff,
  withoutMetadata
} from '../src/compare';
import { formatTime, uploadHint } from '../src/format';

const version = (id: string, time: string): IVersion => ({
  version_id: id,
  last_modified: time,
  size: 100,
  is_latest: false
});

const older = { stage: 'workspace' as const, version: version('w1', '2026-11-26T01:00:00+00:00') };
const newer = { stage: 'published' as const, version: version('p1', '2026-11-26T02:00:00+00:00') };

describe('orderSides', () => {
  it('puts the older version on the left, whichever was chosen first', () => {
    expect(orderSides(newer, older)).toEqual([older, newer]);
    expect(orderSides(older, newer)).toEqual([older, newer]);
  });

  it('always puts the saved notebook on the right', () => {
    expect(orderSides(SAVED, newer)).toEqual([newer, SAVED]);
    expect(storedRef(SAVED)).toBeNull();
    expect(storedRef(older)).toEqual({ stage: 'workspace', version_id: 'w1' });
  });
});

describe('compareCandidates', () => {
  it('offers the saved notebook first, then every other listed version', () => {
    const listed = { workspace: [older.version, version('w0', '2026-11-26T00:00:00+00:00')], published: [newer.version] };
    const keys = compareCandidates(older, listed).map(sideKey);
    expect(keys).toEqual(['saved', 'workspace:w0', 'published:p1']);
  });

  it('tells a save and a publication with the same id apart', () => {
    const same = { stage: 'published' as const, version: version('w1', '2026-11-26T03:00:00+00:00') };
    const keys = compareCandidates(older, { workspace: [older.version], published: [same.version] }).map(sideKey);
    expect(keys).toEqual(['saved', 'published:w1']);
  });
});

describe('describeSide', () => {
  it('names the stage and a short id', () => {
    expect(describeSide(older)).toMatch(/^save of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(w1\)$/);
    expect(describeSide(newer)).toMatch(/^published version of /);
    expect(describeSide(SAVED)).toBe('the notebook as saved now');
  });
});

describe('save times and short ids', () => {
  // Saved first, uploaded last: queued while S3 was down.
  const queued = {
    stage: 'workspace' as const,
    version: { ...version('w0', '2026-11-26T05:00:00+00:00'), saved_at: '2026-11-26T00:30:00+00:00' }
  };

  it('orders by when the versions were saved, not uploaded', () => {
    expect(orderSides(older, queued)).toEqual([queued, older]);
  });

  it('names the save time, the late upload and the short id given', () => {
    const saved = formatTime('2026-11-26T00:30:00+00:00');
    expect(uploadHint(queued.version)).toMatch(/^uploaded /);
    expect(describeSide(queued, id => `${id}-short`)).toBe(`save of ${saved} (w0-short, ${uploadHint(queued.version)})`);
  });
});

describe('summarizeDiff', () => {
  // What nbdime's diff_notebooks answers when cell 0 changed, one cell was added and two removed.
  const diff = [
    { op: 'patch', key: 'metadata', diff: [{ op: 'replace', key: 'language', value: 'R' }] },
    {
      op: 'patch',
      key: 'cells',
      diff: [
        { op: 'patch', key: 0, diff: [{ op: 'patch', key: 'source', diff: [] }] },
        { op: 'addrange', key: 1, valuelist: [{ cell_type: 'markdown', source: 'new' }] },
        { op: 'removerange', key: 1, length: 2 }
      ]
    }
  ];

  it('counts changed, added and removed cells', () => {
    expect(summarizeDiff(diff)).toEqual({ added: 1, removed: 2, changed: 1, metadata: true });
    expect(describeSummary(summarizeDiff(diff))).toBe(
      '1 cell changed, 1 added, 2 removed, notebook metadata changed'
    );
  });

  it('says when there is nothing to show', () => {
    expect(describeSummary(summarizeDiff([]))).toBe('No differences');
    expect(describeSummary({ added: 3, removed: 0, changed: 0, metadata: false })).toBe('3 cells added');
  });
});

describe('withoutMetadata', () => {
  it("leaves out the notebook's and the cells' metadata changes, and cells whose metadata alone changed", () => {
    const source = { op: 'patch', key: 'source', diff: [{ op: 'addrange', key: 0, valuelist: ['x = 2\n'] }] };
    const metadata = { op: 'patch', key: 'metadata', diff: [{ op: 'remove', key: 'tags' }] };
    const added = { op: 'addrange', key: 3, valuelist: [{ cell_type: 'code', source: '', metadata: {} }] };
    const diff = [
      {
        op: 'patch',
        key: 'cells',
        diff: [
          { op: 'patch', key: 0, diff: [metadata, source] },
          { op: 'patch', key: 1, diff: [metadata] },
          added
        ]
      },
      { op: 'patch', key: 'metadata', diff: [{ op: 'remove', key: 'papermill' }] }
    ];
    expect(withoutMetadata(diff)).toEqual([
      { op: 'patch', key: 'cells', diff: [{ op: 'patch', key: 0, diff: [source] }, added] }
    ]);
    expect(withoutMetadata([{ op: 'patch', key: 'cells', diff: [{ op: 'patch', key: 1, diff: [metadata] }] }])).toEqual(
      []
    );
  });
});
