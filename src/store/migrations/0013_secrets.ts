/** Migration 0013_secrets: named secrets and disabled webhook endpoints (src/act). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0013_secrets(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const i64 = int64(dialect);
      await db.schema
        .createTable('secrets')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_ms', i64, (c) => c.notNull())
        .addPrimaryKeyConstraint('secrets_pk', ['name', 'version'])
        .execute();
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('url', 'text', (c) => c.primaryKey())
        .addColumn('disabled_ms', i64, (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
