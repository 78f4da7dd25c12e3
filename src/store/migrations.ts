/**
 * Schema migrations, one shared definition for both dialects. The few spots that differ
 * (auto-increment, WITHOUT ROWID) come from `dialect.ts`.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import { type Dialect, int64 } from './dialect.ts';
import { m0005_catalog } from './migrations/0005_catalog.ts';
import { m0006_identity } from './migrations/0006_identity.ts';
import { m0007_shipments } from './migrations/0007_shipments.ts';
import { m0008_assets } from './migrations/0008_assets.ts';
import { m0009_quality } from './migrations/0009_quality.ts';
import { m0010_conditions } from './migrations/0010_conditions.ts';
import { m0011_devices } from './migrations/0011_devices.ts';
import { m0012_outbox } from './migrations/0012_outbox.ts';
import { m0013_secrets } from './migrations/0013_secrets.ts';
import { m0014_workflows } from './migrations/0014_workflows.ts';
import { m0015_runs } from './migrations/0015_runs.ts';
import { m0016_contact_policy } from './migrations/0016_contact_policy.ts';
import { m0017_decide_fixes } from './migrations/0017_decide_fixes.ts';
import { m0018_triggers } from './migrations/0018_triggers.ts';
import { m0020_storefront } from './migrations/0020_storefront.ts';
import { m0023_learn } from './migrations/0023_learn.ts';
import { m0027_dashboard_sessions } from './migrations/0027_dashboard_sessions.ts';
import { m0028_learn_refunds } from './migrations/0028_learn_refunds.ts';
import { m0029_learn_promise_views } from './migrations/0029_learn_promise_views.ts';

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_event_log': {
      async up(db: Kysely<unknown>) {
        // Append-only: the only index is the primary key, which grows at its end.
        await db.schema
          .createTable('events')
          .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => c.primaryKey())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('subject', 'text')
          .addColumn('time_ms', int64(dialect), (c) => c.notNull())
          .addColumn('received_ms', int64(dialect), (c) => c.notNull())
          .addColumn('history', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('body', 'text', (c) => c.notNull())
          .execute();
        // Dedupe keys keep (source, id) order, so time-ordered ids append at the end.
        const dedupe = db.schema
          .createTable('dedupe')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('seq', int64(dialect), (c) => c.notNull())
          .addPrimaryKeyConstraint('dedupe_pk', ['source', 'id']);
        await (dialect === 'sqlite' ? dedupe.modifyEnd(withoutRowid()) : dedupe).execute();
        await db.schema
          .createTable('consumer_positions')
          .addColumn('group_name', 'text', (c) => c.primaryKey())
          .addColumn('position', int64(dialect), (c) => c.notNull())
          .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
          .execute();
      },
    },
    '0002_quarantine_keys_devices_types': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('quarantine')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('received_ms', int64(dialect), (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('source', 'text')
          .addColumn('type', 'text')
          .addColumn('code', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('pointer', 'text')
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('context', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('replayed_seq', int64(dialect))
          .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
          .execute();
        await db.schema.createIndex('quarantine_status').on('quarantine').columns(['status', 'id']).execute();
        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('prefix', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('origins', 'text')
          .addColumn('created_ms', int64(dialect), (c) => c.notNull())
          .addColumn('revoked_ms', int64(dialect))
          .execute();
        await db.schema
          .createTable('devices')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_ms', int64(dialect), (c) => c.notNull())
          .addColumn('revoked_ms', int64(dialect))
          .execute();
        await db.schema
          .createTable('event_types')
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('schema', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('created_ms', int64(dialect), (c) => c.notNull())
          .addPrimaryKeyConstraint('event_types_pk', ['type', 'version'])
          .execute();
      },
    },
    '0003_timers': {
      async up(db: Kysely<unknown>) {
        // due_ms is the firing's identity (effects are keyed by key + due_ms); ready_ms is when
        // it may next be claimed (due, lease expiry or retry time), so a claim is one index range.
        const timers = db.schema
          .createTable('timers')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('due_ms', int64(dialect), (c) => c.notNull())
          .addColumn('ready_ms', int64(dialect), (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_token', 'text')
          .addColumn('last_error', 'text')
          .addColumn('updated_ms', int64(dialect), (c) => c.notNull());
        await (dialect === 'sqlite' ? timers.modifyEnd(withoutRowid()) : timers).execute();
        await db.schema.createIndex('timers_ready').on('timers').columns(['ready_ms']).execute();
      },
    },
    '0004_carts': {
      async up(db: Kysely<unknown>) {
        // The carts projection (src/state): one row per cart, folded from commerce events.
        await db.schema
          .createTable('carts')
          .addColumn('cart_id', 'text', (c) => c.primaryKey())
          .addColumn('customer', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('lines', 'text', (c) => c.notNull())
          .addColumn('value', 'double precision', (c) => c.notNull())
          .addColumn('currency', 'text')
          .addColumn('checkout_step', 'integer')
          .addColumn('last_activity_ms', int64(dialect), (c) => c.notNull())
          .addColumn('last_event_id', 'text')
          .addColumn('updated_seq', int64(dialect), (c) => c.notNull())
          .addColumn('order_id', 'text')
          .addColumn('abandoned_at_ms', int64(dialect))
          .execute();
        // "The customer's most recent open cart", for checkout/order events without a cart_id.
        await db.schema.createIndex('carts_customer').on('carts').columns(['customer', 'status', 'last_activity_ms']).execute();
        await db.schema.createIndex('carts_order').on('carts').columns(['order_id']).execute();
      },
    },
    // One file per module from here on (src/store/migrations/), so modules do not share an edit.
    '0005_catalog': m0005_catalog(dialect),
    '0006_identity': m0006_identity(dialect),
    '0007_shipments': m0007_shipments(dialect),
    '0008_assets': m0008_assets(dialect),
    '0009_quality': m0009_quality(dialect),
    '0010_conditions': m0010_conditions(dialect),
    '0011_devices': m0011_devices(dialect),
    '0012_outbox': m0012_outbox(dialect),
    '0013_secrets': m0013_secrets(dialect),
    '0014_workflows': m0014_workflows(dialect),
    '0015_runs': m0015_runs(dialect),
    '0016_contact_policy': m0016_contact_policy(dialect),
    '0017_decide_fixes': m0017_decide_fixes(dialect),
    '0018_triggers': m0018_triggers(dialect),
    '0020_storefront': m0020_storefront(dialect),
    '0023_learn': m0023_learn(dialect),
    '0027_dashboard_sessions': m0027_dashboard_sessions(dialect),
    '0028_learn_refunds': m0028_learn_refunds(dialect),
    '0029_learn_promise_views': m0029_learn_promise_views(dialect),
  };
}

function withoutRowid() {
  return sql`without rowid`;
}

/** Kysely's own bookkeeping table: stores migrated by Kysely's Migrator before carry on as they are. */
const TABLE = 'kysely_migration';
/** First key of the PostgreSQL advisory lock that serialises migrations (the second: the schema). */
const PG_LOCK = 0x5057; // "PW"

