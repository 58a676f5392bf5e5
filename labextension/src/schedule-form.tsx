/**
 * The Schedule form, in a dialog: when, the time zone, the version, the parameters, retries,
 * timeout and e-mail on failure, with the schedule in words and its next three run times; Save
 * sends it, and what the server refuses is shown in the form, which stays open.
 *
 * A view only: what it holds and checks is ScheduleFormModel (schedule-form-model.ts).
 */
import { Dialog } from '@jupyterlab/apputils';
import { VDomRenderer } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ISchedule, IScheduleRequest } from './api';
import { FREQUENCIES, Frequency, WEEKDAYS } from './cron';
import { describeError } from './messages';
import { ScheduleFormModel, TextField } from './schedule-form-model';

const FREQUENCY_LABELS: Record<Frequency, string> = {
  publish: 'At each publication',
  hourly: 'Hourly',
  daily: 'Daily at',
  weekly: 'Weekly on',
  custom: 'Custom cron'
};

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** `06:30` from an hour and a minute, and back. */
function clockText(hour: number, minute: number): string {
  return `${pad(hour)}:${pad(minute)}`;
}

function TextInput(props: {
  model: ScheduleFormModel;
  field: TextField;
  label: string;
  hint?: string;
  type?: string;
  placeholder?: string;
  list?: string;
  readOnly?: boolean;
}): JSX.Element {
  const { model, field } = props;
  const id = `jp-bookstore-ScheduleForm-${field}`;
  return (
    <div className="jp-bookstore-ScheduleForm-field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        className="jp-mod-styled"
        name={field}
        type={props.type ?? 'text'}
        value={model.text(field)}
        placeholder={props.placeholder}
        list={props.list}
        readOnly={props.readOnly}
        onChange={event => model.setText(field, event.currentTarget.value)}
      />
      {props.hint && <span className="jp-bookstore-ScheduleForm-hint">{props.hint}</span>}
    </div>
  );
}

function When(props: { model: ScheduleFormModel }): JSX.Element {
  const { model } = props;
  const when = model.when;
  const clock = (
    <input
      type="time"
      className="jp-mod-styled"
      aria-label="Time of day"
      value={clockText(when.hour, when.minute)}
      onChange={event => {
        const [hour, minute] = event.currentTarget.value.split(':').map(Number);
        if (!Number.isNaN(hour) && !Number.isNaN(minute)) {
          model.setWhen({ hour, minute });
        }
      }}
    />
  );
  return (
    <fieldset className="jp-bookstore-ScheduleForm-when">
      <legend>When</legend>
      <div className="jp-bookstore-ScheduleForm-whenRow">
        <select
          className="jp-mod-styled"
          aria-label="How often"
          value={when.frequency}
          onChange={event => model.setWhen({ frequency: event.currentTarget.value as Frequency })}
        >
          {FREQUENCIES.map(frequency => (
            <option key={frequency} value={frequency}>
              {FREQUENCY_LABELS[frequency]}
            </option>
          ))}
        </select>
        {when.frequency === 'hourly' && (
          <label>
            at minute{' '}
            <input
              type="number"
              min={0}
              max={59}
              className="jp-mod-styled"
              aria-label="Minute of the hour"
              value={when.minute}
              onChange={event => model.setWhen({ minute: Math.min(59, Math.max(0, Number(event.currentTarget.value))) })}
            />
          </label>
        )}
        {when.frequency === 'daily' && clock}
        {when.frequency === 'weekly' && (
          <>
            <select
              className="jp-mod-styled"
              aria-label="Day of the week"
              value={when.weekday}
              onChange={event => model.setWhen({ weekday: Number(event.currentTarget.value) })}
            >
              {WEEKDAYS.map((day, index) => (
                <option key={day} value={index}>
                  {day}
                </option>
              ))}
            </select>
            at {clock}
          </>
        )}
        {when.frequency === 'custom' && (
          <input
            className="jp-mod-styled jp-bookstore-ScheduleForm-cron"
            aria-label="Cron"
            placeholder="minute hour day month weekday"
            value={when.cron}
            onChange={event => model.setWhen({ cron: event.currentTarget.value })}
          />
        )}
      </div>
      {when.frequency !== 'publish' && (
        <label className="jp-bookstore-ScheduleForm-check">
          <input
            type="checkbox"
            checked={when.onPublish}
            onChange={event => model.setWhen({ onPublish: event.currentTarget.checked })}
          />{' '}
          Also at each publication
        </label>
      )}
      {when.frequency !== 'publish' && (
        <TextInput
          model={model}
          field="timezone"
          label="Time zone"
          list="jp-bookstore-ScheduleForm-zones"
          hint="An IANA name; your browser's by default"
        />
      )}
    </fieldset>
  );
}

