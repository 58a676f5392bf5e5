/**
 * What the Schedule form holds and checks, apart from how it looks: when (a frequency, or a
 * cron), the time zone, the version, the parameters the notebook declares, retries, timeout
 * and who is told of a failure; the schedule in words and its next run times; the request it
 * sends and what the server said of it.
 *
 * The form (schedule-form.tsx) renders it. It imports no JupyterLab widget, so that the unit
 * tests run it in Node.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { INotebookParameters, IParameter, ISchedule, IScheduleRequest, IVersion } from './api';
import { DEFAULT_WHEN, IWhen, cronOf, defaultName, describeSchedule, onPublishOf, whenOf } from './cron';
import { CronError, formatInZone, isTimeZone, nextRuns, parseCron } from './cron-times';
import { formatTime, uniqueShortIds, versionTime } from './format';

/** A schedule's name: what the server accepts. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_RETRIES = 10;
/** Minutes a run may take at most (a day). */
export const MAX_TIMEOUT = 24 * 60;

const EMAIL = /^[^@\s,;<>"']+@[^@\s,;<>"']+\.[^@\s,;<>"']+$/;

/**
 * A parameter's value as typed, as the JSON value a run is given: JSON when it reads as JSON
 * (`3`, `0.5`, `"eu"`, `[1, 2]`, `true`), Python's `True`, `False` and `None`, a string in
 * single quotes as that string, and anything else as the text itself (`eu`).
 */
export function parseParameterValue(text: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    // Not JSON: a Python literal, or plain text.
  }
  switch (trimmed) {
    case 'True':
      return true;
    case 'False':
      return false;
    case 'None':
      return null;
  }
  const quoted = /^'([^'\\]*)'$/.exec(trimmed);
  return quoted ? quoted[1] : text;
}

/** How a parameter's value is shown in the form, so that parseParameterValue reads it back the same. */
export function parameterText(value: unknown): string {
  if (typeof value === 'string' && parseParameterValue(value) === value) {
    return value;
  }
  return JSON.stringify(value);
}

/** One parameter row of the form. */
export interface IParameterField {
  name: string;
  /** papermill's inferred type; null when unknown or not declared. */
  type: string | null;
  /** The notebook's default as written; null when the notebook does not declare it. */
  default: string | null;
  help: string;
  /** The value as typed. */
  value: string;
}

/**
 * The parameter rows: each declared one with its default as text (or the schedule's value), then
 * the schedule's values the notebook does not declare (any more).
 */
export function parameterFields(
  declared: readonly IParameter[],
  values: Readonly<Record<string, unknown>> = {}
): IParameterField[] {
  const fields: IParameterField[] = declared.map(parameter => ({
    name: parameter.name,
    type: parameter.type,
    default: parameter.default,
    help: parameter.help,
    value: parameter.name in values ? parameterText(values[parameter.name]) : parameter.default
  }));
  for (const [name, value] of Object.entries(values)) {
    if (!declared.some(parameter => parameter.name === name)) {
      fields.push({ name, type: null, default: null, help: '', value: parameterText(value) });
    }
  }
  return fields;
}

/**
 * The parameters a run is given: those whose value differs from the notebook's default, as JSON
 * values (parseParameterValue), and those the notebook does not declare. A value left as its
 * default is not sent: the run uses the notebook's own, as written.
 */
export function parametersOf(fields: readonly IParameterField[]): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.default === null || field.value.trim() !== field.default.trim()) {
      parameters[field.name] = parseParameterValue(field.value);
    }
  }
  return parameters;
}

/** `daily`, or `daily-2` when `daily` is taken. */
export function uniqueName(name: string, taken: readonly string[]): string {
  if (!taken.includes(name)) {
    return name;
  }
  let count = 2;
  while (taken.includes(`${name}-${count}`)) {
    count += 1;
  }
  return `${name}-${count}`;
}

/** One choice of version: the latest published (`''`), or a pinned one. */
export interface IVersionChoice {
  value: string;
  label: string;
}

/** What the form says of its schedule before it is saved. */
export interface IPreview {
  /** `at 06:00 every day (Europe/Paris)`. */
  words: string;
  /** The next three run times, as the wall clock of the schedule's time zone shows them. */
  nextRuns: string[];
  /** Why it cannot say when it runs (a cron or time zone to fix); else null. */
  error: string | null;
}

