/** Migration 0016: the contact policy (contacts made, suppressions) and holdout assignments (src/automate). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0016_contact_policy(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // One row per action that reached a customer, keyed by the action's idempotency key.
      await db.schema
        .createTable('contact_log')
        .addColumn('action_key', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('at_ms', int64(dialect), (c) => c.notNull())
        .execute();
      // Frequency caps: "this customer's contacts since t" is one index range per id.
      await db.schema.createIndex('contact_log_customer').on('contact_log').columns(['customer_id', 'at_ms']).execute();
      await db.schema
        .createTable('suppressions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('until_ms', int64(dialect))
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema.createIndex('suppressions_value').on('suppressions').columns(['value', 'kind']).execute();
      await db.schema.createIndex('suppressions_created').on('suppressions').columns(['created_ms', 'id']).execute();
      await db.schema
        .createTable('holdout_assignments')
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('grp', 'text', (c) => c.notNull())
        .addColumn('bucket', 'integer', (c) => c.notNull())
        .addColumn('percent', 'double precision', (c) => c.notNull())
        .addColumn('via_customer_id', 'text')
        .addColumn('assigned_ms', int64(dialect), (c) => c.notNull())
        .addPrimaryKeyConstraint('holdout_assignments_pk', ['workflow_id', 'customer_id'])
        .execute();
    },
  };
}
