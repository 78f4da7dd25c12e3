/** Migration 0020: the storefront (src/storefront): survey definitions, shown surveys, responses, a signing secret, the store of a publishable key. */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0020_storefront(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Publishable keys name the store they serve (api_keys.origins already holds their origins).
      await db.schema.alterTable('api_keys').addColumn('store', 'text').execute();
      await db.schema
        .createTable('surveys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
        .execute();
      // One row per token the widget reported showing; `dismissed_ms` when closed without an answer.
      await db.schema
        .createTable('survey_impressions')
        .addColumn('token_id', 'text', (c) => c.primaryKey())
        .addColumn('survey_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('placement', 'text', (c) => c.notNull())
        .addColumn('shown_ms', int64(dialect), (c) => c.notNull())
        .addColumn('dismissed_ms', int64(dialect))
        .execute();
      await db.schema.createIndex('survey_impressions_survey').on('survey_impressions').columns(['survey_id', 'shown_ms']).execute();
      // The response table is the index the results read; the event in the log is the record.
      await db.schema
        .createTable('survey_responses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('survey_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('customer_id', 'text')
        .addColumn('cart_id', 'text')
        .addColumn('order_id', 'text')
        .addColumn('placement', 'text', (c) => c.notNull())
        .addColumn('answers', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .execute();
      await db.schema.createIndex('survey_responses_survey').on('survey_responses').columns(['survey_id', 'created_ms']).execute();
      await db.schema
        .createTable('storefront_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .execute();
    },
  };
}
