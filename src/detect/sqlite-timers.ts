/**
 * Timers on SQLite. SQLite has one writer at a time, so a claim is a single UPDATE … RETURNING
 * inside an IMMEDIATE transaction: it takes the write lock before reading, and a second
 * connection (another store on the same file) waits for it instead of claiming the same rows.
 * Statements are prepared on the raw handle and run synchronously, so no transaction is ever
 * held across an `await`. Each call still waits for Kysely's connection (its mutex): the raw
 * handle is the same connection, and a projection's write transaction spans `await`s — without
 * the wait, a timer written meanwhile would join that transaction and vanish if it rolled back.
 *
 * Claims, completions and retries commit without an fsync of their own (`synchronous = NORMAL`
 * for that transaction; ADR 0011): the port already tolerates losing them in a crash — a lost
 * claim or retry is claimed again, a lost completion fires again and the effect dedupes by
 * `firingId` — and any later fsynced commit on the file (the log's next append) makes them
 * durable. Schedules and cancels stay fsynced unless the caller asks (`deferSync`).
 */
import { randomUUID } from 'node:crypto';
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.ts';
import type { Database, Store } from '../store/index.ts';
import { byDue, checkClaimArgs, checkDue, encodePayload, rowToClaimed, rowToTimer, type TimerRow } from './timer-rows.ts';
import type { ClaimedTimer, Json, NewTimer, ScheduleOptions, Timer, TimerStore } from './timers.ts';

type ClaimRow = Pick<TimerRow, 'key' | 'due_ms' | 'payload' | 'attempts'>;

export class SqliteTimerStore implements TimerStore {
  private readonly raw: SqliteDatabase.Database;
  private readonly db: Kysely<Database>;
  private readonly st;
  private readonly scheduleTx: SqliteDatabase.Transaction<(rows: readonly NewTimer[], now: number) => void>;
  private readonly claimTx: SqliteDatabase.Transaction<(token: string, leaseUntil: number, now: number, limit: number) => ClaimRow[]>;
  private readonly completeTx: SqliteDatabase.Transaction<(claims: readonly { key: string; token: string }[]) => number>;
  private readonly cancelTx: SqliteDatabase.Transaction<(keys: readonly string[]) => number>;

  constructor(
    store: Store,
    private readonly clock: Clock,
  ) {
    if (!store.sqlite) throw new Error('SqliteTimerStore needs a SQLite store');
    this.raw = store.sqlite;
    this.db = store.db;
    const raw = this.raw;
    this.st = {
      upsert: raw.prepare(
        `INSERT INTO timers (key, due_ms, ready_ms, payload, attempts, lease_token, last_error, updated_ms)
         VALUES (?, ?, ?, ?, 0, NULL, NULL, ?)
         ON CONFLICT (key) DO UPDATE SET due_ms = excluded.due_ms, ready_ms = excluded.ready_ms, payload = excluded.payload,
           attempts = 0, lease_token = NULL, last_error = NULL, updated_ms = excluded.updated_ms`,
      ),
      reschedule: raw.prepare(
        'UPDATE timers SET due_ms = ?, ready_ms = ?, attempts = 0, lease_token = NULL, last_error = NULL, updated_ms = ? WHERE key = ?',
      ),
      cancel: raw.prepare('DELETE FROM timers WHERE key = ?'),
      claim: raw.prepare(
        `UPDATE timers SET lease_token = ?, ready_ms = ?, attempts = attempts + 1, updated_ms = ?
         WHERE key IN (SELECT key FROM timers WHERE ready_ms <= ? ORDER BY ready_ms LIMIT ?)
         RETURNING key, due_ms, payload, attempts`,
      ),
      complete: raw.prepare('DELETE FROM timers WHERE key = ? AND lease_token = ?'),
      retry: raw.prepare(
        'UPDATE timers SET ready_ms = ?, lease_token = NULL, last_error = ?, updated_ms = ? WHERE key = ? AND lease_token = ?',
      ),
      get: raw.prepare('SELECT key, due_ms, ready_ms, payload, attempts, lease_token, last_error FROM timers WHERE key = ?'),
      count: raw.prepare('SELECT count(*) FROM timers').pluck(),
      next: raw.prepare('SELECT min(ready_ms) FROM timers').pluck(),
    };
    this.scheduleTx = raw.transaction((rows: readonly NewTimer[], now: number) => {
      for (const t of rows) this.st.upsert.run(t.key, t.dueAt, t.dueAt, encodePayload(t.payload), now);
    });
    this.claimTx = raw.transaction(
      (token: string, leaseUntil: number, now: number, limit: number) =>
        this.st.claim.all(token, leaseUntil, now, now, limit) as ClaimRow[],
    );
    this.cancelTx = raw.transaction((keys: readonly string[]) => {
      let n = 0;
      for (const k of keys) n += this.st.cancel.run(k).changes;
      return n;
    });
    this.completeTx = raw.transaction((claims: readonly { key: string; token: string }[]) => {
      let n = 0;
      for (const c of claims) n += this.st.complete.run(c.key, c.token).changes;
      return n;
    });
  }

