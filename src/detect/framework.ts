/**
 * The Decide framework: one mechanism for every projection and detector.
 *
 * Words:
 * - **projection**: folds log events into tables (current state). It owns its tables, is
 *   idempotent by log position (`seq`), and is rebuilt from the log by `pitwall state rebuild`.
 * - **detector**: after the projections folded a batch, it looks at the new state, schedules or
 *   cancels durable timers and appends **derived events** (with `caused_by` links) to the log.
 *   Detectors ignore history-mode events (they build state but start nothing). A detector's
 *   timers start with its `timerPrefix`; the timer runner hands them to its `fire`.
 * - **condition**: a detector's firing with a lifecycle (raised → acknowledged → cleared),
 *   folded from derived events by the conditions projection according to the detectors'
 *   `conditions` rules (see conditions.ts).
 * - **module**: a group of projections and detectors about one subject (carts, shipments, …).
 *
 * The consumer group `state` (src/state) runs every module: per batch, all projections in one
 * write transaction, then every detector, then the ack.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { type Clock, isoTime } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { EventLog, LoggedEvent } from '../log/index.ts';
import type { Database, Dialect } from '../store/index.ts';
import type { ClaimedTimer, TimerStore } from './timers.ts';

/** A Kysely handle or a transaction on it. */
export type Db = Kysely<Database> | Transaction<Database>;

/** What projections need of a store: the Kysely handle and which dialect it speaks. */
export interface StateDb {
  db: Kysely<Database>;
  dialect: Dialect;
}

export type TableName = keyof Database & string;

export interface WriteTransactionOptions {
  /**
   * SQLite: commit without an fsync of its own (`synchronous = NORMAL` for this transaction
   * only; ADR 0011). Only for writes that count once a later fsynced commit on the same file
   * follows — the consumer's ack or an append — because that fsync of the WAL makes every frame
   * before it durable; a crash before it loses both, and the work is redone. No effect on PostgreSQL.
   */
  deferSync?: boolean;
}

/** Runs `fn` in a write transaction: IMMEDIATE on SQLite (takes the write lock before reading). */
export async function writeTransaction<T>(store: StateDb, fn: (db: Db) => Promise<T>, opts: WriteTransactionOptions = {}): Promise<T> {
  if (store.dialect === 'postgres') return store.db.transaction().execute(fn);
  return store.db.connection().execute(async (conn) => {
    const restore = opts.deferSync ? await relaxSync(conn) : undefined;
    try {
      await sql`begin immediate`.execute(conn);
      try {
        const out = await fn(conn);
        await sql`commit`.execute(conn);
        return out;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw e;
      }
    } finally {
      if (restore !== undefined) await sql.raw(`pragma synchronous = ${restore}`).execute(conn);
    }
  });
}

/** Sets `synchronous = NORMAL` on the connection; returns the level to restore. */
async function relaxSync(conn: Db): Promise<number> {
  const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(conn);
  const level = Number(rows[0]?.synchronous ?? 2);
  if (level > 1) await sql`pragma synchronous = NORMAL`.execute(conn);
  return level;
}

export interface Projection {
  readonly name: string;
  /** Tables it owns; `pitwall state rebuild` empties them before folding the log again. */
  readonly tables: readonly TableName[];
  /** Which events it folds; `apply` receives only these. */
  handles(e: CloudEvent): boolean;
  /**
   * Folds `events` (log order, history-mode included) inside the batch's write transaction.
   * Must be idempotent by position: an event with `seq` already applied changes nothing
   * (a crash between the commit and the ack replays the batch).
   */
  apply(db: Db, events: readonly LoggedEvent[], dialect: Dialect): Promise<void>;
}

export type Severity = 'info' | 'warning' | 'critical';

/** How a derived event moves a condition. */
export interface ConditionRule {
  /** The derived event type, e.g. `device.silent`. */
  type: string;
  /** `raise` opens (or refreshes) the condition for its key; `clear` closes the open one. */
  action: 'raise' | 'clear';
  /**
   * A clear that is final (a shipment delivered, returned, cancelled): every later raise for the
   * key is ignored, even one a detector appended after it from state read before the fold.
   */
  terminal?: boolean;
  /** The condition kind, e.g. `device.silent` (a clear rule names the kind it clears). */
  kind: string;
  /** What the condition is about, from the event (e.g. the device id); undefined skips it. */
  key(e: CloudEvent): string | undefined;
  severity?: Severity | ((e: CloudEvent) => Severity);
  /** One line for lists and notifications. */
  summary?(e: CloudEvent): string;
}

export interface Detector {
  readonly name: string;
  /** Timer keys it owns start with this prefix; `fire` handles them. */
  readonly timerPrefix?: string;
  /** The conditions its derived events raise and clear. */
  readonly conditions?: readonly ConditionRule[];
  /** After the projections folded `batch` (which may contain history events to skip). */
  onEvents?(batch: readonly LoggedEvent[]): Promise<void>;
  /** TimerRunner handler for its timers; idempotent by `(key, dueAt)` (see `firingId`). */
  fire?(timer: ClaimedTimer): Promise<void>;
}

export interface DecideModule {
  readonly name: string;
  readonly projections: readonly Projection[];
  readonly detectors: readonly Detector[];
}

/** What a module gets to build its projections and detectors. */
export interface DecideContext {
  log: EventLog;
  store: StateDb;
  timers: TimerStore;
  clock: Clock;
}

export interface DerivedEventInit {
  type: string;
  /** Deterministic (e.g. `firingId(timer)` or `deterministicId(...)`) so a retry dedupes. */
  id: string;
  /** `pitwall:detector/<name>`. */
  source: string;
  subject?: string;
  data: Record<string, unknown>;
  /** Ids of the events that caused it (`data.caused_by`). */
  causedBy?: readonly string[];
  /** Event time; default the clock's now. */
  timeMs?: number;
}

export function detectorSource(name: string): string {
  return `pitwall:detector/${name}`;
}

export function derivedEvent(clock: Clock, init: DerivedEventInit): CloudEvent {
  const data = init.causedBy && init.causedBy.length > 0 ? { ...init.data, caused_by: [...init.causedBy] } : init.data;
  return {
    specversion: '1.0',
    id: init.id,
    source: init.source,
    type: init.type,
    time: isoTime(init.timeMs ?? clock.now()),
    ...(init.subject !== undefined ? { subject: init.subject } : {}),
    datacontenttype: 'application/json',
    data,
  };
}

/** Appends derived events (deduped by the log on their deterministic ids). */
export async function emit(log: EventLog, clock: Clock, events: readonly CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  const receivedAt = clock.now();
  await log.append(events.map((event) => ({ event, receivedAt })));
}

/** `properties` of a Segment-shaped event's data, or the data itself. */
export function dataOf(e: CloudEvent): Record<string, unknown> {
  const d = e.data;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return {};
  return d as Record<string, unknown>;
}

/** Event time in epoch ms (the log guarantees `time` is set and valid). */
export function eventTimeMs(e: CloudEvent): number {
  return Date.parse(e.time);
}
