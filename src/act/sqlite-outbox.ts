/**
 * The outbox on SQLite. One writer at a time: the claim is a single `UPDATE … WHERE key IN
 * (SELECT … LIMIT n) RETURNING *`, which takes the write lock before it reads, so a second
 * process on the same file waits for it (busy_timeout) instead of claiming the same rows.
 */
import { type RawBuilder, sql } from 'kysely';
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

  constructor(store: Store, clock: Clock) {
    if (!store.singleWriter) throw new Error('SqliteOutbox needs a SQLite store');
    super(store, clock);
  }
}
