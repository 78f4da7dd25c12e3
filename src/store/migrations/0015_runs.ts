/** Migration 0015: workflow runs, their traces and the cancelOn index (src/automate/runner). */
import { type Kysely, type Migration, sql } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0015_runs(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('workflow_version', 'integer', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('trigger_kind', 'text', (c) => c.notNull())
        .addColumn('trigger_event_ids', 'text', (c) => c.notNull())
        .addColumn('trigger_events', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('step_path', 'text')
        .addColumn('wake_ms', int64(dialect))
        .addColumn('wake_kind', 'text')
        .addColumn('actions', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('trace_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('outcome', 'text')
        .addColumn('started_ms', int64(dialect), (c) => c.notNull())
        .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
        .addColumn('ended_ms', int64(dialect))
        .execute();
      // Lists newest first: all runs, per workflow, per customer ("why did W act for C").
      await db.schema.createIndex('runs_started').on('runs').columns(['started_ms', 'id']).execute();
      await db.schema.createIndex('runs_workflow').on('runs').columns(['workflow_id', 'started_ms', 'id']).execute();
      await db.schema.createIndex('runs_customer').on('runs').columns(['customer_id', 'workflow_id', 'started_ms']).execute();
      await db.schema.createIndex('runs_status').on('runs').columns(['status', 'started_ms']).execute();

      const trace = db.schema
        .createTable('run_trace')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at_ms', int64(dialect), (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('step_path', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_trace_pk', ['run_id', 'seq']);
      await (dialect === 'sqlite' ? trace.modifyEnd(sql`without rowid`) : trace).execute();

      const cancelOn = db.schema
        .createTable('run_cancel_on')
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('any_customer', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_cancel_on_pk', ['event_type', 'run_id']);
      await (dialect === 'sqlite' ? cancelOn.modifyEnd(sql`without rowid`) : cancelOn).execute();
      await db.schema
        .createIndex('run_cancel_on_lookup')
        .on('run_cancel_on')
        .columns(['event_type', 'any_customer', 'customer_id'])
        .execute();
      await db.schema.createIndex('run_cancel_on_run').on('run_cancel_on').columns(['run_id']).execute();
    },
  };
}
