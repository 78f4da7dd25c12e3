/**
 * A consumer group reading the log: it starts from its persisted position (or `from`
 * when it has none), hands batches to the handler, and acks after each batch — so it
 * resumes after a restart and sees every event at least once.
 */
import type { EventLog, LoggedEvent } from './port.ts';

export interface SubscribeOptions {
  /** Where a group with no persisted position starts: the beginning, the current head, or after a position. */
  from?: 'start' | 'end' | number;
  batchSize?: number;
  /** Safety poll for appends made by other processes. */
  pollMs?: number;
  onError?: (e: unknown) => void;
}

export interface Subscription {
  /** Resolves once the current batch (if any) is handled and acked. */
  stop(): Promise<void>;
  /** Resolves when the group has processed everything up to `seq`. */
  caughtUp(seq: number): Promise<void>;
}

export function subscribe(
  log: EventLog,
  group: string,
  handler: (batch: LoggedEvent[]) => Promise<void> | void,
  opts: SubscribeOptions = {},
): Subscription {
  const batchSize = opts.batchSize ?? 500;
  let stopped = false;
  let wake: (() => void) | undefined;
  let dirty = false;
  let done = 0;
  const waiters: { seq: number; resolve: () => void }[] = [];
  /** Resolves the `caughtUp` waiters at or below `done`. */
  const settle = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.seq <= done) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const unlisten = log.onAppend(() => {
    dirty = true;
    wake?.();
  });

  const loop = (async () => {
    let pos = await log.position(group);
    if (pos === undefined) pos = opts.from === 'end' ? await log.head() : typeof opts.from === 'number' ? opts.from : 0;
    done = pos;
    settle();
    while (!stopped) {
      let batch: LoggedEvent[] = [];
      dirty = false;
      try {
        batch = await log.read(pos, batchSize);
        if (batch.length > 0) {
          await handler(batch);
          pos = (batch[batch.length - 1] as LoggedEvent).seq;
          await log.ack(group, pos);
          done = pos;
          settle();
        }
      } catch (e) {
        opts.onError?.(e);
        batch = [];
      }
      if (batch.length < batchSize && !stopped && !dirty) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, opts.pollMs ?? 1000);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      unlisten();
      wake?.();
      await loop;
    },
    caughtUp(seq: number) {
      if (done >= seq) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ seq, resolve }));
    },
  };
}
