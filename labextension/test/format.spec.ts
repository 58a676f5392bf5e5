import { describe, expect, it } from 'vitest';

import { IVersion } from '../src/api';
import {
  baseName,
  describeTime,
  formatAge,
  formatDay,
  formatDuration,
  formatSize,
  formatTime,
  shortId,
  uniqueShortIds,
  uploadHint,
  versionTime,
  withEllipsis
} from '../src/format';

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [812, '812 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [200 * 1024, '200 KB'],
    [3.4 * 1024 * 1024, '3.4 MB'],
    [-1, '?']
  ])('%s bytes is %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});

describe('formatTime', () => {
  it('shows a local date and time to the second', () => {
    const iso = '2026-11-26T01:59:19+00:00';
    const local = new Date(iso);
    expect(formatTime(iso)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:19$/);
    expect(formatTime(iso).slice(0, 4)).toBe(String(local.getFullYear()));
  });

  it('shows text that is not a date as it is', () => {
    expect(formatTime('yesterday')).toBe('yesterday');
  });
});

describe('formatDay', () => {
  const local = (y: number, m: number, d: number, h = 12) => new Date(y, m - 1, d, h).toISOString();
  const now = new Date(2026, 10, 26, 9).getTime();
  it.each([
    [local(2026, 11, 26, 0), 'Today'],
    [local(2026, 11, 26, 23), 'Today'],
    [local(2026, 11, 25, 23), 'Yesterday'],
    [local(2026, 11, 24), '2026-11-24'],
    [local(2026, 11, 27), '2026-11-27'],
    ['not a date', 'not a date']
  ])('%s is %s', (iso, text) => {
    expect(formatDay(iso, now)).toBe(text);
  });

  it('knows yesterday across a month', () => {
    expect(formatDay(local(2026, 11, 30), new Date(2026, 11, 1, 8).getTime())).toBe('Yesterday');
  });
});

describe('formatAge', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  it.each([
    ['2026-11-26T11:59:30Z', 'just now'],
    ['2026-11-26T11:55:00Z', '5 min ago'],
    ['2026-11-26T09:00:00Z', '3 h ago'],
    ['2026-11-25T11:00:00Z', '1 day ago'],
    ['2026-11-20T12:00:00Z', '6 days ago'],
    // A clock a little ahead of the browser's is not "in the future".
    ['2026-11-26T12:00:05Z', 'just now'],
    ['not a date', '']
  ])('%s is %s', (iso, text) => {
    expect(formatAge(iso, now)).toBe(text);
  });
});

describe('shortId and baseName', () => {
  it('shortens long ids only', () => {
    expect(shortId('6714885fffb265500f7427e2cc3da215')).toBe('6714885fffb2…');
    expect(shortId('v1')).toBe('v1');
    expect(shortId(null)).toBe('null');
  });

  it('names the file of a path', () => {
    expect(baseName('analysis/mine.ipynb')).toBe('mine.ipynb');
    expect(baseName('mine.ipynb')).toBe('mine.ipynb');
  });
});

describe('uniqueShortIds', () => {
  // SeaweedFS makes version ids from the time: saves made close together share long prefixes.
  const a = '6714a8e1b2c3d4e5f6a7b8c9d0e1f2a3';
  const b = '6714a8e1b2c3d4e5f6a7b8c9d0e1f9ff';
  const c = '6714b000000000000000000000000000';

  it('shows each id by the shortest prefix no other id starts with', () => {
    const shown = uniqueShortIds([a, b, c]);
    expect(shown.get(a)).toBe('6714a8e1b2c3d4e5f6a7b8c9d0e1f2…');
    expect(shown.get(b)).toBe('6714a8e1b2c3d4e5f6a7b8c9d0e1f9…');
    expect(shown.get(c)).toBe('6714b000…');
    const prefixes = [...shown.values()].map(id => id.replace('…', ''));
    for (const [id, prefix] of [a, b, c].map((id, i) => [id, prefixes[i]])) {
      expect(id.startsWith(prefix)).toBe(true);
      expect([a, b, c].filter(other => other.startsWith(prefix))).toEqual([id]);
    }
  });

  it('keeps at least 8 characters, and short ids whole', () => {
    const shown = uniqueShortIds([c, 'v1', null, undefined, c]);
    expect(shown.get(c)).toBe('6714b000…');
    expect(shown.get('v1')).toBe('v1');
    expect(shown.size).toBe(2);
    expect(uniqueShortIds([a], 12).get(a)).toBe('6714a8e1b2c3…');
  });

  it('shows an id whole when another id extends it', () => {
    const shown = uniqueShortIds(['6714a8e1b2', '6714a8e1b2c3']);
    expect(shown.get('6714a8e1b2')).toBe('6714a8e1b2');
    expect(shown.get('6714a8e1b2c3')).toBe('6714a8e1b2c…');
  });
});

