/** Migration 0018: pending trigger halves, flow-control admissions and the concurrency queue (src/automate/runner). */
import { type Kysely, type Migration, sql } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0018_triggers(dialect: Dialect): Migration {
  const withoutRowid = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    dialect === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t;
  return {
    async up(db: Kysely<unknown>) {
      await withoutRowid(
        db.schema
          .createTable('trigger_pending')
          .addColumn('workflow_id', 'text', (c) => c.notNull())
          .addColumn('side', 'integer', (c) => c.notNull())
          .addColumn('key_value', 'text', (c) => c.notNull())
          .addColumn('event_source', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('at_ms', int64(dialect), (c) => c.notNull())
          .addColumn('expires_ms', int64(dialect), (c) => c.notNull())
          .addPrimaryKeyConstraint('trigger_pending_pk', ['workflow_id', 'side', 'key_value', 'event_source', 'event_id']),
      ).execute();
      await db.schema
        .createIndex('trigger_pending_event')
        .on('trigger_pending')
        .columns(['workflow_id', 'event_source', 'event_id'])
        .execute();
      await db.schema.createIndex('trigger_pending_expiry').on('trigger_pending').columns(['expires_ms']).execute();

      await withoutRowid(
        db.schema
          .createTable('trigger_flow')
          .addColumn('workflow_id', 'text', (c) => c.notNull())
          .addColumn('control', 'text', (c) => c.notNull())
          .addColumn('flow_key', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('at_ms', int64(dialect), (c) => c.notNull())
          .addPrimaryKeyConstraint('trigger_flow_pk', ['workflow_id', 'control', 'flow_key', 'run_id']),
      ).execute();
      await db.schema
        .createIndex('trigger_flow_window')
        .on('trigger_flow')
        .columns(['workflow_id', 'control', 'flow_key', 'at_ms'])
        .execute();

      await withoutRowid(
        db.schema
          .createTable('trigger_queue')
          .addColumn('workflow_id', 'text', (c) => c.notNull())
          .addColumn('flow_key', 'text', (c) => c.notNull())
          .addColumn('position', int64(dialect), (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('customer_id', 'text')
          .addColumn('match', 'text', (c) => c.notNull())
          .addColumn('at_ms', int64(dialect), (c) => c.notNull())
          .addPrimaryKeyConstraint('trigger_queue_pk', ['workflow_id', 'flow_key', 'run_id']),
      ).execute();
      await db.schema.createIndex('trigger_queue_order').on('trigger_queue').columns(['workflow_id', 'flow_key', 'position']).execute();
      await db.schema.createIndex('trigger_queue_customer').on('trigger_queue').columns(['workflow_id', 'customer_id']).execute();
    },
  };
}
