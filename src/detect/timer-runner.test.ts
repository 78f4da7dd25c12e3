import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, FakeClock } from '../core/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { backoffMs, type ClaimedTimer, firingId, openTimerStore, TimerRunner, type TimerStore } from './index.ts';

const SEC = 1000;

describe('timer runner', () => {
  let store: Store;
  let timers: TimerStore;
  let clock: FakeClock;
  beforeEach(async () => {
    store = await openStore({ sqliteFile: ':memory:' });
    clock = new FakeClock();
    timers = openTimerStore(store, clock);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  it('fires due timers through the handler and completes them', async () => {
    await timers.scheduleMany([
      { key: 'a', dueAt: clock.now(), payload: 'A' },
      { key: 'b', dueAt: clock.now() + SEC, payload: 'B' },
    ]);
    const seen: unknown[] = [];
    const runner = new TimerRunner(timers, clock, async (t) => void seen.push(t.payload));
    expect(await runner.tick()).toEqual({ claimed: 1, completed: 1, retried: 0, stale: 0 });
    clock.advance(SEC);
    expect(await runner.tick()).toEqual({ claimed: 1, completed: 1, retried: 0, stale: 0 });
    expect(seen).toEqual(['A', 'B']);
    expect(await timers.count()).toBe(0);
  });

  it('retries a failing handler after 1 s, 2 s, 4 s, keeping the firing, until it succeeds', async () => {
    const due = clock.now();
    await timers.schedule('k', due, null);
    const ids: string[] = [];
    const errors: unknown[] = [];
    let failures = 3;
    const runner = new TimerRunner(
      timers,
      clock,
      async (t) => {
        ids.push(firingId(t));
        if (failures-- > 0) throw new AppError('PW_TEST_DOWN', 'receiver down', { status: 503 });
      },
      { onError: (e) => errors.push(e) },
    );
    for (const wait of [1, 2, 4]) {
      expect(await runner.tick()).toMatchObject({ claimed: 1, retried: 1 });
      expect(await timers.get('k')).toMatchObject({
        dueAt: due,
        readyAt: clock.now() + wait * SEC,
        lastError: 'PW_TEST_DOWN: receiver down',
      });
      clock.advance(wait * SEC - 1);
      expect(await runner.tick()).toMatchObject({ claimed: 0 });
      clock.advance(1);
    }
    expect(await runner.tick()).toEqual({ claimed: 1, completed: 1, retried: 0, stale: 0 });
    expect(new Set(ids)).toEqual(new Set([firingId({ key: 'k', dueAt: due })]));
    expect(ids.length).toBe(4);
    expect(errors.length).toBe(3);
  });

  it('caps the backoff at an hour', () => {
    expect([1, 2, 3, 12, 13, 1000].map((n) => backoffMs(n, SEC, 3_600_000))).toEqual([1000, 2000, 4000, 2_048_000, 3_600_000, 3_600_000]);
  });

  it('retries a handler that throws synchronously instead of failing the round', async () => {
    await timers.scheduleMany([
      { key: 'bad', dueAt: clock.now(), payload: null },
      { key: 'good', dueAt: clock.now(), payload: null },
    ]);
    const runner = new TimerRunner(timers, clock, ((t: ClaimedTimer) => {
      if (t.key === 'bad') throw new Error('sync');
      return Promise.resolve();
    }) as (t: ClaimedTimer) => Promise<void>);
    expect(await runner.tick()).toEqual({ claimed: 2, completed: 1, retried: 1, stale: 0 });
    expect(await timers.get('bad')).toMatchObject({ lastError: 'sync' });
  });

  it('reports a firing as stale when its timer was rescheduled during the handler, and fires it again later', async () => {
    await timers.schedule('k', clock.now(), { n: 1 });
    let runs = 0;
    const runner = new TimerRunner(timers, clock, async (t) => {
      runs++;
      if (runs === 1) await timers.reschedule(t.key, clock.now() + 60 * SEC); // activity arrived meanwhile
    });
    expect(await runner.tick()).toEqual({ claimed: 1, completed: 0, retried: 0, stale: 1 });
    expect(await timers.count()).toBe(1);
    clock.advance(60 * SEC);
    expect(await runner.tick()).toMatchObject({ claimed: 1, completed: 1 });
    expect(runs).toBe(2);
  });

  it('claims at most `batch` timers per round', async () => {
    await timers.scheduleMany(Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, dueAt: clock.now(), payload: i })));
    const runner = new TimerRunner(timers, clock, async () => {}, { batch: 10 });
    expect((await runner.tick()).claimed).toBe(10);
    expect((await runner.tick()).claimed).toBe(10);
    expect((await runner.tick()).claimed).toBe(5);
  });

  it('when started, fires a timer once the clock reaches it, and stops cleanly', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    await timers.schedule('k', clock.now() + 5 * SEC, null);
    const fired: number[] = [];
    const runner = new TimerRunner(timers, clock, async () => void fired.push(clock.now()), { maxIdleMs: 100 });
    runner.start();
    await vi.advanceTimersByTimeAsync(500);
    expect(fired).toEqual([]);
    clock.advance(5 * SEC);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual([clock.now()]);
    const stopped = runner.stop();
    await vi.advanceTimersByTimeAsync(100);
    await stopped;
    expect(await timers.count()).toBe(0);
  });

  it('when started, claims the next batch while an earlier one is still firing, up to `rounds` at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    await timers.scheduleMany(['a', 'b', 'c', 'd', 'e', 'f'].map((key) => ({ key, dueAt: clock.now(), payload: null })));
    const started: string[] = [];
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    // Every handler waits (a commit that takes long): with one round at a time only `a` and `b` would start.
    const runner = new TimerRunner(
      timers,
      clock,
      async (t) => {
        started.push(t.key);
        await held;
      },
      { batch: 2, rounds: 2, maxIdleMs: 100 },
    );
    runner.start();
    await vi.advanceTimersByTimeAsync(500);
    expect(started.sort()).toEqual(['a', 'b', 'c', 'd']);
    release();
    await vi.advanceTimersByTimeAsync(500);
    expect(started.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const stopped = runner.stop();
    await vi.advanceTimersByTimeAsync(100);
    await stopped;
    expect(await timers.count()).toBe(0);
  });
});
