/** Migration 0029: product views with the delivery promise shown (`properties.promise_days`), folded by Learn. */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0029_learn_promise_views(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('learn_promise_views')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('customer_ref', 'text', (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('time_ms', int64(dialect), (c) => c.notNull())
        .addColumn('promise_days', 'real', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('learn_promise_views_time').on('learn_promise_views').column('time_ms').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('learn_promise_views').execute();
    },
  };
}
