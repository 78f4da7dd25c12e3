/** Messages between main.ts's background thread host (background-thread.ts) and the worker (background-worker.ts). */
import type { Config } from './config/index.ts';

export interface BackgroundWorkerData {
  config: Config;
  /** The wall time the server's clock started from, so a scaled clock (PITWALL_CLOCK_SPEED) reads the same on both threads. */
  clockStart: number;
}

export type ToWorker =
  /** The HTTP thread committed appends up to `head`: wake the consumer groups. */
  | { t: 'head'; head: number }
  /** Answer `caughtUp` with this id once group `state` has folded `seq`. */
  | { t: 'caughtUp'; id: number; seq: number }
  /** A custom event type was registered: reload the schema registry. */
  | { t: 'types' }
  | { t: 'stop' };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; code: string | undefined; message: string }
  | { t: 'caughtUp'; id: number }
  | { t: 'stopped' };
