/**
 * Runs a suite against every storage backend: SQLite always, PostgreSQL when reachable.
 * Outside CI an unreachable PostgreSQL skips with a printed reason; with CI=true it fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import { openStore, type Store } from '../../src/store/index.ts';

export const PG_URL = process.env.PITWALL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(url: string): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const pgProblem = await reachable(PG_URL);
if (pgProblem && process.env.CI !== 'true') {
  console.warn(`[tests] PostgreSQL at ${PG_URL} unreachable (${pgProblem}): PostgreSQL suites skipped`);
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty, migrated store. */
  open(): Promise<Store>;
  /** Reopens the same database (a restart). */
  reopen(): Promise<Store>;
  /** Removes everything the backend created. */
  cleanup(): Promise<void>;
}

export function sqliteBackend(): Backend {
  let dir: string | undefined;
  return {
    name: 'sqlite',
    async open() {
      dir = mkdtempSync(path.join(tmpdir(), 'pitwall-test-'));
      return openStore({ sqliteFile: path.join(dir, 'pitwall.db') });
    },
    async reopen() {
      if (!dir) throw new Error('open first');
      return openStore({ sqliteFile: path.join(dir, 'pitwall.db') });
    },
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): Backend {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    name: 'postgres',
    open: () => openStore({ databaseUrl: PG_URL, pgSchema: schema }),
    reopen: () => openStore({ databaseUrl: PG_URL, pgSchema: schema }),
    async cleanup() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}

/** `describe` once per backend; the callback gets a factory for a fresh backend. */
export function describeEachBackend(title: string, fn: (make: () => Backend) => void): void {
  describe(`${title} [sqlite]`, () => fn(sqliteBackend));
  if (pgProblem && process.env.CI === 'true') {
    describe(`${title} [postgres]`, () => {
      throw new Error(`PostgreSQL required in CI but unreachable at ${PG_URL}: ${pgProblem}`);
    });
  } else {
    describe.skipIf(pgProblem !== undefined)(`${title} [postgres]`, () => fn(postgresBackend));
  }
}

/** Inserts generated rows into `table` in chunks of 250 (PostgreSQL caps a statement's parameters). */
export async function insertRows(store: Store, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 250)
    await store.db
      .insertInto(table as never)
      .values(rows.slice(i, i + 250) as never)
      .execute();
}