describe('withEllipsis', () => {
  it('ends an ongoing action with one ellipsis', () => {
    expect(withEllipsis(`Comparing ${shortId('6713fada89b3c1d2e3f4')}`)).toBe('Comparing 6713fada89b3…');
    expect(withEllipsis('Comparing v1')).toBe('Comparing v1…');
  });
});

describe('save time and upload time', () => {
  const version = (saved: string | null | undefined, uploaded: string): IVersion => ({
    version_id: 'v1',
    last_modified: uploaded,
    saved_at: saved,
    size: 1,
    is_latest: false
  });

  it('is the time of the save when the server says it, else the upload', () => {
    expect(versionTime(version('2026-11-26T10:00:00Z', '2026-11-26T12:00:00Z'))).toBe('2026-11-26T10:00:00Z');
    expect(versionTime(version(undefined, '2026-11-26T12:00:00Z'))).toBe('2026-11-26T12:00:00Z');
    expect(versionTime(version(null, '2026-11-26T12:00:00Z'))).toBe('2026-11-26T12:00:00Z');
  });

  it('hints at the upload only when a minute or more later', () => {
    expect(uploadHint(version('2026-11-26T10:00:00Z', '2026-11-26T10:00:59Z'))).toBeNull();
    expect(uploadHint(version(undefined, '2026-11-26T10:00:00Z'))).toBeNull();
    const late = version('2026-11-26T10:00:00Z', '2026-11-26T10:03:00Z');
    const clock = formatTime(late.last_modified).slice(11, 16);
    expect(uploadHint(late)).toBe(`uploaded ${clock}`);
    expect(describeTime(late)).toBe(`${formatTime(late.saved_at as string)} (uploaded ${clock})`);
  });

  it('names the day of an upload on another day', () => {
    const nextDay = version('2026-11-20T10:00:00Z', '2026-11-22T10:00:00Z');
    expect(uploadHint(nextDay)).toBe(`uploaded ${formatTime(nextDay.last_modified).slice(0, 16)}`);
  });
});

describe('formatDuration', () => {
  const at = (seconds: number) => new Date(Date.parse('2026-11-26T10:00:00Z') + seconds * 1000).toISOString();

  it('says how long to the two largest units', () => {
    expect(formatDuration(at(0), at(0))).toBe('0 s');
    expect(formatDuration(at(0), at(45))).toBe('45 s');
    expect(formatDuration(at(0), at(192))).toBe('3 min 12 s');
    expect(formatDuration(at(0), at(3600 + 5 * 60 + 7))).toBe('1 h 5 min');
    expect(formatDuration(at(0), at(3600 + 7))).toBe('1 h');
    expect(formatDuration(at(0), at(2 * 86400 + 3 * 3600))).toBe('2 days 3 h');
    expect(formatDuration(at(0), at(86400 + 60))).toBe('1 day');
  });

  it('says nothing of times that are not dates, or an end before the start', () => {
    expect(formatDuration('soon', at(0))).toBeNull();
    expect(formatDuration(at(10), at(0))).toBeNull();
  });
});
