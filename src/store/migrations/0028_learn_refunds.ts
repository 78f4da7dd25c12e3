/** Migration 0028: refunded orders, folded by Learn from `commerce.order_refunded` (src/learn/fold.ts). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0028_learn_refunds(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('learn_refunds')
        .addColumn('order_id', 'text', (c) => c.primaryKey())
        .addColumn('time_ms', int64(dialect), (c) => c.notNull())
        .addColumn('amount', 'real')
        .addColumn('lines', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('learn_refunds').execute();
    },
  };
}
