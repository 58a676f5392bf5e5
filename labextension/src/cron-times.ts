/**
 * The times a cron fires at, in the browser: its five fields read (values, ranges, lists,
 * steps, names; croniter's rules), and the next times it fires in an IANA time zone, as that
 * zone's wall clock reads them.
 *
 * The Schedule form shows the next three run times before anything is saved, so they are
 * computed here; once saved, the server's answer (`next_runs`, from croniter) is what the
 * Schedules tab shows. Pure, so the unit tests reach it.
 */
import { NUMBER, WEEKDAYS, pad } from './cron';

/** A cron that cannot be read, with what to fix. */
export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronError';
  }
}

interface IFieldSpec {
  name: string;
  low: number;
  high: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const SPECS: readonly IFieldSpec[] = [
  { name: 'minute', low: 0, high: 59 },
  { name: 'hour', low: 0, high: 23 },
  { name: 'day-of-month', low: 1, high: 31 },
  { name: 'month', low: 1, high: 12, names: MONTH_NAMES },
  { name: 'day-of-week', low: 0, high: 7, names: DAY_NAMES }
];

/** The times a cron fires at, field by field. */
export interface ICronFields {
  minutes: number[];
  hours: number[];
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday (7 is read as 0). */
  weekdays: ReadonlySet<number>;
  /**
   * As cron (and croniter) do: when both day fields are restricted, a day matching either
   * fires; when one starts with `*`, a day must match both.
   */
  eitherDay: boolean;
}

const HOW =
  'minute 0-59, hour 0-23, day 1-31, month 1-12, day-of-week 0-6 (Sunday is 0), each a value, ' +
  'a range a-b, a list a,b, a step */n or *';

function fieldValue(text: string, spec: IFieldSpec, cron: string): number {
  const name = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const value = name >= 0 ? name + (spec.name === 'month' ? 1 : 0) : NUMBER.test(text) ? Number(text) : NaN;
  if (Number.isNaN(value) || value < spec.low || value > spec.high) {
    throw new CronError(`cron '${cron}' is not valid: ${spec.name} '${text}' is not from ${spec.low} to ${spec.high}`);
  }
  return value;
}

function parseField(text: string, spec: IFieldSpec, cron: string): number[] {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, step, ...rest] = part.split('/');
    if (rest.length || range === '' || (step !== undefined && !/^[1-9]\d*$/.test(step))) {
      throw new CronError(`cron '${cron}' is not valid: ${spec.name} '${part}'; ${HOW}`);
    }
    let low: number;
    let high: number;
    if (range === '*') {
      [low, high] = [spec.low, spec.high];
    } else if (range.includes('-')) {
      const [from, to] = range.split('-');
      [low, high] = [fieldValue(from, spec, cron), fieldValue(to, spec, cron)];
      if (low > high) {
        throw new CronError(`cron '${cron}' is not valid: ${spec.name} range '${range}' goes backwards`);
      }
    } else {
      low = fieldValue(range, spec, cron);
      high = step === undefined ? low : spec.high;
    }
    for (let value = low; value <= high; value += step === undefined ? 1 : Number(step)) {
      values.add(value);
    }
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * The five fields of `cron`, read.
 *
 * @throws CronError when it is not five valid fields, saying what to fix.
 */
export function parseCron(cron: string): ICronFields {
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    throw new CronError(
      `cron '${cron.trim()}' has ${fields.length} field${fields.length === 1 ? '' : 's'}; give five: ` +
        "minute hour day-of-month month day-of-week (e.g. '0 6 * * *' for 06:00 every day)"
    );
  }
  const text = fields.join(' ');
  const [minutes, hours, days, months, weekdays] = fields.map((field, index) => parseField(field, SPECS[index], text));
  return {
    minutes,
    hours,
    days: new Set(days),
    months: new Set(months),
    weekdays: new Set(weekdays.map(day => day % 7)),
    eitherDay: !fields[2].startsWith('*') && !fields[4].startsWith('*')
  };
}

/** A wall-clock time in some time zone. */
interface IWallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = FORMATTERS.get(timeZone);
  if (found === undefined) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    });
    FORMATTERS.set(timeZone, found);
  }
  return found;
}

/** Whether `timeZone` is a time zone the browser knows (an IANA name such as `Europe/Paris`). */
export function isTimeZone(timeZone: string): boolean {
  if (!timeZone.trim()) {
    return false;
  }
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The browser's time zone, as the form's default. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The wall-clock time at `instant` (ms) in `timeZone`. */
function wallTime(instant: number, timeZone: string): IWallTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') {
      parts[part.type] = Number(part.value);
    }
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour % 24,
    minute: parts.minute,
    second: parts.second
  };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms. */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallTime(instant, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant the wall clock of `timeZone` shows this time; for a time the clock skips (summer
 * time begins), the instant it skips at, as croniter does.
 */
function instantOf(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offsetAt(wall, timeZone);
  const offset = offsetAt(first, timeZone);
  if (wall - offset === first) {
    return first;
  }
  // In a gap: the clock changes between the two readings; find the minute it does.
  let [before, after] = [Math.min(first, wall - offset), Math.max(first, wall - offset)];
  const changed = offsetAt(after, timeZone);
  while (after - before > 60_000) {
    const middle = before + Math.floor((after - before) / 120_000) * 60_000;
    if (offsetAt(middle, timeZone) === changed) {
      after = middle;
    } else {
      before = middle;
    }
  }
  return after;
}

function dayMatches(fields: ICronFields, month: number, day: number, weekday: number): boolean {
  if (!fields.months.has(month)) {
    return false;
  }
  const byDay = fields.days.has(day);
  const byWeekday = fields.weekdays.has(weekday);
  return fields.eitherDay ? byDay || byWeekday : byDay && byWeekday;
}

/**
 * The next `count` times `cron` fires after `after`, its fields read in `timeZone`.
 *
 * It walks the days from `after`'s day in that zone (at most eight years, so that a cron
 * for the 29th of February fires), and in each matching day its hours and minutes.
 *
 * @throws CronError when the cron is not valid; RangeError when the time zone is unknown.
 */
export function nextRuns(cron: string, timeZone: string, after: Date, count = 3): Date[] {
  const fields = parseCron(cron);
  const start = after.getTime();
  const today = wallTime(start, timeZone);
  const found: number[] = [];
  for (let offset = 0; offset < 366 * 8 && found.length < count; offset += 1) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!dayMatches(fields, month, day, date.getUTCDay())) {
      continue;
    }
    for (const hour of fields.hours) {
      for (const minute of fields.minutes) {
        const instant = instantOf(year, month, day, hour, minute, timeZone);
        if (instant > start && !found.includes(instant)) {
          found.push(instant);
        }
      }
    }
    found.sort((a, b) => a - b);
  }
  return found.slice(0, count).map(instant => new Date(instant));
}

/** `Mon 2026-12-07 06:00`: a time as the wall clock of `timeZone` shows it; the text when it is not a time. */
export function formatInZone(time: Date | string, timeZone: string): string {
  const instant = typeof time === 'string' ? new Date(time).getTime() : time.getTime();
  if (Number.isNaN(instant)) {
    return String(time);
  }
  let wall: IWallTime;
  try {
    wall = wallTime(instant, timeZone);
  } catch {
    wall = wallTime(instant, 'UTC');
  }
  const weekday = new Date(Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay();
  return (
    `${WEEKDAYS[weekday].slice(0, 3)} ${wall.year}-${pad(wall.month)}-${pad(wall.day)} ` +
    `${pad(wall.hour)}:${pad(wall.minute)}`
  );
}
