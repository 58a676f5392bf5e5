import { describe, expect, it } from 'vitest';

import { INotebookParameters, ISchedule, IVersion } from '../src/api';
import { formatTime } from '../src/format';
import {
  IScheduleFormOptions,
  ScheduleFormModel,
  parameterFields,
  parameterText,
  parametersOf,
  parseParameterValue,
  uniqueName
} from '../src/schedule-form-model';

const V1 = '6714a9000000000000000000000000aa';
const V2 = '6714a9000000000000000000000000bb';

const version = (id: string, latest = false): IVersion => ({
  version_id: id,
  last_modified: '2026-11-26T10:00:00+00:00',
  size: 2048,
  is_latest: latest
});

const declared: INotebookParameters = {
  path: 'analysis/mine.ipynb',
  cell: 0,
  parameters: [
    { name: 'x', type: 'int', default: '1', help: '' },
    { name: 'label', type: 'str', default: "'a'", help: 'what to call it' }
  ],
  inspectable: true,
  untagged_cell: null,
  untagged_parameters: [],
  language: 'python'
};

const schedule = (overrides: Partial<ISchedule> = {}): ISchedule => ({
  name: 'daily',
  notebook_key: 'kylek/notebooks/analysis/mine.ipynb',
  cron: '30 6 * * *',
  timezone: 'Europe/Paris',
  on_publish: false,
  version_id: null,
  parameters: { x: 3 },
  enabled: true,
  retries: 1,
  timeout: 60,
  notify: ['kylek@example.com'],
  dag_id: 'bookstore_schedule__kylek_notebooks_analysis_mine__daily__0123abcd',
  description: 'at 06:30 every day (Europe/Paris)',
  next_runs: [],
  ...overrides
});

const form = (options: Partial<IScheduleFormOptions> = {}) =>
  new ScheduleFormModel({
    path: 'analysis/mine.ipynb',
    published: [version(V2, true), version(V1)],
    declared,
    taken: [],
    timeZone: 'Europe/Paris',
    ...options
  });

describe('parameter values as typed', () => {
  it('reads JSON, Python literals, and else the text itself', () => {
    expect(parseParameterValue('3')).toBe(3);
    expect(parseParameterValue(' 0.5 ')).toBe(0.5);
    expect(parseParameterValue('"eu"')).toBe('eu');
    expect(parseParameterValue('[1, 2]')).toEqual([1, 2]);
    expect(parseParameterValue('{"a": 1}')).toEqual({ a: 1 });
    expect(parseParameterValue('true')).toBe(true);
    expect(parseParameterValue('True')).toBe(true);
    expect(parseParameterValue('False')).toBe(false);
    expect(parseParameterValue('None')).toBeNull();
    expect(parseParameterValue("'eu'")).toBe('eu');
    expect(parseParameterValue('eu')).toBe('eu');
    expect(parseParameterValue('2026-12-07')).toBe('2026-12-07');
    expect(parseParameterValue("it's")).toBe("it's");
    expect(parseParameterValue('{{ conn.bookstore_default.password }}')).toBe('{{ conn.bookstore_default.password }}');
  });

  it('shows a value so that it reads back the same', () => {
    for (const value of [3, 0.5, 'eu', '3', 'true', 'None', "'q'", [1, 2], { a: 1 }, null, true, '']) {
      expect(parseParameterValue(parameterText(value))).toEqual(value);
    }
    expect(parameterText('eu')).toBe('eu');
    expect(parameterText('3')).toBe('"3"');
  });

  it('sends only the values changed from the notebook’s defaults, and those it does not declare', () => {
    const fields = parameterFields(declared.parameters, { x: 3, y: 'extra' });
    expect(fields.map(field => [field.name, field.value, field.default])).toEqual([
      ['x', '3', '1'],
      ['label', "'a'", "'a'"],
      ['y', 'extra', null]
    ]);
    expect(parametersOf(fields)).toEqual({ x: 3, y: 'extra' });
    expect(parametersOf(parameterFields(declared.parameters))).toEqual({});
  });
});

