import { describe, expect, it } from 'vitest';

import { baseName, formatAge, formatSize, formatTime, shortId } from '../src/format';

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
