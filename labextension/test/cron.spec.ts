import { describe, expect, it } from 'vitest';

import {
  DEFAULT_WHEN,
  IWhen,
  cronOf,
  defaultName,
  describeCron,
  describeSchedule,
  onPublishOf,
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