  async schedule(key: string, dueAt: number, payload: Json): Promise<void> {
    await this.scheduleMany([{ key, dueAt, payload }]);
  }

  async scheduleMany(timers: readonly NewTimer[], opts: ScheduleOptions = {}): Promise<void> {
    for (const t of timers) checkDue(t.dueAt);
    const run = () => this.scheduleTx.immediate(timers, this.clock.now());
    await this.serial(() => (opts.deferSync ? this.relaxed(run) : run()));
  }

  async reschedule(key: string, dueAt: number): Promise<boolean> {
    checkDue(dueAt);
    return this.serial(() => this.st.reschedule.run(dueAt, dueAt, this.clock.now(), key).changes > 0);
  }

  async cancel(key: string): Promise<boolean> {
    return this.serial(() => this.st.cancel.run(key).changes > 0);
  }

  async cancelMany(keys: readonly string[], opts: ScheduleOptions = {}): Promise<number> {
    if (keys.length === 0) return 0;
    const run = () => this.cancelTx.immediate(keys);
    return this.serial(() => (opts.deferSync ? this.relaxed(run) : run()));
  }

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedTimer[]> {
    checkClaimArgs(limit, leaseMs);
    return this.serial(() => {
      const now = this.clock.now();
      const token = randomUUID();
      return this.relaxed(() => this.claimTx.immediate(token, now + leaseMs, now, limit))
        .map((r) => rowToClaimed(r, token))
        .sort(byDue);
    });
  }

  async complete(key: string, token: string): Promise<boolean> {
    return this.serial(() => this.relaxed(() => this.st.complete.run(key, token).changes > 0));
  }

  async completeMany(claims: readonly { key: string; token: string }[]): Promise<number> {
    return claims.length === 0 ? 0 : this.serial(() => this.relaxed(() => this.completeTx.immediate(claims)));
  }

  async retryAt(key: string, token: string, at: number, error?: string): Promise<boolean> {
    checkDue(at);
    return this.serial(() => this.relaxed(() => this.st.retry.run(at, error ?? null, this.clock.now(), key, token).changes > 0));
  }

  async get(key: string): Promise<Timer | undefined> {
    const r = await this.serial(() => this.st.get.get(key) as TimerRow | undefined);
    return r === undefined ? undefined : rowToTimer(r);
  }

  async count(): Promise<number> {
    return this.serial(() => this.st.count.get() as number);
  }

  async nextDueAt(): Promise<number | undefined> {
    const v = await this.serial(() => this.st.next.get() as number | null);
    return v === null ? undefined : v;
  }

  /**
   * Runs `fn` (synchronous, outside any transaction: inside `serial`) with `synchronous = NORMAL`,
   * so its commit does not wait for an fsync; restores the connection's level after.
   */
  private relaxed<T>(fn: () => T): T {
    const level = this.raw.pragma('synchronous', { simple: true }) as number;
    if (level <= 1) return fn();
    this.raw.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.raw.pragma(`synchronous = ${level}`);
    }
  }

  /** Runs `fn` while holding Kysely's connection, so it never lands inside another caller's transaction. */
  private serial<T>(fn: () => T): Promise<T> {
    return this.db.connection().execute(async () => fn());
  }
}
