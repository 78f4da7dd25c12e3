/** Migration 0006_identity: customers and the identity graph (src/state/identity). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0006_identity(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('identity_ids')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('is_user', 'integer', (c) => c.notNull())
        .addColumn('first_seen_ms', int64(dialect), (c) => c.notNull())
        .addColumn('last_seen_ms', int64(dialect), (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .execute();
      // A customer's ids (profiles, merges) and the customer list.
      await db.schema.createIndex('identity_ids_customer').on('identity_ids').columns(['customer_id']).execute();

      await db.schema
        .createTable('identity_links')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('first_ms', int64(dialect), (c) => c.notNull())
        .addColumn('last_ms', int64(dialect), (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_links_pk', ['id', 'kind', 'value'])
        .execute();
      // "Whose is this VIN / device / serial / order / email hash".
      await db.schema.createIndex('identity_links_value').on('identity_links').columns(['kind', 'value']).execute();

      await db.schema
        .createTable('identity_traits')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('at_ms', int64(dialect), (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_traits_pk', ['id', 'name'])
        .execute();

      await db.schema
        .createTable('identity_consent')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        .addColumn('at_ms', int64(dialect), (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_consent_pk', ['id', 'purpose'])
        .execute();
    },
  };
}
