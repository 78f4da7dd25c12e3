/** The prepared-statement cache Kysely's SQLite queries go through (statement-cache.ts). */
import SqliteDatabase from 'better-sqlite3';
import { type Generated, Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './statement-cache.ts';

describe('withStatementCache', () => {
  let raw: SqliteDatabase.Database;
  let prepared: string[];
  beforeEach(() => {
    raw = new SqliteDatabase(':memory:');
    raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    prepared = [];
    const prepare = raw.prepare.bind(raw);
    // Counts real prepares (the cache's misses).
    raw.prepare = ((source: string) => {
      prepared.push(source);
      return prepare(source);
    }) as typeof raw.prepare;
  });
  afterEach(() => {
    if (raw.open) raw.close();
  });

  it('prepares each SQL text once and gives the same statement back', () => {
    const db = withStatementCache(raw);
    const a = db.prepare('SELECT v FROM t WHERE id = ?');
    const b = db.prepare('SELECT v FROM t WHERE id = ?');
    expect(b).toBe(a);
    expect(prepared).toEqual(['SELECT v FROM t WHERE id = ?']);
  });

  it('evicts the least recently used statement beyond its size', () => {
    const db = withStatementCache(raw, 2);
    db.prepare('SELECT 1');
    db.prepare('SELECT 2');
    db.prepare('SELECT 1'); // now the most recent
    db.prepare('SELECT 3'); // evicts SELECT 2
    db.prepare('SELECT 1');
    db.prepare('SELECT 2');
    expect(prepared).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 2']);
  });

  it('prepares a fresh statement while the cached one is still iterating', () => {
    raw.exec("INSERT INTO t (v) VALUES ('a'), ('b')");
    const db = withStatementCache(raw);
    const first = db.prepare('SELECT v FROM t ORDER BY id');
    const it = first.iterate([]);
    expect(it.next().value).toEqual({ v: 'a' });
    const second = db.prepare('SELECT v FROM t ORDER BY id');
    expect(second).not.toBe(first);
    expect(second.all([])).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(it.next().value).toEqual({ v: 'b' });
    expect(it.next().done).toBe(true);
  });

  it('gives Kysely the same results as before, with each query prepared once', async () => {
    const db = new Kysely<{ t: { id: Generated<number>; v: string } }>({
      dialect: new SqliteDialect({ database: withStatementCache(raw) }),
    });
    for (const v of ['a', 'b', 'c']) await db.insertInto('t').values({ v }).execute();
    const read = (id: number) => db.selectFrom('t').select('v').where('id', '=', id).executeTakeFirst();
    expect(await read(1)).toEqual({ v: 'a' });
    expect(await read(3)).toEqual({ v: 'c' });
    expect(await read(9)).toBeUndefined();
    const r = await db.updateTable('t').set({ v: 'z' }).where('id', '>=', 2).executeTakeFirst();
    expect(Number(r.numUpdatedRows)).toBe(2);
    expect((await sql<{ n: number }>`select count(*) as n from t where v = 'z'`.execute(db)).rows).toEqual([{ n: 2 }]);
    expect(prepared.filter((s) => s.startsWith('select "v"'))).toHaveLength(1);
    expect(prepared.filter((s) => s.startsWith('insert'))).toHaveLength(1);
    await db.destroy();
    expect(raw.open).toBe(false);
  });
});
