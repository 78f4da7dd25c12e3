/** Migration 0012_outbox: the action outbox and storefront directives (src/act). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0012_outbox(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const i64 = int64(dialect);
      await db.schema
        .createTable('outbox')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('workflow_version', 'integer', (c) => c.notNull())
        .addColumn('step_path', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('subject', 'text')
        .addColumn('created_ms', i64, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('ready_ms', i64, (c) => c.notNull())
        .addColumn('lease_token', 'text')
        .addColumn('last_error', 'text')
        .addColumn('result', 'text')
        .addColumn('updated_ms', i64, (c) => c.notNull())
        .addColumn('finished_ms', i64)
        .execute();
      // A claim is one range: pending rows whose ready_ms has come (leased rows have a future ready_ms).
      await db.schema.createIndex('outbox_claim').on('outbox').columns(['status', 'ready_ms']).execute();
      // Lists: newest first, per status and per workflow; a run's actions.
      await db.schema.createIndex('outbox_status_created').on('outbox').columns(['status', 'created_ms', 'key']).execute();
      await db.schema.createIndex('outbox_workflow_created').on('outbox').columns(['workflow_id', 'created_ms', 'key']).execute();
      await db.schema.createIndex('outbox_run').on('outbox').columns(['run_id']).execute();

      await db.schema
        .createTable('directives')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('cart_id', 'text')
        .addColumn('sku', 'text')
        .addColumn('region', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('expires_ms', i64, (c) => c.notNull())
        .addColumn('created_ms', i64, (c) => c.notNull())
        .addColumn('consumed_ms', i64)
        .execute();
      // The decision API looks directives up by each scope it knows.
      for (const col of ['customer_id', 'cart_id', 'sku', 'region'] as const)
        await db.schema.createIndex(`directives_${col}`).on('directives').columns([col, 'expires_ms']).execute();
    },
  };
}
