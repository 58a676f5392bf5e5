/**
 * Choosing what to compare, and summing up what changed.
 *
 * A comparison has a base (shown on the left, what it was) and a remote (on the right, what
 * it became). The notebook as saved in Jupyter is always the newest side.
 */
import { IStoredRef, IVersion, Stage } from './api';
import { formatTime, shortId, uploadHint, versionTime } from './format';

/** One notebook a person can compare: a stored version, or the saved notebook (`version` null). */
export interface ICompareSide {
  stage: Stage | null;
  version: IVersion | null;
}

export const SAVED: ICompareSide = { stage: null, version: null };

const STAGE_NAMES: Record<Stage, string> = { workspace: 'save', published: 'published version' };

/** How a version id is shown: the panel passes the ids it shows (see uniqueShortIds). */
export type ShortIds = (versionId: string | null) => string;

const fixedShortIds: ShortIds = versionId => shortId(versionId, 8);

/**
 * `save of 2026-11-26 14:03:12 (3f2a…)`, `published version of ...`, or `the notebook as saved
 * now`; the time is when it was saved, with when it reached the bucket if that was much later.
 */
export function describeSide(side: ICompareSide, ids: ShortIds = fixedShortIds): string {
  if (side.stage === null || side.version === null) {
    return 'the notebook as saved now';
  }
  const hint = uploadHint(side.version);
  return (
    `${STAGE_NAMES[side.stage]} of ${formatTime(versionTime(side.version))} ` +
    `(${ids(side.version.version_id)}${hint ? `, ${hint}` : ''})`
  );
}

/** A stable key of a side, for a <select> option. */
export function sideKey(side: ICompareSide): string {
  return side.stage === null || side.version === null
    ? 'saved'
    : `${side.stage}:${side.version.version_id ?? 'null'}`;
}

function time(side: ICompareSide): number {
  if (side.version === null) {
    return Number.POSITIVE_INFINITY;
  }
  // Older means saved earlier, not uploaded earlier: a save queued while the bucket was down reached it
  // long after it was made, maybe after a publication made in the meantime.
  const value = new Date(versionTime(side.version)).getTime();
  return Number.isNaN(value) ? 0 : value;
}

/** The two sides as [base, remote]: the older one is the base. */
export function orderSides(a: ICompareSide, b: ICompareSide): [ICompareSide, ICompareSide] {
  return time(b) < time(a) ? [b, a] : [a, b];
}

/** A stored side as the REST API names it; null for the saved notebook. */
export function storedRef(side: ICompareSide): IStoredRef | null {
  if (side.stage === null || side.version === null) {
    return null;
  }
  return { stage: side.stage, version_id: side.version.version_id };
}

/** The sides a version can be compared with: the saved notebook, then every other listed version. */
export function compareCandidates(
  chosen: ICompareSide,
  listed: Record<Stage, readonly IVersion[]>
): ICompareSide[] {
  const candidates: ICompareSide[] = [SAVED];
  for (const stage of ['workspace', 'published'] as Stage[]) {
    for (const version of listed[stage]) {
      candidates.push({ stage, version });
    }
  }
  const key = sideKey(chosen);
  return candidates.filter(side => sideKey(side) !== key);
}

export interface IDiffSummary {
  added: number;
  removed: number;
  changed: number;
  /** Notebook-level metadata (kernel, language, ...) differs. */
  metadata: boolean;
}

interface IEntry {
  op: string;
  key: string | number;
  diff?: IEntry[];
  valuelist?: unknown[];
  length?: number;
}

/** How many cells nbdime's diff adds, removes and changes. */
export function summarizeDiff(diff: readonly unknown[]): IDiffSummary {
  const summary: IDiffSummary = { added: 0, removed: 0, changed: 0, metadata: false };
  for (const entry of diff as IEntry[]) {
    if (entry.key === 'metadata') {
      summary.metadata = true;
    }
    if (entry.key !== 'cells' || entry.op !== 'patch') {
      continue;
    }
    for (const cell of entry.diff ?? []) {
      if (cell.op === 'addrange') {
        summary.added += cell.valuelist?.length ?? 0;
      } else if (cell.op === 'removerange') {
        summary.removed += cell.length ?? 0;
      } else if (cell.op === 'patch') {
        summary.changed += 1;
      }
    }
  }
  return summary;
}

/**
 * nbdime's diff without its changes of metadata, the notebook's and each cell's: what is left
 * compares sources and outputs. A cell whose metadata alone changed is left out.
 */
export function withoutMetadata(diff: readonly unknown[]): unknown[] {
  return (diff as IEntry[])
    .filter(entry => entry.key !== 'metadata')
    .map(entry => {
      if (entry.key !== 'cells' || entry.op !== 'patch') {
        return entry;
      }
      const cellDiff = (entry.diff ?? []).flatMap(cell => {
        if (cell.op !== 'patch') {
          return [cell];
        }
        const rest = (cell.diff ?? []).filter(part => part.key !== 'metadata');
        return rest.length ? [{ ...cell, diff: rest }] : [];
      });
      return { ...entry, diff: cellDiff };
    })
    .filter(entry => entry.key !== 'cells' || (entry.diff ?? []).length > 0);
}

function cells(count: number): string {
  return `${count} cell${count === 1 ? '' : 's'}`;
}

/** `2 cells changed, 1 added, 1 removed`; `No differences` when there are none. */
export function describeSummary(summary: IDiffSummary): string {
  const parts: string[] = [];
  if (summary.changed) {
    parts.push(`${cells(summary.changed)} changed`);
  }
  if (summary.added) {
    parts.push(`${parts.length ? summary.added : cells(summary.added)} added`);
  }
  if (summary.removed) {
    parts.push(`${parts.length ? summary.removed : cells(summary.removed)} removed`);
  }
  if (summary.metadata) {
    parts.push('notebook metadata changed');
  }
  return parts.length ? capitalise(parts.join(', ')) : 'No differences';
}

function capitalise(text: string): string {
  return text[0].toUpperCase() + text.slice(1);
}
