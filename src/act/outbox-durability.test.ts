/**
 * The SQLite outbox's durability (ADR 0019): a claim counts only once the WAL is synced — off the
 * event loop, after the write lock is released — and completions need no sync of their own.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { type ActionRequest, openOutbox } from './index.ts';

describe('SQLite outbox durability', () => {
  const backend = sqliteBackend();
  const clock = new FakeClock(Date.parse('2026-03-02T10:00:00Z'));
  let store: Store;
  let syncs = 0;
  let synced: Promise<void> = Promise.resolve();

  beforeEach(async () => {
    store = await backend.open();
    syncs = 0;
    synced = Promise.resolve();
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  /** The store with its WAL sync counted and held back by `synced`. */
  const watched = (): Store => ({
    ...store,
    syncWal: () => {
      syncs++;
      return synced;
    },
  });

  const request = (n: number): ActionRequest => ({
    key: `key-${n}`,
    runId: `run-${n}`,
    workflowId: 'flow',
    workflowVersion: 1,
    stepPath: 'steps.0',
    type: 'webhook.send',
    params: { n },
    createdAtMs: clock.now(),
  });
  const settled = () => new Promise((resolve) => setImmediate(() => resolve('pending')));
  const level = () => store.sqlite?.pragma('synchronous', { simple: true });

  it('hands out a claim only after the WAL sync, with the claim already committed and the lock free', async () => {
    const outbox = openOutbox(watched(), clock);
    await outbox.enqueue(store.db, [request(1), request(2)]);
    let sync = () => undefined as unknown;
    synced = new Promise<void>((resolve) => {
      sync = resolve;
    });
    const claiming = outbox.claimDue(10, 60_000);
    expect(await Promise.race([claiming, settled()])).toBe('pending');
    expect(syncs).toBe(1);
    // Committed before the sync (a second claim finds nothing ready), and the connection is free.
    expect((await outbox.get('key-1'))?.attempts).toBe(1);
    sync();
    expect((await claiming).map((c) => c.key)).toEqual(['key-1', 'key-2']);
    expect(level()).toBe(2); // synchronous = FULL again for everyone else on the connection
  });

  it('completes a round without a WAL sync of its own', async () => {
    const outbox = openOutbox(watched(), clock);
    await outbox.enqueue(store.db, [request(1), request(2)]);
    const claimed = await outbox.claimDue(10, 60_000);
    expect(syncs).toBe(1);
    const n = await outbox.completeMany(claimed.map((c) => ({ key: c.key, token: c.token, result: { detail: { sent: true } } })));
    expect(n).toBe(2);
    expect(syncs).toBe(1);
    expect((await outbox.counts()).done).toBe(2);
    expect(level()).toBe(2);
  });

  it('fails the claim when the WAL cannot be synced, leaving the actions to be claimed again after the lease', async () => {
    const outbox = openOutbox(watched(), clock);
    await outbox.enqueue(store.db, [request(1)]);
    synced = Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await expect(outbox.claimDue(10, 60_000)).rejects.toThrow(/fdatasync/);
    synced = Promise.resolve();
    clock.advance(60_001);
    expect((await outbox.claimDue(10, 60_000)).map((c) => [c.key, c.attempts])).toEqual([['key-1', 2]]);
  });

  it('syncs the real WAL file, sharing one fsync among concurrent callers', async () => {
    await Promise.all([store.syncWal(), store.syncWal(), store.syncWal()]);
    const outbox = openOutbox(store, clock);
    await outbox.enqueue(store.db, [request(1)]);
    expect(await outbox.claimDue(10, 60_000)).toHaveLength(1);
  });
});
