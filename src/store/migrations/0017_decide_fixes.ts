/**
 * Migration 0017: Decide correctness fixes — duplicate counts from ingest for the quality monitor,
 * terminal clears of conditions, and the "rebuild in progress" marker of `pitwall state rebuild`.
 */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0017_decide_fixes(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Duplicates the log dropped, counted per (minute, source, device, type) by ingest
      // with one upsert per request that had any; the quality module reads closed minutes.
      await db.schema
        .createTable('ingest_duplicates')
        .addColumn('minute_ms', int64(dialect), (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('device', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('count', int64(dialect), (c) => c.notNull())
        .addPrimaryKeyConstraint('ingest_duplicates_pk', ['minute_ms', 'source', 'device', 'type'])
        .execute();
      // A terminal clear (a shipment delivered, returned, cancelled) per (kind, key): later raises
      // for the key are ignored. Part of the conditions projection (emptied by a rebuild).
      await db.schema
        .createTable('condition_terminals')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('cleared_ms', int64(dialect), (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('updated_seq', int64(dialect), (c) => c.notNull())
        .addPrimaryKeyConstraint('condition_terminals_pk', ['kind', 'key'])
        .execute();
      // Set in the transaction that empties the projections, removed when the rebuild completes:
      // while a row is here the projections are behind group `state`'s position.
      await db.schema
        .createTable('state_rebuild')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('started_ms', int64(dialect), (c) => c.notNull())
        .execute();
    },
  };
}
