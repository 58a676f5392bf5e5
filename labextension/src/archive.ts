/** Waiting for the archive queue, so that a fresh save shows up in the version list. */
import { BookstoreClient, IStatus } from './api';

export interface IWaitOptions {
  /** Give up after this long; the caller shows the list as it is then. */
  timeoutMs?: number;
  intervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Poll `GET /api/bookstore` until no save is pending (or archiving is off), and answer the
 * last status seen. Saving never waits for the bucket, so the newest save reaches it a
 * moment after Jupyter says "saved"; while the bucket is failing this returns at the timeout.
 * Autosaves of collaborative editing waiting for their interval (`waiting`) are not waited for.
 */
export async function waitUntilArchived(
  client: Pick<BookstoreClient, 'status'>,
  options: IWaitOptions = {}
): Promise<IStatus> {
  const timeoutMs = options.timeoutMs ?? 20000;
  const intervalMs = options.intervalMs ?? 250;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + timeoutMs;
  for (;;) {
    const status = await client.status();
    const pending = (status.archive?.pending ?? 0) - (status.archive?.waiting ?? 0);
    if (!status.archiving || pending === 0 || now() >= deadline) {
      return status;
    }
    await sleep(intervalMs);
  }
}
