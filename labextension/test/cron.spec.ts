import { describe, expect, it } from 'vitest';

import {
  CronError,
  DEFAULT_WHEN,
  IWhen,
  cronOf,
  defaultName,
  describeCron,
  describeSchedule,
  formatInZone,
  isTimeZone,
  nextRuns,
  onPublishOf,
  parseCron,
  shortSchedule,
  whenOf
} from '../src/cron';

const when = (change: Partial<IWhen>): IWhen => ({ ...DEFAULT_WHEN, ...change });

describe('the cron of the form’s choices', () => {
  it('builds hourly, daily and weekly crons, none at publications only', () => {
    expect(cronOf(when({ frequency: 'hourly', minute: 5 }))).toBe('5 * * * *');
    expect(cronOf(when({ frequency: 'daily', hour: 6, minute: 30 }))).toBe('30 6 * * *');
    expect(cronOf(when({ frequency: 'weekly', weekday: 1, hour: 7, minute: 0 }))).toBe('0 7 * * 1');
    expect(cronOf(when({ frequency: 'publish' }))).toBeNull();
    expect(cronOf(when({ frequency: 'custom', cron: '  */15   9-17 * * 1-5 ' }))).toBe('*/15 9-17 * * 1-5');
  });

  it('runs on publications when that is all it does, or when asked to as well', () => {
    expect(onPublishOf(when({ frequency: 'publish', onPublish: false }))).toBe(true);
    expect(onPublishOf(when({ frequency: 'daily', onPublish: false }))).toBe(false);
    expect(onPublishOf(when({ frequency: 'daily', onPublish: true }))).toBe(true);
  });

  it('reads a cron back as the choice that makes it, else as a custom cron', () => {
    expect(whenOf('5 * * * *', false)).toMatchObject({ frequency: 'hourly', minute: 5 });
    expect(whenOf('30 6 * * *', true)).toMatchObject({ frequency: 'daily', hour: 6, minute: 30, onPublish: true });
    expect(whenOf('0 7 * * 1', false)).toMatchObject({ frequency: 'weekly', weekday: 1, hour: 7, minute: 0 });
    expect(whenOf(null, true)).toMatchObject({ frequency: 'publish' });
    for (const cron of ['0 6 1 * *', '*/15 * * * *', '0 6 * * 1-5', '0 6 * * 7', '0 24 * * *']) {
      expect(whenOf(cron, false)).toMatchObject({ frequency: 'custom', cron });
    }
    // What the form builds, it reads back.
    for (const choice of [
      when({ frequency: 'hourly', minute: 59 }),
      when({ frequency: 'daily', hour: 23, minute: 1 }),
      when({ frequency: 'weekly', weekday: 0, hour: 0, minute: 0 })
    ]) {
      expect(whenOf(cronOf(choice), false)).toMatchObject({
        frequency: choice.frequency,
        minute: choice.minute,
        ...(choice.frequency !== 'hourly' && { hour: choice.hour }),
        ...(choice.frequency === 'weekly' && { weekday: choice.weekday })
      });
    }
  });

  it('names a schedule after what it does', () => {
    expect(defaultName('daily')).toBe('daily');
    expect(defaultName('publish')).toBe('on-publish');
  });
});

describe('a schedule in words', () => {
  it('says the common crons as the server does', () => {
    expect(describeCron('0 6 * * *')).toBe('at 06:00 every day');
    expect(describeCron('5 * * * *')).toBe('every hour at minute 5');
    expect(describeCron('30 7 * * 1')).toBe('at 07:30 on Monday');
    expect(describeCron('30 7 * * 7')).toBe('at 07:30 on Sunday');
    expect(describeCron('* * * * *')).toBe('every minute');
    expect(describeCron('0 6 1 * *')).toBe('cron 0 6 1 * *');
  });

  it('says when a schedule runs, with its time zone, publications and whether it is disabled', () => {
    // The server's own words for these (tests/test_schedules_api.py).
    expect(describeSchedule({ cron: '0 6 * * *', timezone: 'Europe/Paris', on_publish: false, enabled: true })).toBe(
      'at 06:00 every day (Europe/Paris)'
    );
    expect(describeSchedule({ cron: null, timezone: 'UTC', on_publish: true, enabled: true })).toBe(
      'at each publication'
    );
    expect(describeSchedule({ cron: '0 6 * * *', timezone: 'UTC', on_publish: true, enabled: false })).toBe(
      'at 06:00 every day (UTC), and at each publication; disabled'
    );
  });

  it('says it in a few words for the catalog', () => {
    expect(shortSchedule({ cron: '0 6 * * *', on_publish: false })).toBe('daily 06:00');
    expect(shortSchedule({ cron: '5 * * * *', on_publish: false })).toBe('hourly at :05');
    expect(shortSchedule({ cron: '30 7 * * 1', on_publish: true })).toBe('Mondays 07:30 + on publish');
    expect(shortSchedule({ cron: null, on_publish: true })).toBe('on publish');
    expect(shortSchedule({ cron: '0 6 1 * *', on_publish: false })).toBe('cron 0 6 1 * *');
  });
});

