/** Migration 0009_quality: the latest data-quality verdict and monitor state per source (src/quality). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0009_quality(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Written by the quality module as it folds readings; read by the gate and GET /v1/quality,
      // so any process (not only the one running the monitor) can answer "is this source trusted?".
      await db.schema
        .createTable('quality_sources')
        .addColumn('source', 'text', (c) => c.primaryKey())
        .addColumn('score', 'integer', (c) => c.notNull())
        .addColumn('trusted', 'integer', (c) => c.notNull())
        .addColumn('degraded', 'integer', (c) => c.notNull())
        .addColumn('flags', 'text', (c) => c.notNull())
        .addColumn('last_received_ms', int64(dialect))
        .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('updated_seq', int64(dialect), (c) => c.notNull().defaultTo(0))
        .addColumn('stale_at_ms', int64(dialect))
        .addColumn('last_event_id', 'text')
        .addColumn('pending', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('has_pending', int64(dialect), (c) => c.notNull().defaultTo(0))
        .execute();
      // The stale timer's "which sources are due, and when is the next one".
      await db.schema.createIndex('quality_sources_stale_at').on('quality_sources').columns(['stale_at_ms']).execute();
      // The detector's "which transitions still wait to be emitted".
      await db.schema.createIndex('quality_sources_pending').on('quality_sources').columns(['has_pending']).execute();
      // GET /v1/quality?trusted=false, in source order.
      await db.schema.createIndex('quality_sources_trusted').on('quality_sources').columns(['trusted', 'source']).execute();
      await db.schema
        .createTable('quality_cursors')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
