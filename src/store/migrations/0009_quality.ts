/** Migration 0009_quality: the latest data-quality verdict per source (src/quality). */
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
        .execute();
    },
  };
}
