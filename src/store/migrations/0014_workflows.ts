/** Migration 0014: workflow definitions (src/automate/definitions) — every save a new version. */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0014_workflows(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // The primary key (id, version) also serves "the latest version of id" and "all versions of id".
      await db.schema
        .createTable('workflows')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('yaml', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('file_path', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addPrimaryKeyConstraint('workflows_pk', ['id', 'version'])
        .execute();
    },
  };
}