/** What the form is opened with. */
export interface IScheduleFormOptions {
  /** The notebook, a Jupyter path. */
  path: string;
  /** Its published versions, newest first. */
  published: readonly IVersion[];
  /** What its latest published version declares as parameters; null when that could not be read. */
  declared: INotebookParameters | null;
  /** The names of the notebook's schedules. */
  taken: readonly string[];
  /** The schedule to change; none for a new one. */
  editing?: ISchedule | null;
  /** The browser's time zone, a new schedule's. */
  timeZone: string;
}

/** A field of the form that is text or a number typed. */
export type TextField = 'name' | 'timezone' | 'retries' | 'timeout' | 'notify' | 'versionId';

/** The Schedule form's state. */
export class ScheduleFormModel {
  constructor(readonly options: IScheduleFormOptions) {
    const editing = options.editing ?? null;
    this.editing = editing;
    this._when = editing ? whenOf(editing.cron, editing.on_publish) : { ...DEFAULT_WHEN };
    this._text = {
      name: editing ? editing.name : uniqueName(defaultName(this._when.frequency), options.taken),
      timezone: editing?.timezone ?? options.timeZone,
      retries: String(editing?.retries ?? 0),
      timeout: editing?.timeout ? String(editing.timeout) : '',
      notify: (editing?.notify ?? []).join(', '),
      versionId: editing?.version_id ?? ''
    };
    this._parameters = parameterFields(options.declared?.parameters ?? [], editing?.parameters ?? {});
  }

  /** Emitted on every change; the form renders again. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** The schedule being changed; null for a new one (whose name is then free to choose). */
  readonly editing: ISchedule | null;

  get when(): Readonly<IWhen> {
    return this._when;
  }

  /** Change when it runs; a name not typed by the person follows the frequency (`daily`, `weekly`). */
  setWhen(change: Partial<IWhen>): void {
    const before = this._when.frequency;
    this._when = { ...this._when, ...change };
    if (change.frequency === 'custom' && before !== 'custom') {
      // Start from what the other choice made, so that it is easy to change a little.
      this._when.cron = cronOf({ ...this._when, frequency: before }) ?? this._when.cron;
    }
    if (!this.editing && !this._nameTyped && this._when.frequency !== before) {
      this._text.name = uniqueName(defaultName(this._when.frequency), this.options.taken);
    }
    this.changed();
  }

  text(field: TextField): string {
    return this._text[field];
  }

  setText(field: TextField, value: string): void {
    this._text[field] = value;
    if (field === 'name') {
      this._nameTyped = true;
    }
    this.changed();
  }

  get parameters(): readonly IParameterField[] {
    return this._parameters;
  }

  setParameter(name: string, value: string): void {
    this._parameters = this._parameters.map(field => (field.name === name ? { ...field, value } : field));
    this.changed();
  }

  /** The notebook declares no parameters (no cell tagged `parameters`, or it assigns nothing). */
  get declaresNone(): boolean {
    return (this.options.declared?.parameters.length ?? 0) === 0;
  }

  /** The versions to choose from: the latest published at each run, or one pinned. */
  versionChoices(): IVersionChoice[] {
    const published = this.options.published;
    const pinned = this.editing?.version_id;
    const ids = uniqueShortIds([...published.map(version => version.version_id), pinned]);
    const choices: IVersionChoice[] = [
      { value: '', label: 'The latest published version when the run starts' }
    ];
    for (const version of published) {
      if (version.version_id) {
        choices.push({
          value: version.version_id,
          label:
            `Version ${ids.get(version.version_id)} of ${formatTime(versionTime(version))}` +
            (version.is_latest ? ' (the latest now)' : '')
        });
      }
    }
    if (pinned && !published.some(version => version.version_id === pinned)) {
      choices.push({ value: pinned, label: `Version ${ids.get(pinned)} (pinned)` });
    }
    return choices;
  }

  /** An existing schedule that saving under this name would change (when creating one). */
  get replaces(): string | null {
    const name = this._text.name.trim();
    return !this.editing && this.options.taken.includes(name) ? name : null;
  }

