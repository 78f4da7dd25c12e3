import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock, isoTime } from '../core/index.ts';
import { firingId, openTimerStore, TimerRunner, type TimerStore } from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import { type EventLog, type LoggedEvent, openEventLog } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import {
  ABANDONMENT_SOURCE,
  abandonmentTimerKey,
  applyCartEvents,
  createAbandonmentDetector,
  getCart,
  rebuildState,
  type StateConsumer,
  startStateConsumer,
} from './index.ts';

const MIN = 60_000;
const IDLE = 30 * MIN;
const T0 = Date.parse('2026-01-05T09:00:00Z');
const KEY = abandonmentTimerKey('cart-1');

function ev(id: string, type: string, atMs: number, properties: Record<string, unknown>, ext: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'shop',
    type: `commerce.${type}`,
    time: isoTime(atMs),
    userid: 'u1',
    data: { event: type, properties },
    ...ext,
  };
}
const added = (id: string, atMs: number, ext: Partial<CloudEvent> = {}) =>
  ev(id, 'product_added', atMs, { cart_id: 'cart-1', sku: 'BRK-1', price: 64.9, quantity: 1, currency: 'eur' }, ext);
const order = (id: string, atMs: number) => ev(id, 'order_completed', atMs, { order_id: 'ord-1', total: 129.8, products: [] });

