/**
 * Opens the configured store: an embedded SQLite file (default) or PostgreSQL. `pg` is
 * loaded only when PostgreSQL is configured.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Pool } from 'pg';
import { redactUrl } from '../ops/index.ts';
import type { Dialect } from './dialect.ts';
import { migrateToLatest } from './migrations.ts';
import type { Database } from './schema.ts';
import { withStatementCache } from './statement-cache.ts';

export interface Store {
  dialect: Dialect;
  db: Kysely<Database>;
  /** The raw SQLite handle, for the event log's hot path. */
  sqlite: SqliteDatabase.Database | undefined;
  /** The raw PostgreSQL pool, for the event log's hot path. */
  pg: Pool | undefined;
  /** True when only one process may write (SQLite): the writer can keep state in memory. */
  singleWriter: boolean;
  /** Where the data lives, for humans. */
  location: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres:// URL; when absent the SQLite file is used. */
  databaseUrl?: string | undefined;
  /** SQLite file path, or ':memory:'. */
  sqliteFile?: string;
  /** PostgreSQL schema to use (created when missing); tests use one each. */
  pgSchema?: string;
}

export function sqliteFileIn(dataDir: string): string {
  return path.join(dataDir, 'pitwall.db');
}

export function openSqlite(file: string): SqliteDatabase.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const raw = new SqliteDatabase(file);
  raw.pragma('journal_mode = WAL');
  // Acknowledged means committed: every commit is fsynced.
  raw.pragma('synchronous = FULL');
  raw.pragma('busy_timeout = 10000');
  raw.pragma('cache_size = -131072');
  raw.pragma('foreign_keys = ON');
  return raw;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.pgSchema);
  const file = opts.sqliteFile ?? ':memory:';
  const raw = openSqlite(file);
  // Kysely prepares every query it runs; the wrapper reuses one statement per SQL text.
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  await migrateToLatest(db as Kysely<unknown>, 'sqlite');
  return {
    dialect: 'sqlite',
    db,
    sqlite: raw,
    pg: undefined,
    singleWriter: true,
    location: file,
    async close() {
      await db.destroy();
      if (raw.open) raw.close();
    },
  };
}

async function openPostgres(url: string, schema: string | undefined): Promise<Store> {
  const pg = await import('pg');
  const { PostgresDialect } = await import('kysely');
  // BIGINT comes back as a JS number: sequence numbers and epoch ms fit in 2^53.
  pg.default.types.setTypeParser(20, (v: string) => Number(v));
  if (schema) {
    const admin = new pg.default.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '')}"`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.default.Pool({
    connectionString: url,
    max: 10,
    ...(schema ? { options: `-c search_path="${schema.replace(/"/g, '')}"` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db as Kysely<unknown>, 'postgres', schema?.replace(/"/g, ''));
  return {
    dialect: 'postgres',
    db,
    sqlite: undefined,
    pg: pool,
    singleWriter: false,
    location: redactUrl(url),
    async close() {
      await db.destroy();
    },
  };
}
