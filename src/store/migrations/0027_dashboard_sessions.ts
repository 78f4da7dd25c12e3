/** Migration 0027: dashboard sign-in sessions (src/govern/sessions.ts). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0027_dashboard_sessions(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('dashboard_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .addColumn('seen_ms', int64(dialect), (c) => c.notNull())
        .addColumn('expires_ms', int64(dialect), (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dashboard_sessions_expires').on('dashboard_sessions').column('expires_ms').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('dashboard_sessions').execute();
    },
  };
}
