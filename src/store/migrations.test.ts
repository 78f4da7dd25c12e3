/**
 * The migration runner on both backends: a new store records every migration once, in name order;
 * an up-to-date store is left alone; stores opened together migrate once (PostgreSQL; the schema
 * is created once too); a failing migration
 * leaves nothing behind; a store missing its newest migration gets just that one.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { migrationsFor, runMigrations } from './migrations.ts';
import type { Store } from './store.ts';

describeEachBackend('migrations', (make) => {
  let backend: Backend;
  const open: Store[] = [];
  const track = (s: Store) => {
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await backend?.cleanup();
  });
  const recorded = async (db: Kysely<unknown>) =>
    (await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name`.execute(db)).rows;

  it('records every migration once, in name order, and leaves an up-to-date store alone', async () => {
    backend = make();
    const store = track(await backend.open());
    const names = Object.keys(migrationsFor(store.dialect)).sort();
    const first = await recorded(store.db as Kysely<unknown>);
    expect(first.map((r) => r.name)).toEqual(names);
    await store.close();
    open.pop();
    const again = track(await backend.reopen());
    expect(await recorded(again.db as Kysely<unknown>)).toEqual(first);
  });

  // PostgreSQL only: SQLite's driver is synchronous, so two stores on one file in one process would
  // wait on each other's BEGIN IMMEDIATE with the event loop blocked (processes queue on the lock).
  it('stores opened at the same moment migrate once', async ({ skip }) => {
    backend = make();
    if (backend.name === 'sqlite') skip();
    const stores = (await Promise.all([backend.open(), backend.reopen(), backend.reopen()])).map(track);
    const rows = await recorded(stores[0]?.db as Kysely<unknown>);
    expect(rows.map((r) => r.name)).toEqual(Object.keys(migrationsFor(stores[0]?.dialect ?? 'sqlite')).sort());
  });

  it('a failing migration rolls back the whole run and names itself', async () => {
    backend = make();
    const store = track(await backend.open());
    const db = store.db as Kysely<unknown>;
    const before = await recorded(db);
    const extra: Record<string, Migration> = {
      '9001_ok': { up: (q) => q.schema.createTable('probe_ok').addColumn('id', 'integer').execute() },
      '9002_bad': { up: (q) => sql`create table probe_bad (id integer, id integer)`.execute(q).then(() => undefined) },
    };
    await expect(runMigrations(db, store.dialect, { ...migrationsFor(store.dialect), ...extra })).rejects.toThrow(
      /^migration 9002_bad failed: /,
    );
    expect(await recorded(db)).toEqual(before);
    await expect(sql`select count(*) from probe_ok`.execute(db)).rejects.toThrow();
    // Fixed, the next start applies both.
    await runMigrations(db, store.dialect, {
      ...migrationsFor(store.dialect),
      ...extra,
      '9002_bad': { up: (q) => q.schema.createTable('probe_bad').addColumn('id', 'integer').execute() },
    });
    expect((await recorded(db)).map((r) => r.name).slice(-2)).toEqual(['9001_ok', '9002_bad']);
    expect((await sql<{ n: number }>`select count(*) as n from probe_bad`.execute(db)).rows[0]?.n).toBe(0);
  });

  it('refuses a store migrated by a newer version (a migration it does not know), naming it', async () => {
    backend = make();
    const store = track(await backend.open());
    await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2027-01-01T00:00:00.000Z')`.execute(
      store.db as Kysely<unknown>,
    );
    await store.close();
    open.pop();
    await expect(backend.reopen()).rejects.toThrow(/migrated by a newer Pitwall \(migration 9999_from_the_future is unknown/);
  });

  it('a store missing its newest migration gets just that one on reopen', async () => {
    backend = make();
    const store = track(await backend.open());
    const names = Object.keys(migrationsFor(store.dialect)).sort();
    const last = names.at(-1) as string;
    const db = store.db as Kysely<unknown>;
    const before = await recorded(db);
    await sql`drop table learn_promise_views`.execute(db);
    await sql`delete from kysely_migration where name = ${last}`.execute(db);
    await store.close();
    open.pop();
    const again = track(await backend.reopen());
    const after = await recorded(again.db as Kysely<unknown>);
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    expect(after.at(-1)?.name).toBe(last);
    expect(last).toBe('0029_learn_promise_views');
    await sql`select count(*) from learn_promise_views`.execute(again.db as Kysely<unknown>);
  });
});