describe('cron fields', () => {
  it('reads values, ranges, lists, steps and names', () => {
    const fields = parseCron('*/20 9-11 1,15 jan-mar MON-fri');
    expect(fields.minutes).toEqual([0, 20, 40]);
    expect(fields.hours).toEqual([9, 10, 11]);
    expect([...fields.days]).toEqual([1, 15]);
    expect([...fields.months]).toEqual([1, 2, 3]);
    expect([...fields.weekdays]).toEqual([1, 2, 3, 4, 5]);
    expect(fields.eitherDay).toBe(true);
    expect(parseCron('5/30 * * * 7').minutes).toEqual([5, 35]);
    expect([...parseCron('0 0 * * 7').weekdays]).toEqual([0]);
    expect(parseCron('0 0 * * 1').eitherDay).toBe(false);
  });

  it('refuses what is not a cron, saying what to fix', () => {
    expect(() => parseCron('0 6 * *')).toThrow(/has 4 fields; give five/);
    expect(() => parseCron('60 6 * * *')).toThrow(/minute '60' is not from 0 to 59/);
    expect(() => parseCron('0 6 * * mon-sun-x')).toThrow(CronError);
    expect(() => parseCron('0 6 5-1 * *')).toThrow(/goes backwards/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/minute '\*\/0'/);
    expect(() => parseCron('0 6 * foo *')).toThrow(/month 'foo'/);
  });
});

describe('next run times', () => {
  const iso = (times: Date[]) => times.map(time => time.toISOString());

  it('fires at the wall-clock time of the schedule’s time zone', () => {
    // Europe/Paris is UTC+1 in winter.
    const after = new Date('2026-12-07T05:30:00Z');
    expect(iso(nextRuns('0 6 * * *', 'Europe/Paris', after))).toEqual([
      '2026-12-08T05:00:00.000Z',
      '2026-12-09T05:00:00.000Z',
      '2026-12-10T05:00:00.000Z'
    ]);
    expect(iso(nextRuns('0 6 * * *', 'UTC', after))).toEqual([
      '2026-12-07T06:00:00.000Z',
      '2026-12-08T06:00:00.000Z',
      '2026-12-09T06:00:00.000Z'
    ]);
    expect(iso(nextRuns('0 6 * * *', 'America/New_York', after, 1))).toEqual(['2026-12-07T11:00:00.000Z']);
  });

  it('is strictly after the given time, hourly and every minute', () => {
    const after = new Date('2026-12-07T10:05:00Z');
    expect(iso(nextRuns('5 * * * *', 'UTC', after))).toEqual([
      '2026-12-07T11:05:00.000Z',
      '2026-12-07T12:05:00.000Z',
      '2026-12-07T13:05:00.000Z'
    ]);
    expect(iso(nextRuns('* * * * *', 'UTC', after, 2))).toEqual([
      '2026-12-07T10:06:00.000Z',
      '2026-12-07T10:07:00.000Z'
    ]);
  });

  it('follows summer time', () => {
    // Paris moves to UTC+2 on 2027-03-28.
    expect(iso(nextRuns('0 6 * * *', 'Europe/Paris', new Date('2027-03-26T12:00:00Z')))).toEqual([
      '2027-03-27T05:00:00.000Z',
      '2027-03-28T04:00:00.000Z',
      '2027-03-29T04:00:00.000Z'
    ]);
  });

  it('fires when the clock skips a time, as croniter does, and once when it repeats one', () => {
    expect(iso(nextRuns('30 2 * * *', 'Europe/Paris', new Date('2027-03-27T12:00:00Z')))).toEqual([
      '2027-03-28T01:00:00.000Z',
      '2027-03-29T00:30:00.000Z',
      '2027-03-30T00:30:00.000Z'
    ]);
    // croniter fires at both 02:30 of the night summer time ends; the preview names the second,
    // and the server's answer, once saved, is croniter's.
    expect(iso(nextRuns('30 2 * * *', 'Europe/Paris', new Date('2027-10-30T12:00:00Z'), 2))).toEqual([
      '2027-10-31T01:30:00.000Z',
      '2027-11-01T01:30:00.000Z'
    ]);
  });

  it('matches weekdays, and either day field when both are restricted', () => {
    // 2026-12-07 is a Monday.
    expect(iso(nextRuns('0 7 * * 1', 'UTC', new Date('2026-12-07T08:00:00Z'), 2))).toEqual([
      '2026-12-14T07:00:00.000Z',
      '2026-12-21T07:00:00.000Z'
    ]);
    expect(iso(nextRuns('0 0 1 * 5', 'UTC', new Date('2026-12-07T00:00:00Z'), 3))).toEqual([
      '2026-12-11T00:00:00.000Z',
      '2026-12-18T00:00:00.000Z',
      '2026-12-25T00:00:00.000Z'
    ]);
  });

  it('finds a cron that fires every four years', () => {
    expect(iso(nextRuns('0 12 29 2 *', 'UTC', new Date('2026-12-07T00:00:00Z'), 1))).toEqual([
      '2028-02-29T12:00:00.000Z'
    ]);
  });

  it('shows a time as the wall clock of a time zone shows it', () => {
    expect(formatInZone(new Date('2026-12-08T05:00:00Z'), 'Europe/Paris')).toBe('Tue 2026-12-08 06:00');
    expect(formatInZone('2026-12-08T06:00:00+01:00', 'Europe/Paris')).toBe('Tue 2026-12-08 06:00');
    expect(formatInZone('soon', 'UTC')).toBe('soon');
  });

  it('knows which time zones exist', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Base')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});
