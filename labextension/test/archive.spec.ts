import { describe, expect, it } from 'vitest';

import { IStatus } from '../src/api';
import { waitUntilArchived } from '../src/archive';

function statuses(...pending: number[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async status(): Promise<IStatus> {
      const count = pending[Math.min(calls, pending.length - 1)];
      calls += 1;
      return {
        version: '0',
        features: [],
        archiving: true,
        archive: { state: 'ok', pending: count, last_error: null }
      };
    }
  };
}

describe('waitUntilArchived', () => {
  it('polls until nothing is pending', async () => {
    const client = statuses(2, 1, 0);
    let slept = 0;
    const status = await waitUntilArchived(client, { sleep: async ms => void (slept += ms), intervalMs: 100 });
    expect(status.archive?.pending).toBe(0);
    expect(client.calls).toBe(3);
    expect(slept).toBe(200);
  });

  it('does not wait for autosaves held for their interval', async () => {
    const client = {
      calls: 0,
      async status(): Promise<IStatus> {
        this.calls += 1;
        return { version: '0', features: [], archiving: true, archive: { state: 'ok', pending: 1, waiting: 1, last_error: null } };
      }
    };
    await waitUntilArchived(client);
    expect(client.calls).toBe(1);
  });

  it('gives up at the timeout and answers the last status', async () => {
    const client = statuses(5);
    let now = 0;
    const status = await waitUntilArchived(client, {
      timeoutMs: 1000,
      intervalMs: 250,
      now: () => now,
      sleep: async ms => void (now += ms)
    });
    expect(status.archive?.pending).toBe(5);
    expect(client.calls).toBe(5);
  });

  it('does not wait when archiving is off', async () => {
    const client = {
      calls: 0,
      async status(): Promise<IStatus> {
        this.calls += 1;
        return { version: '0', features: [], archiving: false };
      }
    };
    await waitUntilArchived(client);
    expect(client.calls).toBe(1);
  });
});
