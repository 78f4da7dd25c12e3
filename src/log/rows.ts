/** Row mapping and the shared query builder for the SQL-backed logs. */
import type { Kysely } from 'kysely';
import type { CloudEvent } from '../events/index.ts';
import type { Database } from '../store/index.ts';
import type { EventLog, EventQuery, LoggedEvent } from './port.ts';

export interface EventRow {
  seq: number;
  received_ms: number;
  history: number;
  body: string;
}

export function rowToLogged(r: EventRow): LoggedEvent {
  return { seq: Number(r.seq), receivedAt: Number(r.received_ms), history: r.history === 1, event: JSON.parse(r.body) as CloudEvent };
}

export function buildQuery(db: Kysely<Database>, q: EventQuery) {
  let s = db.selectFrom('events').select(['seq', 'received_ms', 'history', 'body']);
  if (q.type) {
    s = q.type.endsWith('.*')
      ? s.where('type', '>=', q.type.slice(0, -1)).where('type', '<', `${q.type.slice(0, -2)}/`)
      : s.where('type', '=', q.type);
  }
  if (q.subject) s = s.where('subject', '=', q.subject);
  if (q.source) s = s.where('source', '=', q.source);
  if (q.timeFrom !== undefined) s = s.where('time_ms', '>=', q.timeFrom);
  if (q.timeTo !== undefined) s = s.where('time_ms', '<', q.timeTo);
  if (q.afterSeq !== undefined) s = s.where('seq', q.order === 'asc' ? '>' : '<', q.afterSeq);
  return s.orderBy('seq', q.order).limit(q.limit);
}

/**
 * The first position received at or after `cutoffMs`, by binary search over positions
 * (receive times grow with position), so pruning needs no index on receive time.
 */
export async function firstSeqReceivedAtOrAfter(log: EventLog, cutoffMs: number): Promise<number> {
  let lo = 1;
  let hi = (await log.head()) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [e] = await log.read(mid - 1, 1);
    if (!e) {
      hi = mid;
      break;
    }
    if (e.receivedAt < cutoffMs) lo = e.seq + 1;
    else hi = mid;
  }
  return lo;
}
