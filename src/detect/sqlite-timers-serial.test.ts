/**
 * SQLite: the timer store shares its connection with Kysely. A timer scheduled while a
 * projection's write transaction is open (across awaits) must not join that transaction: when
 * the batch rolls back, the timer is still there.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, sqliteBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { openTimerStore, writeTransaction } from './index.ts';

describe('SQLite timers and an open write transaction', () => {
  let backend: Backend;
  let store: Store;
  beforeEach(async () => {
    backend = sqliteBackend();
    store = await backend.open();
  });
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('a timer scheduled during a batch that rolls back survives', async () => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const timers = openTimerStore(store, clock);
    let scheduled: Promise<void> | undefined;
    const batch = writeTransaction(store, async (db) => {
      await db.insertInto('consumer_positions').values({ group_name: 'g', position: 1, updated_ms: 0 }).execute();
      scheduled = timers.schedule('t:1', clock.now() + 1000, { a: 1 });
      await new Promise((r) => setImmediate(r)); // the transaction stays open across an await
      throw new Error('projection failed');
    });
    await expect(batch).rejects.toThrow('projection failed');
    await scheduled;
    expect((await timers.get('t:1'))?.payload).toEqual({ a: 1 });
    expect(await store.db.selectFrom('consumer_positions').selectAll().execute()).toEqual([]);
  });
});