describe('the Schedule form', () => {
  it('starts daily at 06:00 in the browser’s time zone, on the latest version, with the defaults', () => {
    const model = form();
    expect(model.text('name')).toBe('daily');
    expect(model.text('timezone')).toBe('Europe/Paris');
    expect(model.request()).toEqual({
      name: 'daily',
      cron: '0 6 * * *',
      timezone: 'Europe/Paris',
      on_publish: false,
      version_id: null,
      parameters: {},
      retries: 0,
      timeout: null,
      notify: []
    });
  });

  it('names a new schedule after its frequency until a name is typed, never one taken', () => {
    const model = form({ taken: ['daily', 'weekly'] });
    expect(model.text('name')).toBe('daily-2');
    model.setWhen({ frequency: 'hourly' });
    expect(model.text('name')).toBe('hourly');
    model.setWhen({ frequency: 'weekly' });
    expect(model.text('name')).toBe('weekly-2');
    model.setWhen({ frequency: 'publish' });
    expect(model.text('name')).toBe('on-publish');
    model.setText('name', 'morning');
    model.setWhen({ frequency: 'daily' });
    expect(model.text('name')).toBe('morning');
    model.setText('name', 'weekly');
    expect(model.replaces).toBe('weekly');
    expect(uniqueName('daily', ['daily', 'daily-2'])).toBe('daily-3');
  });

  it('shows the schedule in words and its next three runs before it is saved', () => {
    const model = form();
    model.setWhen({ frequency: 'weekly', weekday: 1, hour: 7, minute: 30 });
    // 2026-12-07 is a Monday; 07:30 in Paris is 06:30 UTC.
    const preview = model.preview(new Date('2026-12-07T06:00:00Z'));
    expect(preview).toEqual({
      words: 'at 07:30 on Monday (Europe/Paris)',
      nextRuns: ['Mon 2026-12-07 07:30', 'Mon 2026-12-14 07:30', 'Mon 2026-12-21 07:30'],
      error: null
    });
    model.setWhen({ onPublish: true });
    expect(model.preview(new Date('2026-12-07T06:00:00Z')).words).toBe(
      'at 07:30 on Monday (Europe/Paris), and at each publication'
    );
    model.setWhen({ frequency: 'publish' });
    expect(model.preview()).toEqual({ words: 'at each publication', nextRuns: [], error: null });
    expect(model.request()).toMatchObject({ name: 'on-publish', cron: null, on_publish: true });
    expect(model.request()).not.toHaveProperty('timezone');
  });

  it('starts a custom cron from the choice it was, and says what is wrong with one', () => {
    const model = form();
    model.setWhen({ frequency: 'daily', hour: 8, minute: 15 });
    model.setWhen({ frequency: 'custom' });
    expect(model.when.cron).toBe('15 8 * * *');
    model.setWhen({ cron: '15 8 * *' });
    expect(model.preview().error).toMatch(/has 4 fields; give five/);
    expect(() => model.request()).toThrow(/has 4 fields/);
    model.setWhen({ cron: '' });
    expect(model.preview().error).toMatch(/Type a cron/);
  });

  it('refuses what the server would, saying what to fix', () => {
    const model = form();
    model.setText('name', 'a/b');
    model.setText('timezone', 'Mars/Base');
    model.setText('retries', '11');
    model.setText('timeout', '0');
    model.setText('notify', 'kylek@example.com, not-an-address');
    expect(model.problems()).toEqual([
      "Name: use 1 to 64 letters, digits, '_', '.' or '-' (e.g. daily), not 'a/b'.",
      "Time zone 'Mars/Base' is unknown: use an IANA name such as Europe/Paris, America/New_York or UTC.",
      'Retries: a whole number from 0 to 10.',
      'Timeout: whole minutes from 1 to 1440, or empty for no limit.',
      "E-mail on failure: 'not-an-address' is not an e-mail address."
    ]);
    expect(model.preview().error).toMatch(/Mars\/Base/);
    expect(() => model.request()).toThrow(/Name: use 1 to 64/);
  });

  it('sends a pinned version, changed parameters, retries, timeout and addresses', () => {
    const model = form();
    model.setText('versionId', V1);
    model.setParameter('x', '5');
    model.setParameter('label', 'eu');
    model.setText('retries', '2');
    model.setText('timeout', '30');
    model.setText('notify', 'a@example.com; b@example.com');
    expect(model.request()).toMatchObject({
      version_id: V1,
      parameters: { x: 5, label: 'eu' },
      retries: 2,
      timeout: 30,
      notify: ['a@example.com', 'b@example.com']
    });
  });

  it('offers the latest published version or a pinned one', () => {
    const choices = form().versionChoices();
    expect(choices.map(choice => choice.value)).toEqual(['', V2, V1]);
    expect(choices[1].label).toBe(`Version 6714a9000000000000000000000000b… of ${formatTime(version(V2).last_modified)} (the latest now)`);
    // A pinned version no longer listed stays a choice.
    const pinned = form({ editing: schedule({ version_id: 'old-version' }), published: [version(V2, true)] });
    expect(pinned.versionChoices().map(choice => choice.value)).toEqual(['', V2, 'old-version']);
  });

  it('edits a schedule as it is, keeping its name and what the form does not show', () => {
    const model = form({ editing: schedule(), taken: ['daily'] });
    expect(model.when).toMatchObject({ frequency: 'daily', hour: 6, minute: 30 });
    expect(model.text('timezone')).toBe('Europe/Paris');
    expect(model.parameters.find(field => field.name === 'x')?.value).toBe('3');
    expect(model.replaces).toBeNull();
    model.setWhen({ frequency: 'hourly' });
    expect(model.text('name')).toBe('daily');
    const request = model.request();
    expect(request).toEqual({
      name: 'daily',
      cron: '30 * * * *',
      timezone: 'Europe/Paris',
      on_publish: false,
      version_id: null,
      parameters: { x: 3 },
      retries: 1,
      timeout: 60,
      notify: ['kylek@example.com']
    });
    expect(request).not.toHaveProperty('enabled');
  });

  it('says when the notebook declares no parameters', () => {
    expect(form({ declared: { ...declared, cell: null, parameters: [] } }).declaresNone).toBe(true);
    expect(form({ declared: null }).declaresNone).toBe(true);
    expect(form().declaresNone).toBe(false);
  });

  it('keeps what the server said until the next save', () => {
    const model = form();
    let changes = 0;
    model.stateChanged.connect(() => (changes += 1));
    model.error = "'y' is not a parameter of analysis/mine.ipynb";
    expect(model.error).toMatch(/not a parameter/);
    expect(changes).toBe(1);
  });
});
