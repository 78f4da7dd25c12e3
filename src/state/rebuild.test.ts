/**
 * `pitwall state rebuild` interrupted half-way: the marker written with the deletes keeps the
 * state consumer (and the server) from folding on from a position the emptied tables never
 * reached; running the rebuild again completes it and lifts the marker. SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock, isoTime } from '../core/index.ts';
import { openTimerStore, type TimerStore } from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import { type EventLog, openEventLog } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { assertStateComplete, getCart, rebuildState, STATE_GROUP, startStateConsumer, unfinishedRebuild } from './index.ts';

const T0 = Date.parse('2026-01-05T09:00:00Z');
const added = (n: number): CloudEvent => ({
  specversion: '1.0',
  id: `a${n}`,
  source: 'shop',
  type: 'commerce.product_added',
  time: isoTime(T0 + n * 1000),
  userid: `u${n}`,
  data: { event: 'product_added', properties: { cart_id: `cart-${n}`, sku: 'BRK-1', price: 10, quantity: 1 } },
});

describeEachBackend('state rebuild interrupted', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let timers: TimerStore;
  const clock = new FakeClock(T0);

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    log = openEventLog(store, clock);
    timers = openTimerStore(store, clock);
    await log.append(Array.from({ length: 6 }, (_, i) => ({ event: added(i + 1), receivedAt: T0 })));
    const state = startStateConsumer({ log, store, timers, clock, pollMs: 20 });
    await state.caughtUp(await log.head());
    await state.stop();
  });
  afterEach(async () => {
    await log?.close();
    await store?.close();
    await backend?.cleanup();
  });

  it('a rebuild that dies after its first batch is refused by the consumer until it is run again', async () => {
    const crash = new Error('killed');
    await expect(
      rebuildState({
        log,
        store,
        timers,
        clock,
        batchSize: 2,
        onProgress: () => {
          throw crash; // the process dies after folding the first 2 events
        },
      }),
    ).rejects.toBe(crash);
    expect(await unfinishedRebuild(store.db)).toBe(T0);
    await expect(assertStateComplete(store.db)).rejects.toMatchObject({ code: 'PW_STATE_REBUILD_INCOMPLETE' });
    expect(await getCart(store, 'cart-5')).toBeUndefined(); // emptied, not folded again

    // The consumer folds nothing while the marker is there: each batch fails with the code.
    await log.append([{ event: added(7), receivedAt: T0 }]);
    let refusal: (e: unknown) => void = () => undefined;
    const refused = new Promise<unknown>((resolve) => {
      refusal = resolve;
    });
    const consumer = startStateConsumer({ log, store, timers, clock, pollMs: 5, onError: (e) => refusal(e) });
    expect(await refused).toMatchObject({ code: 'PW_STATE_REBUILD_INCOMPLETE' });
    await consumer.stop();
    expect(await getCart(store, 'cart-7')).toBeUndefined();
    expect(await log.position(STATE_GROUP)).toBe(6);

    const r = await rebuildState({ log, store, timers, clock, batchSize: 2 });
    expect(r.position).toBe(7);
    expect(await unfinishedRebuild(store.db)).toBeUndefined();
    await assertStateComplete(store.db);
    for (const n of [1, 5, 7]) expect((await getCart(store, `cart-${n}`))?.status).toBe('active');
  });
});
