import type { Clock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import type { EventLog } from './port.ts';
import { PostgresEventLog } from './postgres-log.ts';
import { SqliteEventLog } from './sqlite-log.ts';

export { type SubscribeOptions, type Subscription, subscribe } from './consumer.ts';
export { withAppendFeed } from './feed.ts';
export type { AppendOutcome, EventLog, EventQuery, LoggedEvent, NewEvent } from './port.ts';

/** The SQL-backed log for the configured store. */
export function openEventLog(store: Store, clock: Clock, opts: { dedupeWindowMs?: number } = {}): EventLog {
  return store.singleWriter ? new SqliteEventLog(store, clock, opts.dedupeWindowMs) : new PostgresEventLog(store, clock);
}
