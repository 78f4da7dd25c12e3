/**
 * The outbox on PostgreSQL. Many dispatchers may claim at once: the claim locks the rows it
 * picks with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take disjoint actions without
 * waiting, and the lease it writes (a future `ready_ms`) hides them until it expires.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Clock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { SqlOutbox } from './outbox-sql.ts';

export class PostgresOutbox extends SqlOutbox {
  protected readonly claimLock: RawBuilder<unknown> = sql`FOR UPDATE SKIP LOCKED`;

  protected completeStatement(json: string, nowMs: number): RawBuilder<unknown> {
    return sql`
      UPDATE outbox o SET status = 'done', lease_token = NULL, result = c.r, updated_ms = ${nowMs}, finished_ms = ${nowMs}
      FROM jsonb_to_recordset(${json}::jsonb) AS c(k text, t text, r text)
      WHERE o.key = c.k AND o.lease_token = c.t AND o.status = 'pending'`;
  }

  constructor(store: Store, clock: Clock) {
    if (store.singleWriter) throw new Error('PostgresOutbox needs a PostgreSQL store');
    super(store, clock);
  }
}
