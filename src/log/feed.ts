/**
 * An event log that also tells its `onAppend` listeners about appends committed elsewhere — by
 * another connection to the same store, such as the HTTP thread's log when the consumer groups run
 * on the background thread (ADR 0022). Without it they would only see those at their safety poll.
 */
import type { EventLog } from './port.ts';

export function withAppendFeed(inner: EventLog): { log: EventLog; notify(head: number): void } {
  const listeners = new Set<(head: number) => void>();
  const log: EventLog = {
    append: (events) => inner.append(events),
    read: (after, limit) => inner.read(after, limit),
    query: (q) => inner.query(q),
    head: () => inner.head(),
    position: (group) => inner.position(group),
    ack: (group, seq) => inner.ack(group, seq),
    onAppend(listener) {
      const off = inner.onAppend(listener);
      listeners.add(listener);
      return () => {
        off();
        listeners.delete(listener);
      };
    },
    problem: () => inner.problem(),
    pending: () => inner.pending(),
    pruneDedupe: (cutoffMs) => inner.pruneDedupe(cutoffMs),
    close: () => {
      listeners.clear();
      return inner.close();
    },
  };
  return {
    log,
    notify(head) {
      for (const l of listeners) l(head);
    },
  };
}