function Preview(props: { model: ScheduleFormModel }): JSX.Element {
  const preview = props.model.preview();
  if (preview.error !== null) {
    return (
      <div className="jp-bookstore-ScheduleForm-preview jp-mod-error" data-testid="schedule-preview">
        {preview.error}
      </div>
    );
  }
  return (
    <div className="jp-bookstore-ScheduleForm-preview" data-testid="schedule-preview">
      <div className="jp-bookstore-ScheduleForm-words">Runs {preview.words}</div>
      {preview.nextRuns.length > 0 && (
        <div className="jp-bookstore-ScheduleForm-next">
          Next runs: <span>{preview.nextRuns.join(' · ')}</span>
        </div>
      )}
    </div>
  );
}

function Parameters(props: { model: ScheduleFormModel }): JSX.Element {
  const { model } = props;
  const fields = model.parameters;
  return (
    <fieldset className="jp-bookstore-ScheduleForm-parameters">
      <legend>Parameters</legend>
      {model.declaresNone && (
        <p className="jp-bookstore-ScheduleForm-hint">
          The published notebook declares no parameters (no cell tagged parameters assigns any): it runs
          with its own values.
        </p>
      )}
      {fields.length > 0 && (
        <>
          <p className="jp-bookstore-ScheduleForm-hint">
            A value left as the notebook's default is not sent. Values are read as JSON (3, 0.5, "eu", [1, 2],
            true), Python's True, False and None, or else as text.
          </p>
          <table>
            <tbody>
              {fields.map(field => (
                <tr key={field.name} data-parameter={field.name}>
                  <th>
                    <label htmlFor={`jp-bookstore-ScheduleForm-parameter-${field.name}`}>{field.name}</label>
                  </th>
                  <td className="jp-bookstore-ScheduleForm-type">{field.type ?? ''}</td>
                  <td>
                    <input
                      id={`jp-bookstore-ScheduleForm-parameter-${field.name}`}
                      className="jp-mod-styled"
                      value={field.value}
                      onChange={event => model.setParameter(field.name, event.currentTarget.value)}
                    />
                  </td>
                  <td className="jp-bookstore-ScheduleForm-hint">
                    {field.default === null ? 'not declared by the notebook' : field.help || `default ${field.default}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </fieldset>
  );
}

/** The form's body. */
export class ScheduleFormView extends VDomRenderer<ScheduleFormModel> {
  constructor(model: ScheduleFormModel) {
    super(model);
    this.addClass('jp-bookstore-ScheduleForm');
  }

  protected render(): JSX.Element {
    const model = this.model;
    const zones = timeZones();
    const replaces = model.replaces;
    return (
      <>
        {model.error !== null && (
          <div
            className="jp-bookstore-Notice jp-bookstore-Notice-error jp-bookstore-ScheduleForm-error"
            role="alert"
            data-testid="schedule-error"
          >
            {model.error}
          </div>
        )}
        <TextInput
          model={model}
          field="name"
          label="Name"
          readOnly={model.editing !== null}
          hint={
            model.editing !== null
              ? 'A schedule keeps its name'
              : replaces !== null
                ? `Saving changes the schedule ${replaces}`
                : 'Letters, digits, _ . -'
          }
        />
        <When model={model} />
        <Preview model={model} />
        <div className="jp-bookstore-ScheduleForm-field">
          <label htmlFor="jp-bookstore-ScheduleForm-version">Version</label>
          <select
            id="jp-bookstore-ScheduleForm-version"
            className="jp-mod-styled"
            value={model.text('versionId')}
            onChange={event => model.setText('versionId', event.currentTarget.value)}
          >
            {model.versionChoices().map(choice => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
        <Parameters model={model} />
        <div className="jp-bookstore-ScheduleForm-row">
          <TextInput model={model} field="retries" label="Retries" type="number" hint="0 to 10" />
          <TextInput model={model} field="timeout" label="Timeout (minutes)" type="number" placeholder="no limit" />
        </div>
        <TextInput
          model={model}
          field="notify"
          label="E-mail on failure"
          placeholder="alice@example.com, bob@example.com"
          hint="Told by Airflow when a run fails"
        />
        <datalist id="jp-bookstore-ScheduleForm-zones">
          {zones.map(zone => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
      </>
    );
  }
}

let ZONES: string[] | null = null;

/** The time zones the browser knows, for the time zone field's suggestions. */
function timeZones(): string[] {
  if (ZONES === null) {
    const supported = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
    ZONES = supported ? supported('timeZone') : [];
  }
  return ZONES;
}

/**
 * A dialog whose Save sends the form and closes only once the server accepts it; what the
 * server (or the form) refuses is shown in the form, which stays open.
 */
class ScheduleDialog extends Dialog<ISchedule | null> {
  constructor(
    private readonly form: ScheduleFormModel,
    private readonly save: (request: IScheduleRequest) => Promise<ISchedule>,
    options: Partial<Dialog.IOptions<ISchedule | null>>
  ) {
    super(options);
  }

  /** What the server answered to Save. */
  saved: ISchedule | null = null;

  resolve(index?: number): void {
    const accept = index === undefined || index === ScheduleDialog.SAVE_INDEX;
    if (!accept || this.saved !== null) {
      super.resolve(index);
      return;
    }
    if (this.form.saving) {
      return;
    }
    void this.submit(index);
  }

  private async submit(index: number | undefined): Promise<void> {
    let request: IScheduleRequest;
    try {
      request = this.form.request();
    } catch (error) {
      this.showError(error instanceof Error ? error.message : String(error));
      return;
    }
    this.form.saving = true;
    this.form.error = null;
    try {
      this.saved = await this.save(request);
    } catch (error) {
      this.showError(describeError(error));
      return;
    } finally {
      this.form.saving = false;
    }
    super.resolve(index);
  }

  /** Show what went wrong at the top of the form, scrolled into view. */
  private showError(text: string): void {
    this.form.error = text;
    requestAnimationFrame(() =>
      this.node.querySelector('.jp-bookstore-ScheduleForm-error')?.scrollIntoView({ block: 'nearest' })
    );
  }

  static readonly SAVE_INDEX = 1;
}

/** Show the form; the schedule the server saved, or null when cancelled. */
export async function showScheduleForm(
  form: ScheduleFormModel,
  title: string,
  save: (request: IScheduleRequest) => Promise<ISchedule>
): Promise<ISchedule | null> {
  const dialog = new ScheduleDialog(form, save, {
    title,
    body: new ScheduleFormView(form),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save' })],
    defaultButton: ScheduleDialog.SAVE_INDEX,
    focusNodeSelector: '#jp-bookstore-ScheduleForm-name'
  });
  dialog.addClass('jp-bookstore-ScheduleDialog');
  try {
    const result = await dialog.launch();
    return result.button.accept ? dialog.saved : null;
  } finally {
    form.dispose();
  }
}
