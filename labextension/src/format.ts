/** How versions are shown: sizes, times and ids. */
import { IVersion } from './api';

/** `812 B`, `1.2 KB`, `3.4 MB`. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '?';
  }
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** `2026-11-26`: the date in the browser's time zone. */
function localDate(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** `2026-11-26 14:03:12` in the browser's time zone; the ISO text when it is not a date. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return `${localDate(date)} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/**
 * `Today`, `Yesterday` or `2026-11-26`: the local day of `iso`, short enough that a narrow
 * panel shows it beside the time; the ISO text when it is not a date.
 */
export function formatDay(iso: string, now: number = Date.now()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const today = new Date(now);
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  const day = localDate(date);
  return day === localDate(today) ? 'Today' : day === localDate(yesterday) ? 'Yesterday' : day;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 days ago`; empty when the time is not a date. */
export function formatAge(iso: string, now: number = Date.now()): string {
  const time = new Date(iso).getTime();
  if (Number.isNaN(time)) {
    return '';
  }
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 60) {
    return 'just now';
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.floor(hours / 24);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/** `14:03`, or `2026-11-26 14:03` when not on the same local day as `reference`. */
function formatClock(iso: string, reference: string): string {
  const date = new Date(iso);
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const day = localDate(date);
  return day === localDate(new Date(reference)) ? clock : `${day} ${clock}`;
}

/** When the person saved (or published) the version; the bucket's upload time from older servers. */
export function versionTime(version: IVersion): string {
  return version.saved_at || version.last_modified;
}

/** Saves reach the bucket a moment after Jupyter saved them: a hint below this is noise. */
const UPLOAD_LAG_MS = 60_000;

/**
 * `uploaded 14:03` when the version reached the bucket a minute or more away from when it was saved
 * (queued while the bucket was down); null otherwise.
 */
export function uploadHint(version: IVersion): string | null {
  if (!version.saved_at) {
    return null;
  }
  const saved = new Date(version.saved_at).getTime();
  const uploaded = new Date(version.last_modified).getTime();
  if (Number.isNaN(saved) || Number.isNaN(uploaded) || Math.abs(uploaded - saved) < UPLOAD_LAG_MS) {
    return null;
  }
  return `uploaded ${formatClock(version.last_modified, version.saved_at)}`;
}

/** `2026-11-26 14:03:12`, with `(uploaded 15:20)` when it reached the bucket much later. */
export function describeTime(version: IVersion): string {
  const hint = uploadHint(version);
  return formatTime(versionTime(version)) + (hint ? ` (${hint})` : '');
}

/** The first characters of a version id, for an id shown on its own (see uniqueShortIds). */
export function shortId(versionId: string | null, length = 12): string {
  if (!versionId) {
    return 'null';
  }
  return versionId.length > length ? `${versionId.slice(0, length)}…` : versionId;
}

function commonPrefixLength(a: string, b: string): number {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) {
    length += 1;
  }
  return length;
}

/**
 * Each id's shortest prefix (at least `minLength` characters) that no other of `ids` starts
 * with, followed by `…` when it is shorter than the id.
 *
 * S3 servers such as SeaweedFS make version ids from the time, so the ids of versions made
 * close together share long prefixes: cut at a fixed length, two versions would read the same.
 */
export function uniqueShortIds(
  ids: Iterable<string | null | undefined>,
  minLength = 8
): Map<string, string> {
  const sorted = [...new Set([...ids].filter((id): id is string => !!id))].sort();
  const shown = new Map<string, string>();
  sorted.forEach((id, index) => {
    // In sorted order, the ids sharing the longest prefix with `id` are its neighbours.
    const shared = Math.max(
      index > 0 ? commonPrefixLength(id, sorted[index - 1]) : 0,
      index < sorted.length - 1 ? commonPrefixLength(id, sorted[index + 1]) : 0
    );
    const length = Math.max(minLength, shared + 1);
    shown.set(id, length < id.length ? `${id.slice(0, length)}…` : id);
  });
  return shown;
}

/**
 * `Comparing 6713fada…`: an ongoing action's text ends with one ellipsis, also when the short
 * id in it already ends with one.
 */
export function withEllipsis(text: string): string {
  return text.endsWith('…') ? text : `${text}…`;
}

/** The file name of a Jupyter path. */
export function baseName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/**
 * `45 s`, `3 min 12 s`, `1 h 5 min`, `2 days 3 h`: how long from `startIso` to `endIso`, to the
 * two largest units; null when either is not a date or the end is before the start.
 */
export function formatDuration(startIso: string, endIso: string): string | null {
  const ms = new Date(endIso).getTime() - new Date(startIso).getTime();
  if (Number.isNaN(ms) || ms < 0) {
    return null;
  }
  const seconds = Math.round(ms / 1000);
  const units: [number, string][] = [
    [Math.floor(seconds / 86400), 'day'],
    [Math.floor(seconds / 3600) % 24, 'h'],
    [Math.floor(seconds / 60) % 60, 'min'],
    [seconds % 60, 's']
  ];
  const first = units.findIndex(([value]) => value > 0);
  if (first === -1) {
    return '0 s';
  }
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => (unit === 'day' ? `${value} day${value === 1 ? '' : 's'}` : `${value} ${unit}`))
    .join(' ');
}
