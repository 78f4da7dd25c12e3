/**
 * Opens the configured store: an embedded SQLite file (default) or PostgreSQL. `pg` is
 * loaded only when PostgreSQL is configured.
 */
import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Pool } from 'pg';
import { redactUrl } from '../ops/index.ts';
import type { Dialect } from './dialect.ts';
import { instrumentLockWaits, lockStatsEnabled } from './lock-stats.ts';
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
  /**
   * Makes every commit made so far on this store durable without blocking the event loop:
   * SQLite fsyncs the WAL file on libuv's thread pool (concurrent callers share one fsync), so a
   * commit made with `synchronous = NORMAL` — which took the write lock only for its writes —
   * counts as one with `FULL` once this resolves (ADR 0019). PostgreSQL: nothing to do.
   */
  syncWal(): Promise<void>;
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
  if (lockStatsEnabled()) instrumentLockWaits(raw, file);
  return raw;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.pgSchema);
  const file = opts.sqliteFile ?? ':memory:';
  const raw = openSqlite(file);
  // Kysely prepares every query it runs; the wrapper reuses one statement per SQL text.
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'sqlite');
  } catch (e) {
    await db.destroy();
    if (raw.open) raw.close();
    throw e;
  }
  const wal = file === ':memory:' ? undefined : walSync(`${file}-wal`);
  return {
    dialect: 'sqlite',
    db,
    sqlite: raw,
    pg: undefined,
    singleWriter: true,
    location: file,
    syncWal: () => wal?.sync() ?? Promise.resolve(),
    async close() {
      await wal?.close();
      await db.destroy();
      if (raw.open) raw.close();
    },
  };
}

/**
 * fdatasync of a WAL file on the thread pool. A caller joins a sync that has not started yet (it
 * will cover the caller's commit) and otherwise queues the next one, so N concurrent callers cost
 * at most two fsyncs.
 */
function walSync(walFile: string): { sync(): Promise<void>; close(): Promise<void> } {
  let handle: Promise<FileHandle> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let next: Promise<void> | undefined;
  return {
    sync() {
      if (next) return next;
      const run = tail.then(async () => {
        next = undefined; // from here on, a new caller's commit may come after this fsync starts
        handle ??= open(walFile, 'r').catch((e: unknown) => {
          handle = undefined; // try again next time
          throw e;
        });
        await (await handle).datasync();
      });
      next = run;
      tail = run.catch(() => undefined);
      return run;
    },
    async close() {
      await tail;
      const h = handle;
      handle = undefined;
      await (await h?.catch(() => undefined))?.close();
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
    } catch (e) {
      // Processes starting together race here: IF NOT EXISTS is not atomic, and the loser gets a
      // unique violation on the catalogue (23505) or "schema exists" (42P06). The schema is there.
      const code = (e as { code?: unknown }).code;
      if (code !== '23505' && code !== '42P06') throw e;
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
  try {
    await migrateToLatest(db as Kysely<unknown>, 'postgres', schema?.replace(/"/g, ''));
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return {
    dialect: 'postgres',
    db,
    sqlite: undefined,
    pg: pool,
    singleWriter: false,
    location: redactUrl(url),
    syncWal: () => Promise.resolve(),
    async close() {
      await db.destroy();
    },
  };
}
