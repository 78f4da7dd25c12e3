/**
 * SQLite: writes that a later fsynced commit always covers (the state consumer's batch, timer
 * claims and completions) commit with `synchronous = NORMAL` for that transaction only (ADR
 * 0010). The connection keeps `FULL` for everything else, and the data commits either way.
 */
import type SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, sqliteBackend } from '../../test/support/backends.ts';
import { type Clock, FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { openTimerStore, TimerRunner, writeTransaction } from './index.ts';

const FULL = 2;
const NORMAL = 1;
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('deferred sync on SQLite', () => {
  let backend: Backend;
  let store: Store;
  let raw: SqliteDatabase.Database;
  const level = () => raw.pragma('synchronous', { simple: true }) as number;

  beforeEach(async () => {
    backend = sqliteBackend();
    store = await backend.open();
    raw = store.sqlite as SqliteDatabase.Database;
  });
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('a deferSync transaction runs at NORMAL, commits, and leaves the connection at FULL', async () => {
    expect(level()).toBe(FULL);
    const inside = await writeTransaction(
      store,
      async (db) => {
        await db.insertInto('consumer_positions').values({ group_name: 'g', position: 7, updated_ms: 0 }).execute();
        return level();
      },
      { deferSync: true },
    );
    expect(inside).toBe(NORMAL);
    expect(level()).toBe(FULL);
    expect(await store.db.selectFrom('consumer_positions').select('position').execute()).toEqual([{ position: 7 }]);
  });

  it('restores FULL after a deferSync transaction that rolls back', async () => {
    const failed = writeTransaction(
      store,
      async (db) => {
        await db.insertInto('consumer_positions').values({ group_name: 'g', position: 7, updated_ms: 0 }).execute();
        throw new Error('projection failed');
      },
      { deferSync: true },
    );
    await expect(failed).rejects.toThrow('projection failed');
    expect(level()).toBe(FULL);
    expect(await store.db.selectFrom('consumer_positions').selectAll().execute()).toEqual([]);
  });

  it('a plain write transaction stays at FULL', async () => {
    expect(await writeTransaction(store, async () => level())).toBe(FULL);
  });

  it('timer writes: a deferSync schedule runs at NORMAL, a plain one at FULL; claims and completions leave FULL behind', async () => {
    // The clock is read inside each store transaction: it records the level the write ran at.
    const fake = new FakeClock(T0);
    const seen: number[] = [];
    const clock: Clock = {
      now: () => {
        seen.push(level());
        return fake.now();
      },
    };
    const timers = openTimerStore(store, clock);
    const at = (fn: () => Promise<unknown>) => async () => {
      seen.length = 0;
      await fn();
      return [...seen];
    };
    expect(await at(() => timers.scheduleMany([{ key: 'a', dueAt: T0 + 1000, payload: {} }], { deferSync: true }))()).toEqual([NORMAL]);
    expect(await at(() => timers.scheduleMany([{ key: 'b', dueAt: T0 + 1000, payload: {} }]))()).toEqual([FULL]);
    expect(level()).toBe(FULL);
    fake.advance(1000);
    const fired: string[] = [];
    const runner = new TimerRunner(timers, clock, async (t) => {
      fired.push(t.key);
    });
    const r = await runner.tick();
    expect(r).toMatchObject({ claimed: 2, completed: 2 });
    expect(fired.sort()).toEqual(['a', 'b']);
    expect(await timers.count()).toBe(0);
    expect(level()).toBe(FULL);
  });
});
