import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { type ClaimedTimer, firingId, openTimerStore, TimerRunner, type TimerStore } from './index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const LEASE = 30_000;

describeEachBackend('timer store contract', (make) => {
  let backend: Backend;
  let store: Store;
  let timers: TimerStore;
  let clock: FakeClock;
  const others: Store[] = [];

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock();
    timers = openTimerStore(store, clock);
  });
  afterEach(async () => {
    for (const s of others.splice(0)) await s.close();
    await store?.close();
    await backend?.cleanup();
  });

  /** Closes the store and opens the same database again: a process restart. */
  const restart = async () => {
    await store.close();
    store = await backend.reopen();
    timers = openTimerStore(store, clock);
  };

  /** A second process's timer store on the same database. */
  const second = async (): Promise<TimerStore> => {
    const s = await backend.reopen();
    others.push(s);
    return openTimerStore(s, clock);
  };

  /** Fires everything due now, completing each; returns the keys fired. */
  const drain = async (t = timers): Promise<string[]> => {
    const fired: string[] = [];
    for (;;) {
      const got = await t.claimDue(50, LEASE);
      if (got.length === 0) return fired;
      for (const c of got) {
        expect(await t.complete(c.key, c.token)).toBe(true);
        fired.push(c.key);
      }
    }
  };

  it('claims a due timer with its payload, and completing it deletes it', async () => {
    const due = clock.now() + 5 * MIN;
    await timers.schedule('cart.abandoned:cart-1', due, { cart_id: 'cart-1', value: 318.8, tags: ['a', null], note: 'zündkerze' });
    expect(await timers.count()).toBe(1);
    expect(await timers.nextDueAt()).toBe(due);
    clock.set(due);
    const [c, ...rest] = await timers.claimDue(10, LEASE);
    expect(rest).toEqual([]);
    expect(c).toMatchObject({
      key: 'cart.abandoned:cart-1',
      dueAt: due,
      attempts: 1,
      payload: { cart_id: 'cart-1', value: 318.8, tags: ['a', null], note: 'zündkerze' },
    });
    expect(await timers.get('cart.abandoned:cart-1')).toMatchObject({ leasedUntil: due + LEASE, attempts: 1 });
    expect(await timers.complete(c?.key ?? '', c?.token ?? '')).toBe(true);
    expect(await timers.complete(c?.key ?? '', c?.token ?? '')).toBe(false);
    expect(await timers.get('cart.abandoned:cart-1')).toBeUndefined();
    expect(await timers.count()).toBe(0);
    expect(await timers.nextDueAt()).toBeUndefined();
  });

  it('does not claim a timer a millisecond before it is due', async () => {
    const due = clock.now() + 10_000;
    await timers.schedule('k', due, null);
    clock.set(due - 1);
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
    clock.set(due);
    expect((await timers.claimDue(10, LEASE)).map((c) => c.key)).toEqual(['k']);
  });

  it('fires timers days ahead when the clock jumps, earliest first and at most `limit` per claim', async () => {
    const t0 = clock.now();
    await timers.scheduleMany([
      { key: 'in-3-days', dueAt: t0 + 3 * DAY, payload: 3 },
      { key: 'in-1-day', dueAt: t0 + DAY, payload: 1 },
      { key: 'in-2-days', dueAt: t0 + 2 * DAY, payload: 2 },
      { key: 'in-30-days', dueAt: t0 + 30 * DAY, payload: 30 },
    ]);
    clock.advance(DAY - 1);
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
    clock.advance(3 * DAY);
    const first = await timers.claimDue(2, LEASE);
    expect(first.map((c) => c.key)).toEqual(['in-1-day', 'in-2-days']);
    expect((await timers.claimDue(10, LEASE)).map((c) => c.key)).toEqual(['in-3-days']);
    expect(await timers.nextDueAt()).toBe(t0 + DAY - 1 + 3 * DAY + LEASE);
    clock.advance(27 * DAY);
    expect((await timers.claimDue(10, LEASE)).map((c) => [c.key, c.attempts])).toEqual([
      ['in-1-day', 2],
      ['in-2-days', 2],
      ['in-3-days', 2],
      ['in-30-days', 1],
    ]);
  });

  it('resets on activity: scheduling a key again pushes it out and replaces its payload', async () => {
    await timers.schedule('cart.abandoned:c', clock.now() + 30 * MIN, { v: 1 });
    clock.advance(20 * MIN);
    await timers.schedule('cart.abandoned:c', clock.now() + 30 * MIN, { v: 2 });
    expect(await timers.count()).toBe(1);
    clock.advance(15 * MIN); // past the first due time
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
    clock.advance(15 * MIN);
    const got = await timers.claimDue(10, LEASE);
    expect(got.map((c) => [c.payload, c.attempts])).toEqual([[{ v: 2 }, 1]]);
  });

  it('keeps the last entry when one batch schedules a key twice', async () => {
    await timers.scheduleMany([
      { key: 'a', dueAt: clock.now() + 1, payload: 'first' },
      { key: 'b', dueAt: clock.now() + 1, payload: 'b' },
      { key: 'a', dueAt: clock.now() + 2, payload: 'second' },
    ]);
    expect(await timers.get('a')).toMatchObject({ dueAt: clock.now() + 2, payload: 'second', attempts: 0, leasedUntil: undefined });
    expect(await timers.count()).toBe(2);
  });

  it('cancels a timer so it never fires, and reports a missing one', async () => {
    await timers.schedule('k', clock.now() + MIN, null);
    expect(await timers.cancel('k')).toBe(true);
    expect(await timers.cancel('k')).toBe(false);
    expect(await timers.reschedule('k', clock.now())).toBe(false);
    clock.advance(DAY);
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
  });

  it('re-claims the timer of a crashed claimer once its lease expires, as attempt 2', async () => {
    await timers.schedule('k', clock.now(), { n: 1 });
    const [crashed] = await timers.claimDue(10, LEASE);
    expect(crashed?.attempts).toBe(1);
    clock.advance(LEASE - 1);
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
    expect(await timers.nextDueAt()).toBe(clock.now() + 1);
    clock.advance(1);
    const [again] = await timers.claimDue(10, LEASE);
    expect(again).toMatchObject({ key: 'k', dueAt: crashed?.dueAt, attempts: 2, payload: { n: 1 } });
    expect(again?.token).not.toBe(crashed?.token);
    // The crashed claimer's token is void; the new one completes.
    expect(await timers.complete('k', crashed?.token ?? '')).toBe(false);
    expect(await timers.complete('k', again?.token ?? '')).toBe(true);
  });

  it('does not let a stale claimer complete a timer rescheduled meanwhile, which still fires at its new time', async () => {
    await timers.schedule('k', clock.now(), { n: 1 });
    const [stale] = await timers.claimDue(10, LEASE);
    const moved = clock.now() + HOUR;
    expect(await timers.reschedule('k', moved)).toBe(true);
    expect(await timers.complete('k', stale?.token ?? '')).toBe(false);
    expect(await timers.retryAt('k', stale?.token ?? '', clock.now(), 'late')).toBe(false);
    expect(await timers.get('k')).toMatchObject({ dueAt: moved, payload: { n: 1 }, attempts: 0, leasedUntil: undefined });
    clock.advance(HOUR - 1);
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
    clock.advance(1);
    const [fresh] = await timers.claimDue(10, LEASE);
    expect(fresh).toMatchObject({ key: 'k', dueAt: moved, attempts: 1 });
    expect(await timers.complete('k', fresh?.token ?? '')).toBe(true);
  });

  it('cancels many timers at once and counts the ones that existed', async () => {
    await timers.scheduleMany([
      { key: 'a', dueAt: clock.now() + MIN, payload: {} },
      { key: 'b', dueAt: clock.now() + MIN, payload: {} },
      { key: 'c', dueAt: clock.now() + MIN, payload: {} },
    ]);
    expect(await timers.cancelMany([])).toBe(0);
    expect(await timers.cancelMany(['a', 'c', 'missing'], { deferSync: true })).toBe(2);
    expect(await timers.get('a')).toBeUndefined();
    expect(await timers.get('c')).toBeUndefined();
    expect((await timers.get('b'))?.key).toBe('b');
    expect(await timers.count()).toBe(1);
  });

  it('does not let a stale claimer complete a timer scheduled again or cancelled meanwhile', async () => {
    await timers.scheduleMany([
      { key: 'again', dueAt: clock.now(), payload: 1 },
      { key: 'gone', dueAt: clock.now(), payload: 1 },
    ]);
    const claims = await timers.claimDue(10, LEASE);
    await timers.schedule('again', clock.now() + MIN, 2);
    await timers.cancel('gone');
    expect(await timers.completeMany(claims)).toBe(0);
    clock.advance(MIN);
    expect((await timers.claimDue(10, LEASE)).map((c) => [c.key, c.payload])).toEqual([['again', 2]]);
  });

  it('retries the same firing at the given time, keeping its due time and recording the error', async () => {
    const due = clock.now();
    await timers.schedule('k', due, null);
    const [c] = await timers.claimDue(10, LEASE);
    expect(await timers.retryAt('k', c?.token ?? '', clock.now() + 5000, 'PW_X: boom')).toBe(true);
    expect(await timers.get('k')).toMatchObject({
      dueAt: due,
      readyAt: clock.now() + 5000,
      leasedUntil: undefined,
      lastError: 'PW_X: boom',
    });
    expect(await timers.complete('k', c?.token ?? '')).toBe(false);
    clock.advance(4999);
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
    clock.advance(1);
    const [r] = await timers.claimDue(10, LEASE);
    expect(r).toMatchObject({ dueAt: due, attempts: 2 });
    expect(firingId(r as ClaimedTimer)).toBe(firingId(c as ClaimedTimer));
  });

  it('fires a timer exactly once after a restart in the middle of its window', async () => {
    const due = clock.now() + 45 * MIN;
    await timers.schedule('cart.abandoned:c9', due, { cart_id: 'c9' });
    clock.advance(20 * MIN);
    expect(await timers.claimDue(10, LEASE)).toEqual([]);
    await restart();
    clock.advance(30 * MIN);
    const fired: string[] = [];
    const runner = new TimerRunner(timers, clock, async (t) => void fired.push(firingId(t)));
    expect(await runner.tick()).toEqual({ claimed: 1, completed: 1, retried: 0, stale: 0 });
    clock.advance(7 * DAY);
    await restart();
    expect(await new TimerRunner(timers, clock, async (t) => void fired.push(firingId(t))).tick()).toMatchObject({ claimed: 0 });
    expect(fired).toEqual([firingId({ key: 'cart.abandoned:c9', dueAt: due })]);
  });

  it('fires again after a crash between effect and complete, and the idempotent effect happens once', async () => {
    await timers.schedule('k', clock.now() + MIN, null);
    clock.advance(MIN);
    const effects = new Set<string>();
    let runs = 0;
    const effect = (t: ClaimedTimer) => {
      runs++;
      effects.add(firingId(t));
    };
    const [c] = await timers.claimDue(10, LEASE);
    effect(c as ClaimedTimer); // … and the process dies before complete
    await restart();
    expect(await timers.claimDue(10, LEASE)).toEqual([]); // the dead claim's lease still holds
    clock.advance(LEASE);
    const runner = new TimerRunner(timers, clock, async (t) => effect(t), { leaseMs: LEASE });
    expect(await runner.tick()).toMatchObject({ claimed: 1, completed: 1 });
    expect(runs).toBe(2);
    expect(effects.size).toBe(1);
    expect(await timers.count()).toBe(0);
  });

  it('never gives one timer to two concurrent claimers', async () => {
    const other = await second();
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    await timers.scheduleMany(keys.map((key, i) => ({ key, dueAt: clock.now() + (i % 7), payload: i })));
    clock.advance(10);
    const claimedBy = new Map<string, number>();
    for (let round = 0; round < 100; round++) {
      const results = await Promise.all([
        timers.claimDue(9, HOUR),
        other.claimDue(9, HOUR),
        timers.claimDue(9, HOUR),
        other.claimDue(9, HOUR),
      ]);
      if (results.every((r) => r.length === 0)) break;
      for (const c of results.flat()) claimedBy.set(c.key, (claimedBy.get(c.key) ?? 0) + 1);
    }
    expect([...claimedBy.keys()].sort()).toEqual([...keys].sort());
    expect([...claimedBy.values()].filter((n) => n !== 1)).toEqual([]);
  });

  it('lets a second process fire what the first one scheduled', async () => {
    const other = await second();
    await timers.schedule('k', clock.now() + HOUR, 'x');
    clock.advance(HOUR);
    expect(await drain(other)).toEqual(['k']);
    expect(await drain(timers)).toEqual([]);
  });

  it('rejects a non-integer due time and an empty claim', async () => {
    await expect(timers.schedule('k', Number.NaN, null)).rejects.toThrow(RangeError);
    await expect(timers.schedule('k', 1.5, null)).rejects.toThrow(RangeError);
    await expect(timers.claimDue(0, LEASE)).rejects.toThrow(RangeError);
    await expect(timers.claimDue(1, 0)).rejects.toThrow(RangeError);
    expect(await timers.count()).toBe(0);
  });
});
