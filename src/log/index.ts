import type { Clock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import type { LogReader } from './forwarding-log.ts';
import type { EventLog } from './port.ts';
import { PostgresEventLog } from './postgres-log.ts';
import { SqliteEventLog, SqliteLogReader } from './sqlite-log.ts';

export { type SubscribeOptions, type Subscription, subscribe } from './consumer.ts';
export { ForwardingEventLog, type LogForwarder, type LogReader } from './forwarding-log.ts';
export type { AppendOutcome, EventLog, EventQuery, LoggedEvent, NewEvent } from './port.ts';

/** The SQL-backed log for the configured store. */
export function openEventLog(store: Store, clock: Clock, opts: { dedupeWindowMs?: number } = {}): EventLog {
  return store.singleWriter ? new SqliteEventLog(store, clock, opts.dedupeWindowMs) : new PostgresEventLog(store, clock);
}

/** The read side of the log on `store`'s own connection, for a thread that does not own the writer. */
export function openLogReader(store: Store, clock: Clock): LogReader {
  // PostgresEventLog does nothing until asked: its reads are all this uses of it.
  return store.singleWriter ? new SqliteLogReader(store) : new PostgresEventLog(store, clock);
}