/**
 * Brings the schema up to date; throws with the failing migration's name. Every pending migration
 * runs in one transaction with its bookkeeping row, in name order, under a lock: SQLite's write
 * lock (`BEGIN IMMEDIATE`), or on PostgreSQL an advisory lock per schema, so processes starting
 * together migrate once. A store that is up to date costs one query and takes no lock.
 *
 * Not Kysely's Migrator: it introspects every table of every schema three times per start (about
 * 100 ms on PostgreSQL even with nothing to do), and a schema dropped meanwhile by someone else
 * failed that introspection. The table it keeps (`kysely_migration`) is the one used here.
 */
export function migrateToLatest(db: Kysely<unknown>, dialect: Dialect, schema?: string): Promise<void> {
  return runMigrations(db, dialect, migrationsFor(dialect), schema);
}

/** `migrateToLatest` with the migrations given (tests give failing ones). */
export async function runMigrations(db: Kysely<unknown>, dialect: Dialect, all: Record<string, Migration>, schema?: string): Promise<void> {
  const names = Object.keys(all).sort();
  const table = schema ? sql.id(schema, TABLE) : sql.id(TABLE);
  const applied = async (q: Kysely<unknown>): Promise<Set<string>> =>
    new Set((await sql<{ name: string }>`select name from ${table}`.execute(q)).rows.map((r) => r.name));
  const known = new Set(names);
  /** A store migrated by a newer Pitwall has migrations this one does not know: its schema is not ours to use. */
  const refuseNewer = (done: ReadonlySet<string>) => {
    const unknown = [...done].filter((n) => !known.has(n)).sort();
    if (unknown.length > 0)
      throw new Error(
        `this store was migrated by a newer Pitwall (migration ${unknown.join(', ')} is unknown to this version): run the newer version, or restore a backup made before it`,
      );
  };
  let done: Set<string> | undefined;
  try {
    done = await applied(db);
  } catch {
    // No bookkeeping table yet: a new store.
  }
  if (done) {
    refuseNewer(done);
    if (names.every((n) => done.has(n))) return;
  }
  await db.connection().execute(async (conn) => {
    await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    try {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_LOCK}, hashtext(${schema ?? 'public'}))`.execute(conn);
      await sql`create table if not exists ${table} (name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(
        conn,
      );
      const done = await applied(conn);
      refuseNewer(done);
      for (const name of names) {
        if (done.has(name)) continue;
        try {
          await all[name]?.up(conn);
        } catch (e) {
          throw new Error(`migration ${name} failed: ${(e as Error).message}`, { cause: e });
        }
        await sql`insert into ${table} (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(conn);
      }
      await sql.raw('commit').execute(conn);
    } catch (e) {
      await sql
        .raw('rollback')
        .execute(conn)
        .catch(() => undefined);
      throw e;
    }
  });
}
