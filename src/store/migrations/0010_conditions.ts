/** Migration 0010: conditions (src/detect/conditions.ts) — detector firings with a lifecycle. */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0010_conditions(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('conditions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('raised_ms', int64(dialect), (c) => c.notNull())
        .addColumn('raised_event_id', 'text', (c) => c.notNull())
        .addColumn('last_raised_ms', int64(dialect), (c) => c.notNull())
        .addColumn('raise_count', 'integer', (c) => c.notNull())
        .addColumn('acknowledged_ms', int64(dialect))
        .addColumn('acknowledged_by', 'text')
        .addColumn('note', 'text')
        .addColumn('cleared_ms', int64(dialect))
        .addColumn('cleared_event_id', 'text')
        .addColumn('updated_seq', int64(dialect), (c) => c.notNull())
        .execute();
      // "The open condition of this kind for this key" and lists by status.
      await db.schema.createIndex('conditions_kind_key').on('conditions').columns(['kind', 'key', 'status']).execute();
      await db.schema.createIndex('conditions_status').on('conditions').columns(['status', 'raised_ms']).execute();
    },
  };
}
