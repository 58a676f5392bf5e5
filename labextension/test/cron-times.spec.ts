import { describe, expect, it } from 'vitest';

import { CronError, formatInZone, isTimeZone, nextRuns, parseCron } from '../src/cron-times';

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
