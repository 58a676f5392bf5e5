/**
 * What the two side panels' models have in common: JupyterLab's VDomRenderer.IModel (a
 * stateChanged signal, dispose), whether the panel is shown, and one action at a time with
 * what is under way and the notice of its outcome.
 *
 * It imports no JupyterLab widget, so that the unit tests run the models in Node.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { INotice, describeError } from './messages';

/** What an action tells the person when done: a sentence (all went well), a notice, or nothing. */
export type Outcome = string | INotice | null;

/** Run `action` and answer the notice of its outcome, or of what went wrong and what to do. */
export async function settleOutcome(action: () => Promise<Outcome>): Promise<INotice | null> {
  try {
    const outcome = await action();
    return typeof outcome === 'string' ? { level: 'ok', text: outcome } : outcome;
  } catch (error) {
    return { level: 'error', text: describeError(error) };
  }
}

/** The state a side panel renders, apart from what it lists: the version history's and the catalog's. */
export class PanelModelBase {
  /** Emitted on every change; the panel renders again (JupyterLab's VDomRenderer.IModel). */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Whether the panel is shown: a hidden panel asks the server for nothing. */
  get visible(): boolean {
    return this._visible;
  }

  set visible(visible: boolean) {
    this._visible = visible;
  }

  /** The outcome of the last action (done, failed), shown until the next one. */
  get notice(): INotice | null {
    return this._notice;
  }

  set notice(notice: INotice | null) {
    this._notice = notice;
    this.changed();
  }

  /** What is under way (`Comparing 6713fada…`, `Copying mine.ipynb…`), or null. */
  get busy(): string | null {
    return this._busy;
  }

  /** Run an action, showing `label` while it runs and then its outcome; one at a time. */
  async run(label: string, action: () => Promise<Outcome>): Promise<void> {
    if (this._busy !== null) {
      return;
    }
    this._busy = label;
    this._notice = null;
    this.changed();
    try {
      await this.settle(action);
    } finally {
      this._busy = null;
      this.changed();
    }
  }

  /** Run an action that is done at once (or in a dialog of its own): not shown as busy, then its outcome. */
  async runAtOnce(action: () => Promise<Outcome>): Promise<void> {
    await this.settle(action);
    this.changed();
  }

  /** Run `action` and keep its outcome, or what went wrong, as the notice. */
  protected async settle(action: () => Promise<Outcome>): Promise<void> {
    this._notice = await settleOutcome(action);
  }

  protected changed(): void {
    this._stateChanged.emit(void 0);
  }

  protected _visible = false;
  protected _notice: INotice | null = null;
  protected _busy: string | null = null;
  private readonly _stateChanged = new Signal<this, void>(this);
  private _isDisposed = false;
}
