/** Row mapping and argument checks shared by the SQLite and PostgreSQL timer stores. */
import type { ClaimedTimer, Json, NewTimer, Timer } from './timers.ts';

/** Later entries for the same key replace earlier ones, as sequential `schedule` calls would. */
export function lastPerKey(timers: readonly NewTimer[]): NewTimer[] {
  const byKey = new Map<string, NewTimer>();
  for (const t of timers) {
    byKey.delete(t.key);
    byKey.set(t.key, t);
  }
  return [...byKey.values()];
}

/** The stored row shape shared by both implementations. */
export interface TimerRow {
  key: string;
  due_ms: number | bigint;
  ready_ms: number | bigint;
  payload: string;
  attempts: number;
  lease_token: string | null;
  last_error: string | null;
}

export function rowToTimer(r: TimerRow): Timer {
  return {
    key: r.key,
    dueAt: Number(r.due_ms),
    payload: JSON.parse(r.payload) as Json,
    attempts: r.attempts,
    readyAt: Number(r.ready_ms),
    leasedUntil: r.lease_token === null ? undefined : Number(r.ready_ms),
    lastError: r.last_error ?? undefined,
  };
}

export function rowToClaimed(r: Pick<TimerRow, 'key' | 'due_ms' | 'payload' | 'attempts'>, token: string): ClaimedTimer {
  return { key: r.key, dueAt: Number(r.due_ms), payload: JSON.parse(r.payload) as Json, attempts: r.attempts, token };
}

/** Claims come back earliest first (RETURNING gives no order). */
export function byDue(a: ClaimedTimer, b: ClaimedTimer): number {
  return a.dueAt - b.dueAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export function checkClaimArgs(limit: number, leaseMs: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`claim limit must be a positive integer, got ${limit}`);
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError(`lease must be positive, got ${leaseMs}`);
}

export function checkDue(dueAt: number): void {
  if (!Number.isSafeInteger(dueAt)) throw new RangeError(`a timer's due time must be integer epoch ms, got ${dueAt}`);
}

export function encodePayload(payload: Json): string {
  const s = JSON.stringify(payload);
  if (s === undefined) throw new TypeError('a timer payload must be a JSON value');
  return s;
}