describeEachBackend('carts projection + abandonment detector', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let timers: TimerStore;
  let clock: FakeClock;
  let state: StateConsumer;
  let runner: TimerRunner;

  const open = async (reopen: boolean) => {
    store = reopen ? await backend.reopen() : await backend.open();
    log = openEventLog(store, clock);
    timers = openTimerStore(store, clock);
    state = startStateConsumer({ log, store, timers, clock, idleMs: IDLE, pollMs: 20 });
    runner = new TimerRunner(timers, clock, state.detector.fire);
  };
  const close = async () => {
    await state?.stop();
    await log?.close();
    await store?.close();
  };
  beforeEach(async () => {
    backend = make();
    clock = new FakeClock(T0);
    await open(false);
  });
  afterEach(async () => {
    await close();
    await backend?.cleanup();
  });

  /** Appends at the clock's time and waits until the state group has processed it. */
  const send = async (...events: CloudEvent[]) => {
    const out = await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
    await state.caughtUp(Math.max(...out.map((o) => o.seq)));
  };
  const derived = async (type: string) => (await log.query({ type, order: 'asc', limit: 100 })).map((l) => l.event);
  /** Fires what is due at `ms` and waits until the state group has folded what the firings appended. */
  const at = async (ms: number) => {
    clock.set(ms);
    const r = await runner.tick();
    await state.caughtUp(await log.head());
    return r;
  };

  it('resets the timer on activity: nothing at t0+31min, fires once at t0+51min', async () => {
    await send(added('a1', T0));
    expect((await timers.get(KEY))?.dueAt).toBe(T0 + IDLE);
    clock.set(T0 + 20 * MIN);
    await send(added('a2', T0 + 20 * MIN));
    expect((await timers.get(KEY))?.dueAt).toBe(T0 + 50 * MIN);

    expect(await at(T0 + 31 * MIN)).toMatchObject({ claimed: 0 });
    expect(await derived('cart.abandoned')).toEqual([]);
    expect((await getCart(store, 'cart-1'))?.status).toBe('active');

    expect(await at(T0 + 51 * MIN)).toMatchObject({ claimed: 1, completed: 1 });
    const abandoned = await derived('cart.abandoned');
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]).toMatchObject({
      id: firingId({ key: KEY, dueAt: T0 + 50 * MIN }),
      source: ABANDONMENT_SOURCE,
      data: { cart_id: 'cart-1', idle_minutes: 30, value: 129.8, currency: 'EUR', caused_by: ['a2'] },
    });
    expect(await getCart(store, 'cart-1')).toMatchObject({ status: 'abandoned', abandonedAtMs: T0 + 50 * MIN });
    expect(await at(T0 + 120 * MIN)).toMatchObject({ claimed: 0 });
  });

  it('an order cancels the timer and checks the cart out (the order names no cart: the customer’s open cart)', async () => {
    await send(added('a1', T0));
    clock.set(T0 + 10 * MIN);
    await send(order('o1', T0 + 10 * MIN));
    expect(await timers.get(KEY)).toBeUndefined();
    expect(await getCart(store, 'cart-1')).toMatchObject({ status: 'checked_out', orderId: 'ord-1', value: 129.8 });
    expect(await at(T0 + 60 * MIN)).toMatchObject({ claimed: 0 });
    expect(await derived('cart.abandoned')).toEqual([]);
    expect(await derived('cart.recovered')).toEqual([]);
  });

  it('in one batch, an order naming no cart finds the cart created earlier in that batch; a repeated order_id finds that cart again', async () => {
    await send(
      added('a1', T0),
      order('o1', T0 + MIN),
      ev('a2', 'product_added', T0 + 2 * MIN, { cart_id: 'cart-2', sku: 'X', price: 5 }),
      ev('c1', 'checkout_started', T0 + 3 * MIN, {}),
      ev('o2', 'order_completed', T0 + 4 * MIN, { order_id: 'ord-1', total: 1 }),
    );
    // o2 repeats ord-1: the cart holding that order (cart-1), not the customer's open cart-2.
    expect(await getCart(store, 'cart-1')).toMatchObject({ status: 'checked_out', orderId: 'ord-1', value: 1, lastEventId: 'o2' });
    expect(await getCart(store, 'cart-2')).toMatchObject({ status: 'active', checkoutStep: 0, customer: 'u1', value: 5 });
    expect(await timers.get(KEY)).toBeUndefined();
    expect((await timers.get(abandonmentTimerKey('cart-2')))?.dueAt).toBe(T0 + 3 * MIN + IDLE);
  });

  it('an order after abandonment emits cart.recovered and marks the cart recovered', async () => {
    await send(added('a1', T0));
    expect(await at(T0 + 31 * MIN)).toMatchObject({ completed: 1 });
    expect((await getCart(store, 'cart-1'))?.status).toBe('abandoned');
    await send(order('o1', T0 + 40 * MIN));
    expect(await getCart(store, 'cart-1')).toMatchObject({ status: 'recovered', orderId: 'ord-1' });
    const recovered = await derived('cart.recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ source: ABANDONMENT_SOURCE, data: { cart_id: 'cart-1', order_id: 'ord-1', caused_by: ['o1'] } });
    expect(await timers.count()).toBe(0);
  });

  it('history events build the cart but start no timer', async () => {
    await send(added('h1', T0 - 60 * MIN, { pitwallhistory: true }), added('h2', T0 - 50 * MIN, { pitwallhistory: true }));
    expect(await getCart(store, 'cart-1')).toMatchObject({ status: 'active', lines: { 'BRK-1': { quantity: 2, price: 64.9 } } });
    expect(await timers.count()).toBe(0);
    expect(await at(T0 + 120 * MIN)).toMatchObject({ claimed: 0 });
    expect(await derived('cart.abandoned')).toEqual([]);
  });

  it('an older event applied after a newer one does not move last activity (or the timer) back', async () => {
    clock.set(T0 + 10 * MIN);
    await send(added('new', T0 + 10 * MIN));
    await send(added('old', T0));
    expect(await getCart(store, 'cart-1')).toMatchObject({
      lastActivityMs: T0 + 10 * MIN,
      lastEventId: 'new',
      lines: { 'BRK-1': { quantity: 2 } },
    });
    expect((await timers.get(KEY))?.dueAt).toBe(T0 + 40 * MIN);
    expect(await at(T0 + 31 * MIN)).toMatchObject({ claimed: 0 });
  });

  it('product_removed lowers quantities and an emptied cart is not abandoned', async () => {
    await send(added('a1', T0), added('a2', T0));
    await send(ev('r1', 'product_removed', T0 + MIN, { cart_id: 'cart-1', sku: 'BRK-1', quantity: 1 }));
    expect(await getCart(store, 'cart-1')).toMatchObject({ lines: { 'BRK-1': { quantity: 1 } }, value: 64.9 });
    await send(ev('r2', 'product_removed', T0 + 2 * MIN, { cart_id: 'cart-1', sku: 'BRK-1', quantity: 1 }));
    expect(await getCart(store, 'cart-1')).toMatchObject({ lines: {}, value: 0 });
    expect(await timers.get(KEY)).toBeUndefined();
  });

  it('re-applying a batch changes nothing, and a timer firing twice yields one cart.abandoned', async () => {
    await send(added('a1', T0), ev('c1', 'checkout_step_completed', T0 + MIN, { step: 2 }));
    const cart = await getCart(store, 'cart-1');
    expect(cart).toMatchObject({ checkoutStep: 2, lastActivityMs: T0 + MIN });
    const timer = await timers.get(KEY);

    // The consumer crashed before its ack: the same batch comes again.
    const batch: LoggedEvent[] = await log.read(0, 100);
    await applyCartEvents(store, batch);
    await state.detector.onEvents(batch);
    expect(await getCart(store, 'cart-1')).toEqual(cart);
    expect((await timers.get(KEY))?.dueAt).toBe(timer?.dueAt);

    clock.set(T0 + 32 * MIN);
    const [claimed] = await timers.claimDue(10, 60_000);
    expect(claimed?.key).toBe(KEY);
    if (!claimed) throw new Error('no timer claimed');
    await state.detector.fire(claimed);
    await state.detector.fire(claimed); // a duplicate firing (e.g. crash before complete)
    clock.advance(61_000); // the lease ran out without a complete: the runner fires it again
    expect(await runner.tick()).toMatchObject({ claimed: 1, completed: 1 });
    const abandoned = await derived('cart.abandoned');
    expect(abandoned.map((e) => e.id)).toEqual([firingId({ key: KEY, dueAt: T0 + 31 * MIN })]);
    expect(abandoned[0]?.data).toMatchObject({ caused_by: ['c1'] });
  });

  it('a restart in the middle of the window still fires the timer once', async () => {
    await send(added('a1', T0));
    clock.set(T0 + 10 * MIN);
    await close();
    await open(true);
    expect((await timers.get(KEY))?.dueAt).toBe(T0 + IDLE);
    expect(await at(T0 + 29 * MIN)).toMatchObject({ claimed: 0 });
    expect(await at(T0 + 31 * MIN)).toMatchObject({ claimed: 1, completed: 1 });
    expect(await at(T0 + 40 * MIN)).toMatchObject({ claimed: 0 });
    expect(await derived('cart.abandoned')).toHaveLength(1);
    // The group resumed after its acked position: the add was not re-applied.
    expect((await getCart(store, 'cart-1'))?.lines).toEqual({ 'BRK-1': { quantity: 1, price: 64.9 } });
  });

  it('activity that reaches the log between the firing and its cart.abandoned wins, live and on rebuild alike', async () => {
    await send(added('a1', T0));
    // The detector's append is preceded by a customer's click that the log took first.
    const racing = new Proxy(log, {
      get(target, prop) {
        if (prop === 'append')
          return async (items: { event: CloudEvent; receivedAt: number }[]) => {
            if (items.some((i) => i.event.type === 'cart.abandoned'))
              await target.append([{ event: added('a2', clock.now()), receivedAt: clock.now() }]);
            return target.append(items);
          };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const detector = createAbandonmentDetector({ log: racing, store, timers, clock, idleMs: IDLE });
    clock.set(T0 + 31 * MIN);
    expect(await new TimerRunner(timers, clock, detector.fire).tick()).toMatchObject({ claimed: 1 });
    await state.caughtUp(await log.head());
    expect(await derived('cart.abandoned')).toHaveLength(1);
    clock.set(T0 + 40 * MIN);
    await send(order('o1', T0 + 40 * MIN));

    const rows = async () =>
      (await store.db.selectFrom('carts').selectAll().orderBy('cart_id').execute()).map(({ updated_seq: _, ...r }) => r);
    const live = await rows();
    expect(live).toMatchObject([{ cart_id: 'cart-1', status: 'checked_out', abandoned_at_ms: null }]);
    expect(await derived('cart.recovered')).toEqual([]);
    await state.stop();
    await rebuildState({ log, store, timers, clock });
    expect(await rows()).toEqual(live);
  });

  it('pitwall state rebuild folds the log into the same carts, abandonment included', async () => {
    // cart-1: abandoned, then an order (recovered). cart-2: abandoned and left. cart-3: abandoned,
    // then activity (active again).
    await send(added('a1', T0), ev('b1', 'product_added', T0, { cart_id: 'cart-2', sku: 'X', price: 5 }, { userid: 'u2' }));
    await send(ev('c1', 'product_added', T0, { cart_id: 'cart-3', sku: 'Y', price: 7 }, { userid: 'u3' }));
    expect(await at(T0 + 31 * MIN)).toMatchObject({ completed: 3 });
    clock.set(T0 + 40 * MIN);
    await send(
      order('o1', T0 + 40 * MIN),
      ev('c2', 'product_added', T0 + 40 * MIN, { cart_id: 'cart-3', sku: 'Y', price: 7 }, { userid: 'u3' }),
    );
    const rows = async () => store.db.selectFrom('carts').selectAll().orderBy('cart_id').execute();
    const live = await rows();
    expect(live.map((r) => [r.cart_id, r.status])).toEqual([
      ['cart-1', 'recovered'],
      ['cart-2', 'abandoned'],
      ['cart-3', 'active'],
    ]);
    await state.stop();
    const result = await rebuildState({ log, store, timers, clock });
    expect(result.events).toBe(await log.head());
    expect(result.tables).toContain('carts');
    const rebuilt = await rows();
    expect(rebuilt.map(({ updated_seq: _, ...r }) => r)).toEqual(live.map(({ updated_seq: _, ...r }) => r));
    expect(await log.position('state')).toBe(await log.head());
  });
});
