import { describe, expect, it } from 'vitest';

import { Outcome, PanelModelBase, settleOutcome } from '../src/panel-model';

class Model extends PanelModelBase {}

/** A promise to settle by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>(res => (resolve = res));
  return { promise, resolve };
}

describe('settleOutcome', () => {
  it('turns a sentence into an ok notice, keeps a notice, and describes an error', async () => {
    expect(await settleOutcome(async () => 'Done.')).toEqual({ level: 'ok', text: 'Done.' });
    expect(await settleOutcome(async () => ({ level: 'info', text: 'Hm.' }))).toEqual({ level: 'info', text: 'Hm.' });
    expect(await settleOutcome(async () => null)).toBeNull();
    const failed = await settleOutcome(() => Promise.reject(new Error('boom')));
    expect(failed?.level).toBe('error');
  });
});

describe('PanelModelBase', () => {
  it('emits stateChanged on a change, and nothing once disposed', () => {
    const model = new Model();
    let changes = 0;
    model.stateChanged.connect(() => (changes += 1));
    model.notice = { level: 'info', text: 'hello' };
    expect(changes).toBe(1);
    expect(model.isDisposed).toBe(false);
    model.dispose();
    model.dispose();
    expect(model.isDisposed).toBe(true);
    model.notice = null;
    expect(changes).toBe(1);
  });

  it('follows whether the panel is shown', () => {
    const model = new Model();
    expect(model.visible).toBe(false);
    model.visible = true;
    expect(model.visible).toBe(true);
  });

  it('runs one action at a time, busy while it runs, then shows its outcome', async () => {
    const model = new Model();
    model.notice = { level: 'info', text: 'from before' };
    const done = deferred<Outcome>();
    const running = model.run('Copying a.ipynb…', () => done.promise);
    expect(model.busy).toBe('Copying a.ipynb…');
    expect(model.notice).toBeNull();
    let second = false;
    await model.run('Comparing…', async () => {
      second = true;
      return null;
    });
    expect(second).toBe(false);
    done.resolve('Copied.');
    await running;
    expect(model.busy).toBeNull();
    expect(model.notice).toEqual({ level: 'ok', text: 'Copied.' });
  });

  it('runs an action at once without showing it busy, and shows an error as a notice', async () => {
    const model = new Model();
    let changes = 0;
    model.stateChanged.connect(() => (changes += 1));
    await model.runAtOnce(() => Promise.reject(new Error('no clipboard')));
    expect(model.busy).toBeNull();
    expect(model.notice?.level).toBe('error');
    expect(changes).toBe(1);
  });
});