  /** The schedule in words and its next three run times (computed here, from the cron). */
  preview(now: Date = new Date()): IPreview {
    const cron = cronOf(this._when);
    const timezone = this._text.timezone.trim();
    const onPublish = onPublishOf(this._when);
    if (cron !== null && !cron) {
      return { words: '', nextRuns: [], error: 'Type a cron: five fields, e.g. 0 6 * * 1-5 for 06:00 on weekdays.' };
    }
    if (cron !== null && !isTimeZone(timezone)) {
      return { words: '', nextRuns: [], error: describeTimeZoneError(timezone) };
    }
    const words = describeSchedule({ cron, timezone, on_publish: onPublish, enabled: true });
    if (cron === null) {
      return { words, nextRuns: [], error: null };
    }
    try {
      const times = nextRuns(cron, timezone, now).map(time => formatInZone(time, timezone));
      return { words, nextRuns: times, error: null };
    } catch (error) {
      return { words: '', nextRuns: [], error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** What is wrong in the form, each with what to fix; empty when it can be sent. */
  problems(): string[] {
    const problems: string[] = [];
    const name = this._text.name.trim();
    if (!NAME_PATTERN.test(name)) {
      problems.push(`Name: use 1 to 64 letters, digits, '_', '.' or '-' (e.g. daily), not '${name}'.`);
    }
    const cron = cronOf(this._when);
    if (cron !== null) {
      try {
        parseCron(cron);
      } catch (error) {
        problems.push(error instanceof CronError ? `${capitalise(error.message)}.` : String(error));
      }
      if (!isTimeZone(this._text.timezone.trim())) {
        problems.push(describeTimeZoneError(this._text.timezone.trim()));
      }
    }
    if (wholeNumber(this._text.retries, 0, MAX_RETRIES) === undefined) {
      problems.push(`Retries: a whole number from 0 to ${MAX_RETRIES}.`);
    }
    if (this._text.timeout.trim() && wholeNumber(this._text.timeout, 1, MAX_TIMEOUT) === undefined) {
      problems.push(`Timeout: whole minutes from 1 to ${MAX_TIMEOUT}, or empty for no limit.`);
    }
    const bad = this.notify().filter(address => !EMAIL.test(address));
    if (bad.length) {
      problems.push(`E-mail on failure: ${bad.map(address => `'${address}'`).join(', ')} is not an e-mail address.`);
    }
    return problems;
  }

  /**
   * The body of the PUT that saves the schedule. A change leaves out what the form does not
   * show (`enabled`, `force_parameters`), so that it keeps its value.
   *
   * @throws Error naming what to fix when the form has problems.
   */
  request(): IScheduleRequest {
    const problems = this.problems();
    if (problems.length) {
      throw new Error(problems.join(' '));
    }
    const timeout = this._text.timeout.trim();
    const cron = cronOf(this._when);
    return {
      name: this._text.name.trim(),
      cron,
      ...(cron !== null && { timezone: this._text.timezone.trim() }),
      on_publish: onPublishOf(this._when),
      version_id: this._text.versionId || null,
      parameters: parametersOf(this._parameters),
      retries: wholeNumber(this._text.retries, 0, MAX_RETRIES) as number,
      timeout: timeout ? (wholeNumber(timeout, 1, MAX_TIMEOUT) as number) : null,
      notify: this.notify()
    };
  }

  /** What went wrong when saving (the server's words), shown in the form; null when nothing did. */
  get error(): string | null {
    return this._error;
  }

  set error(error: string | null) {
    this._error = error;
    this.changed();
  }

  /** While the request is on its way. */
  get saving(): boolean {
    return this._saving;
  }

  set saving(saving: boolean) {
    this._saving = saving;
    this.changed();
  }

  private notify(): string[] {
    return this._text.notify.split(/[\s,;]+/).filter(Boolean);
  }

  private changed(): void {
    this._stateChanged.emit(void 0);
  }

  private _when: IWhen;
  private readonly _text: Record<TextField, string>;
  private _nameTyped = false;
  private _parameters: IParameterField[];
  private _error: string | null = null;
  private _saving = false;
  private _isDisposed = false;
  private readonly _stateChanged = new Signal<this, void>(this);
}

function describeTimeZoneError(timezone: string): string {
  return timezone
    ? `Time zone '${timezone}' is unknown: use an IANA name such as Europe/Paris, America/New_York or UTC.`
    : 'Time zone: give an IANA name such as Europe/Paris, or UTC.';
}

function wholeNumber(text: string, low: number, high: number): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    return undefined;
  }
  const value = Number(trimmed);
  return value >= low && value <= high ? value : undefined;
}

function capitalise(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
