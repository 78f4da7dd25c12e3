/** Messages between main.ts's background thread host (background-thread.ts) and the worker (background-worker.ts). */
import type { Config } from './config/index.ts';
import type { AppendOutcome, NewEvent } from './log/index.ts';

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
  | { t: 'stop' }
  /** The answer to the worker's append or ack (`outcomes` for an append), or why it failed. */
  | { t: 'done'; id: number; outcomes?: AppendOutcome[] }
  | { t: 'error'; id: number; code: string | undefined; message: string };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; code: string | undefined; message: string }
  | { t: 'caughtUp'; id: number }
  | { t: 'stopped' }
  /** A run transaction put actions in the outbox: wake the dispatcher (it runs on the HTTP thread). */
  | { t: 'enqueued' }
  /** Appends and acks go through the HTTP thread's log, whose writer owns the dedupe index (ADR 0006). */
  | { t: 'append'; id: number; events: NewEvent[] }
  | { t: 'ack'; id: number; group: string; seq: number };
