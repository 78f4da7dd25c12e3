/**
 * Timers on PostgreSQL. Many processes may claim at once: the claim locks the rows it picks
 * with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take disjoint timers without waiting
 * for each other, and the lease it writes hides the rows from later claims until it expires.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Clock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { byDue, checkClaimArgs, checkDue, encodePayload, lastPerKey, rowToClaimed, rowToTimer, type TimerRow } from './timer-rows.ts';
import type { ClaimedTimer, Json, NewTimer, Timer, TimerStore } from './timers.ts';

/** Rows per INSERT … unnest statement, so a huge batch does not build one giant parameter array. */
const CHUNK = 10_000;

export class PostgresTimerStore implements TimerStore {
  private readonly pool: Pool;

  constructor(
    store: Store,
    private readonly clock: Clock,
  ) {
    if (!store.pg) throw new Error('PostgresTimerStore needs a PostgreSQL store');
    this.pool = store.pg;
  }

  async schedule(key: string, dueAt: number, payload: Json): Promise<void> {
    await this.scheduleMany([{ key, dueAt, payload }]);
  }

  async scheduleMany(timers: readonly NewTimer[]): Promise<void> {
    for (const t of timers) checkDue(t.dueAt);
    // ON CONFLICT cannot touch one row twice in a statement: keep the last entry per key.
    const rows = lastPerKey(timers);
    if (rows.length === 0) return;
    const now = this.clock.now();
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      for (let i = 0; i < rows.length; i += CHUNK) {
        const part = rows.slice(i, i + CHUNK);
        await c.query(
          `INSERT INTO timers (key, due_ms, ready_ms, payload, attempts, lease_token, last_error, updated_ms)
           SELECT k, d, d, p, 0, NULL, NULL, $4 FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(k, d, p)
           ON CONFLICT (key) DO UPDATE SET due_ms = excluded.due_ms, ready_ms = excluded.ready_ms, payload = excluded.payload,
             attempts = 0, lease_token = NULL, last_error = NULL, updated_ms = excluded.updated_ms`,
          [part.map((t) => t.key), part.map((t) => t.dueAt), part.map((t) => encodePayload(t.payload)), now],
        );
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async reschedule(key: string, dueAt: number): Promise<boolean> {
    checkDue(dueAt);
    const r = await this.pool.query(
      'UPDATE timers SET due_ms = $1, ready_ms = $1, attempts = 0, lease_token = NULL, last_error = NULL, updated_ms = $2 WHERE key = $3',
      [dueAt, this.clock.now(), key],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async cancel(key: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM timers WHERE key = $1', [key])).rowCount ?? 0) > 0;
  }

  async cancelMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return (await this.pool.query('DELETE FROM timers WHERE key = ANY($1::text[])', [[...keys]])).rowCount ?? 0;
  }

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedTimer[]> {
    checkClaimArgs(limit, leaseMs);
    const now = this.clock.now();
    const token = randomUUID();
    const r = await this.pool.query<Pick<TimerRow, 'key' | 'due_ms' | 'payload' | 'attempts'>>(
      `UPDATE timers SET lease_token = $3, ready_ms = $4, attempts = attempts + 1, updated_ms = $1
       WHERE key IN (SELECT key FROM timers WHERE ready_ms <= $1 ORDER BY ready_ms LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING key, due_ms, payload, attempts`,
      [now, limit, token, now + leaseMs],
    );
    return r.rows.map((row) => rowToClaimed(row, token)).sort(byDue);
  }

  async complete(key: string, token: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM timers WHERE key = $1 AND lease_token = $2', [key, token])).rowCount ?? 0) > 0;
  }

  async completeMany(claims: readonly { key: string; token: string }[]): Promise<number> {
    if (claims.length === 0) return 0;
    const r = await this.pool.query(
      'DELETE FROM timers t USING unnest($1::text[], $2::text[]) AS c(k, tok) WHERE t.key = c.k AND t.lease_token = c.tok',
      [claims.map((c) => c.key), claims.map((c) => c.token)],
    );
    return r.rowCount ?? 0;
  }

  async retryAt(key: string, token: string, at: number, error?: string): Promise<boolean> {
    checkDue(at);
    const r = await this.pool.query(
      'UPDATE timers SET ready_ms = $1, lease_token = NULL, last_error = $2, updated_ms = $3 WHERE key = $4 AND lease_token = $5',
      [at, error ?? null, this.clock.now(), key, token],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async get(key: string): Promise<Timer | undefined> {
    const r = await this.pool.query<TimerRow>(
      'SELECT key, due_ms, ready_ms, payload, attempts, lease_token, last_error FROM timers WHERE key = $1',
      [key],
    );
    const row = r.rows[0];
    return row === undefined ? undefined : rowToTimer(row);
  }

  async count(): Promise<number> {
    const r = await this.pool.query<{ n: string }>('SELECT count(*)::bigint AS n FROM timers');
    return Number(r.rows[0]?.n ?? 0);
  }

  async nextDueAt(): Promise<number | undefined> {
    const r = await this.pool.query<{ m: string | null }>('SELECT min(ready_ms) AS m FROM timers');
    const m = r.rows[0]?.m;
    return m === null || m === undefined ? undefined : Number(m);
  }
}
