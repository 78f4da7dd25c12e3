/**
 * Kysely's SQLite driver prepares every query it runs (`db.prepare(sql)` per call): ≈ 40 µs
 * each here, 8 % of the Decide fold's CPU. This wraps the better-sqlite3 handle handed to
 * Kysely so a statement is prepared once per SQL text and reused (least recently used evicted).
 * Safe because Kysely only calls `reader`, `all`, `run` and `iterate` (no sticky modes such as
 * `pluck` or `raw`); a statement still iterating (`streamQuery`) is `busy`, and then a fresh one
 * is prepared instead. Only Kysely's queries go through it; the raw handle is unchanged.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely';

export function withStatementCache(raw: SqliteDatabase.Database, max = 500): KyselySqliteDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit !== undefined) {
        if (hit.busy) return raw.prepare(sql) as unknown as SqliteStatement;
        // Map order is insertion order: re-inserting makes it the most recently used.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit as unknown as SqliteStatement;
      }
      const st = raw.prepare(sql);
      cache.set(sql, st);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
      return st as unknown as SqliteStatement;
    },
    close(): void {
      cache.clear();
      raw.close();
    },
  };
}
