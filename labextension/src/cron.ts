/**
 * When a schedule runs, in the browser: the cron the Schedule form's choices make and the
 * choices an existing cron reads as, and the schedule in words (worded as the server words it,
 * bookstore/schedules.py). The times it fires at are cron-times.ts's.
 *
 * The form shows the words before anything is saved, so they are made here; once saved, the
 * server's answer (its `description`) is what the Schedules tab shows. Pure, so the unit tests
 * reach it.
 */

/** How often the form's schedule runs: at each publication, on a cron it builds, or on one typed. */
export type Frequency = 'publish' | 'hourly' | 'daily' | 'weekly' | 'custom';

export const FREQUENCIES: readonly Frequency[] = ['publish', 'hourly', 'daily', 'weekly', 'custom'];

/** The form's choice of when. */
export interface IWhen {
  frequency: Frequency;
  /** Minute of the hour (hourly, daily, weekly). */
  minute: number;
  /** Hour of the day, 0-23 (daily, weekly). */
  hour: number;
  /** Day of the week, 0 = Sunday (weekly). */
  weekday: number;
  /** The cron typed (custom). */
  cron: string;
  /** Also run at each publication (a cron frequency). */
  onPublish: boolean;
}

export const DEFAULT_WHEN: IWhen = {
  frequency: 'daily',
  minute: 0,
  hour: 6,
  weekday: 1,
  cron: '0 6 * * *',
  onPublish: false
};

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A schedule's name when the person gives none: what it does, `daily`, `on-publish`. */
export function defaultName(frequency: Frequency): string {
  return frequency === 'publish' ? 'on-publish' : frequency;
}

/** The cron of the form's choice; null when it runs at publications only. */
export function cronOf(when: IWhen): string | null {
  const { minute, hour, weekday } = when;
  switch (when.frequency) {
    case 'publish':
      return null;
    case 'hourly':
      return `${minute} * * * *`;
    case 'daily':
      return `${minute} ${hour} * * *`;
    case 'weekly':
      return `${minute} ${hour} * * ${weekday}`;
    case 'custom':
      return when.cron.trim().split(/\s+/).join(' ');
  }
}

/** Whether the form runs on publications: when that is all it does, or also. */
export function onPublishOf(when: IWhen): boolean {
  return when.frequency === 'publish' || when.onPublish;
}

/** A field that is one number. */
export const NUMBER = /^\d+$/;

/** The form's choice that makes `cron` (and `onPublish`): the frequency it reads as, else custom. */
export function whenOf(cron: string | null, onPublish: boolean): IWhen {
  if (!cron) {
    return { ...DEFAULT_WHEN, frequency: 'publish', onPublish: true };
  }
  const fields = cron.trim().split(/\s+/);
  const when: IWhen = { ...DEFAULT_WHEN, frequency: 'custom', cron: fields.join(' '), onPublish };
  if (fields.length !== 5) {
    return when;
  }
  const [minute, hour, day, month, weekday] = fields;
  const inRange = (text: string, high: number) => NUMBER.test(text) && Number(text) <= high;
  if (day !== '*' || month !== '*' || !inRange(minute, 59)) {
    return when;
  }
  const at = { minute: Number(minute) };
  if (hour === '*' && weekday === '*') {
    return { ...when, ...at, frequency: 'hourly' };
  }
  if (!inRange(hour, 23)) {
    return when;
  }
  if (weekday === '*') {
    return { ...when, ...at, hour: Number(hour), frequency: 'daily' };
  }
  if (inRange(weekday, 6)) {
    return { ...when, ...at, hour: Number(hour), weekday: Number(weekday), frequency: 'weekly' };
  }
  return when;
}

export function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * The common cron shapes in words (`every hour at minute 5`, `at 06:00 every day`, `at 06:00
 * on Monday`), others as `cron <fields>`: as the server words them.
 */
export function describeCron(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length === 5) {
    const [minute, hour, day, month, weekday] = fields;
    if (day === '*' && month === '*' && NUMBER.test(minute)) {
      if (hour === '*' && weekday === '*') {
        return `every hour at minute ${Number(minute)}`;
      }
      if (NUMBER.test(hour)) {
        const at = `at ${pad(Number(hour))}:${pad(Number(minute))}`;
        if (weekday === '*') {
          return `${at} every day`;
        }
        if (NUMBER.test(weekday) && Number(weekday) <= 7) {
          return `${at} on ${WEEKDAYS[Number(weekday) % 7]}`;
        }
      }
    }
  }
  const text = fields.join(' ');
  return text === '* * * * *' ? 'every minute' : `cron ${text}`;
}

/** What of a schedule says when it runs. */
export interface IScheduleTiming {
  cron: string | null;
  timezone: string;
  on_publish: boolean;
  enabled: boolean;
}

/** A schedule in words, as the server says it: `at 06:00 every day (Europe/Paris), and at each publication`. */
export function describeSchedule(schedule: IScheduleTiming): string {
  const parts: string[] = [];
  if (schedule.cron) {
    parts.push(`${describeCron(schedule.cron)} (${schedule.timezone})`);
  }
  if (schedule.on_publish) {
    parts.push('at each publication');
  }
  const text = parts.join(', and ') || 'never';
  return schedule.enabled ? text : `${text}; disabled`;
}

const SHORT_DAYS = ['Sundays', 'Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays'];

/** A schedule in a few words, for a list: `daily 06:00`, `hourly at :05`, `Mondays 06:00`, `on publish`. */
export function shortSchedule(schedule: Pick<IScheduleTiming, 'cron' | 'on_publish'>): string {
  const parts: string[] = [];
  if (schedule.cron) {
    const when = whenOf(schedule.cron, false);
    const at = `${pad(when.hour)}:${pad(when.minute)}`;
    switch (when.frequency) {
      case 'hourly':
        parts.push(`hourly at :${pad(when.minute)}`);
        break;
      case 'daily':
        parts.push(`daily ${at}`);
        break;
      case 'weekly':
        parts.push(`${SHORT_DAYS[when.weekday]} ${at}`);
        break;
      default:
        parts.push(`cron ${when.cron}`);
    }
  }
  if (schedule.on_publish) {
    parts.push('on publish');
  }
  return parts.join(' + ') || 'never';
}
