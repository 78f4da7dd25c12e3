/**
 * The outbox on SQLite. One writer at a time: the claim is a single `UPDATE … WHERE key IN
 * (SELECT … LIMIT n) RETURNING *`, which takes the write lock before it reads, so a second
 * process on the same file waits for it (busy_timeout) instead of claiming the same rows.
 *
 * The claim must be durable before any action leaves — with it, the runs that enqueued its actions
 * (ADR 0011) — but its fsync no longer runs inside the write lock on the event loop (ADR 0019): the
 * claim commits with `synchronous = NORMAL`, then `store.syncWal()` fsyncs the WAL on the thread
 * pool. A round's completions commit without an fsync of their own (as the timer store's do): a
 * completion lost to a power failure is the outbox's "crash between the send and `complete`" —
 * the lease runs out and the action is sent again with the same key — and the next fsynced commit
 * on the file (the next claim, an append, an ack) makes it durable.
 */
import { type QueryResult, type RawBuilder, sql } from 'kysely';
import type { Clock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { SqlOutbox } from './outbox-sql.ts';

export class SqliteOutbox extends SqlOutbox {
  protected readonly claimLock: RawBuilder<unknown> = sql``;

  protected completeStatement(json: string, nowMs: number): RawBuilder<unknown> {
    return sql`
      UPDATE outbox SET status = 'done', lease_token = NULL, result = c.r, updated_ms = ${nowMs}, finished_ms = ${nowMs}
      FROM (SELECT json_extract(value, '$.k') AS k, json_extract(value, '$.t') AS t, json_extract(value, '$.r') AS r FROM json_each(${json})) AS c
      WHERE outbox.key = c.k AND outbox.lease_token = c.t AND +outbox.status = 'pending'`; // unary + keeps the planner on the primary key
  }

  protected override async claims<R>(statement: RawBuilder<R>): Promise<QueryResult<R>> {
    const r = await this.relaxed(statement);
    await this.store.syncWal();
    return r;
  }

  protected override completions(statement: RawBuilder<unknown>): Promise<QueryResult<unknown>> {
    return this.relaxed(statement);
  }

  /**
   * One autocommit statement with `synchronous = NORMAL` (restored after), on Kysely's connection
   * so it never joins another caller's transaction. Not `BEGIN IMMEDIATE` … `COMMIT` around it:
   * a transaction open across `await`s would make a second connection in this process (another
   * store on the file) wait for the lock with the event loop blocked — a deadlock until busy_timeout.
   */
  private relaxed<R>(statement: RawBuilder<R>): Promise<QueryResult<R>> {
    return this.db.connection().execute(async (conn) => {
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(conn);
      const level = Number(rows[0]?.synchronous ?? 2);
      if (level > 1) await sql`pragma synchronous = NORMAL`.execute(conn);
      try {
        return await statement.execute(conn);
      } finally {
        if (level > 1) await sql.raw(`pragma synchronous = ${level}`).execute(conn);
      }
    });
  }

  constructor(store: Store, clock: Clock) {
    if (!store.singleWriter) throw new Error('SqliteOutbox needs a SQLite store');
    super(store, clock);
  }
}
