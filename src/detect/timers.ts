/**
 * The durable timer store port, in job words.
 *
 * Terminology:
 * - **timer**: a promise to run something for a `key` at a time, with a JSON `payload`;
 *   it survives restarts because it lives in the store.
 * - **key**: the timer's identity, e.g. `cart.abandoned:cart-123`. One timer per key:
 *   scheduling a key again replaces it ("reset on activity").
 * - **due** (`dueAt`): when the timer should fire, epoch ms on the injected `Clock`. A
 *   firing is identified by `(key, dueAt)`; retries of the same firing keep the same `dueAt`.
 * - **claim**: taking due timers to fire them. A claim gives each timer a fresh **token**
 *   and a **lease**; only the holder of the current token can `complete` or `retryAt` it.
 * - **lease**: how long a claim is exclusive. A claimer that crashes never completes; once
 *   its lease expires the timer is due again and another claim takes it.
 * - **attempt**: one claim of a timer; `attempts` counts them since it was last scheduled.
 *
 * Guarantees: a timer fires at least once after it is due, across restarts. It can fire
 * more than once (a claimer crashes after its effect but before `complete`, or outlives its
 * lease), so an effect must be idempotent by `(key, dueAt)`: derive the effect's identity
 * with `firingId` (e.g. as the id of the event it appends, which the event log dedupes),
 * and the effect happens once.
 *
 * Scheduling, rescheduling or cancelling a claimed timer voids the claim's token: the stale
 * claimer can no longer complete it, and a rescheduled timer still fires at its new time.
 *
 * Implementations: SQLite (single writer, claims in an IMMEDIATE transaction) and
 * PostgreSQL (`FOR UPDATE SKIP LOCKED`); `openTimerStore` picks by the store's capability.
 */
import { deterministicId } from '../core/index.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface NewTimer {
  key: string;
  dueAt: number;
  payload: Json;
}

/** A timer handed out by `claimDue`; `token` proves the claim. */
export interface ClaimedTimer {
  key: string;
  dueAt: number;
  payload: Json;
  /** Claims so far, this one included (1 on the first firing). */
  attempts: number;
  token: string;
}

/** A timer as stored, for inspection. */
export interface Timer {
  key: string;
  dueAt: number;
  payload: Json;
  attempts: number;
  /** When a claim may next take it: `dueAt`, a lease expiry or a retry time. */
  readyAt: number;
  /** Lease expiry while claimed (possibly already past: the claimer may have crashed). */
  leasedUntil: number | undefined;
  lastError: string | undefined;
}

export interface ScheduleOptions {
  /**
   * SQLite: commit without an fsync of its own, for a caller that always makes a later fsynced
   * commit on the same file before the timers count — the state consumer, whose ack follows and
   * whose batch is replayed after a crash (ADR 0011). Ignored on PostgreSQL.
   */
  deferSync?: boolean;
}

export interface TimerStore {
  /** Creates or replaces the timer for `key`; replacing resets attempts and voids any claim. */
  schedule(key: string, dueAt: number, payload: Json): Promise<void>;
  /** `schedule` for many timers in one transaction (a later duplicate key wins). */
  scheduleMany(timers: readonly NewTimer[], opts?: ScheduleOptions): Promise<void>;
  /** Moves an existing timer, keeping its payload; false when there is none. */
  reschedule(key: string, dueAt: number): Promise<boolean>;
  /** Removes the timer; false when there was none. */
  cancel(key: string): Promise<boolean>;
  /** `cancel` for many keys in one transaction; how many timers were removed. */
  cancelMany(keys: readonly string[], opts?: ScheduleOptions): Promise<number>;
  /**
   * Claims up to `limit` timers that are ready (due and not leased, or lease expired) at
   * `clock.now()`, earliest first; leases them for `leaseMs` and counts an attempt.
   */
  claimDue(limit: number, leaseMs: number): Promise<ClaimedTimer[]>;
  /** Deletes the timer if `token` is still its current claim; false when it is stale. */
  complete(key: string, token: string): Promise<boolean>;
  /** `complete` for many claims in one transaction; how many were still current. */
  completeMany(claims: readonly { key: string; token: string }[]): Promise<number>;
  /** Releases the claim and makes the same firing ready again at `at`; false when stale. */
  retryAt(key: string, token: string, at: number, error?: string): Promise<boolean>;
  get(key: string): Promise<Timer | undefined>;
  /** Timers in the store, claimed or not. */
  count(): Promise<number>;
  /** The earliest time a claim could return something, for sleeping until then. */
  nextDueAt(): Promise<number | undefined>;
}

/** The identity of one firing: the same `(key, dueAt)` always gives the same id. */
export function firingId(timer: { key: string; dueAt: number }): string {
  return deterministicId('pitwall.timer', timer.key, timer.dueAt);
}
