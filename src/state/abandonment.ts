/**
 * The `cart.abandoned` detector, on top of the carts projection and the durable timers.
 *
 * - `onEvents(batch)`, called after the projection applied the batch: for every cart touched
 *   by a non-history event it reads the cart's folded state and
 *   - `active` with lines → schedules `cart.abandoned:<cart_id>` at `last_activity_ms + idleMs`
 *     (scheduling again replaces the timer: reset on activity; an older event cannot move
 *     it back because `last_activity_ms` never moves back);
 *   - `active` and empty, `checked_out` or `recovered` → cancels the timer;
 *   - `recovered` → appends `cart.recovered` (id derived from cart + order, so a replay dedupes).
 *   History-mode events start no timers and emit nothing.
 * - `fire(timer)`, the TimerRunner handler: re-reads the cart; if it is still active, has
 *   lines and has been idle `idleMs` (by the Clock), marks it abandoned (conditional on
 *   `last_activity_ms` being unchanged) and appends `cart.abandoned` with
 *   `id = firingId(timer)`. A retried or duplicate firing finds the cart already abandoned at
 *   this `dueAt` and appends the same event again, which the log dedupes: one event.
 *   The runner fires a claimed batch concurrently; the firings of one event-loop turn are
 *   handled together — one read, one write transaction, one append — so a batch costs one
 *   commit, not one per cart (if that fails, every firing of the group is retried).
 */
import { type Clock, deterministicId, isoTime } from '../core/index.ts';
import { type ClaimedTimer, type Detector, firingId, type NewTimer, type TimerStore, writeTransaction } from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { EventLog, LoggedEvent } from '../log/index.ts';
import { type Cart, type CartsDb, getCarts, isCartEvent, markAbandoned, namedCartId, resolveCartId } from './carts.ts';

export const DEFAULT_IDLE_MS = 30 * 60_000;
export const ABANDONMENT_SOURCE = 'pitwall:detector/cart-abandonment';
export const ABANDONMENT_TIMER_PREFIX = 'cart.abandoned:';

export interface AbandonmentOptions {
  log: EventLog;
  store: CartsDb;
  timers: TimerStore;
  clock: Clock;
  /** Idle time after the last activity (event time) before a cart counts as abandoned. */
  idleMs?: number;
}

/**
 * Not a condition: an abandoned cart is a business event with its own lifecycle in the cart's
 * status (active → abandoned → active / recovered), and a shop has thousands; the conditions
 * list is for what someone should look at.
 */
export interface AbandonmentDetector extends Detector {
  readonly idleMs: number;
  /** Schedules, resets or cancels timers for the carts a batch touched; emits `cart.recovered`. */
  onEvents(batch: readonly LoggedEvent[]): Promise<void>;
  /** TimerRunner handler for `cart.abandoned:*` timers; idempotent by `(key, dueAt)`. */
  fire(timer: ClaimedTimer): Promise<void>;
  /** True for the timer keys this detector owns. */
  owns(key: string): boolean;
}

export function abandonmentTimerKey(cartId: string): string {
  return `${ABANDONMENT_TIMER_PREFIX}${cartId}`;
}

export function createAbandonmentDetector(opts: AbandonmentOptions): AbandonmentDetector {
  const { log, store, timers, clock } = opts;
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;

  const derived = (type: string, id: string, data: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0',
    id,
    source: ABANDONMENT_SOURCE,
    type,
    time: isoTime(clock.now()),
    datacontenttype: 'application/json',
    data,
  });

  const append = async (event: CloudEvent): Promise<void> => {
    await log.append([{ event, receivedAt: clock.now() }]);
  };

  const abandonedEvent = (cart: Cart, timer: { key: string; dueAt: number }): CloudEvent =>
    derived('cart.abandoned', firingId(timer), {
      cart_id: cart.cartId,
      idle_minutes: Math.round((timer.dueAt - cart.lastActivityMs) / 60_000),
      value: cart.value,
      ...(cart.currency !== undefined ? { currency: cart.currency } : {}),
      due_at: isoTime(timer.dueAt),
      ...(cart.lastEventId !== undefined ? { last_event_id: cart.lastEventId, caused_by: [cart.lastEventId] } : {}),
    });

  /**
   * Fires many timers: re-reads their carts in one query, marks the idle ones abandoned in one
   * write transaction (conditional on `last_activity_ms` being unchanged), appends their
   * `cart.abandoned` events (id = firingId) in one append. A retry finds its cart already
   * abandoned at this `dueAt` and appends the same event again, which the log dedupes.
   */
  const fireMany = async (batch: readonly ClaimedTimer[]): Promise<void> => {
    const ids = batch.map((t) => t.key.slice(ABANDONMENT_TIMER_PREFIX.length));
    const carts = await getCarts(store, [...new Set(ids)]);
    const events: CloudEvent[] = [];
    const toMark: { cart: Cart; timer: ClaimedTimer }[] = [];
    for (const [i, timer] of batch.entries()) {
      const cart = carts.get(ids[i] as string);
      if (!cart) continue;
      if (cart.status === 'abandoned' && cart.abandonedAtMs === timer.dueAt) {
        // A retry after the mark committed but the append did not (or a duplicate firing).
        events.push(abandonedEvent(cart, timer));
        continue;
      }
      if (cart.status !== 'active' || Object.keys(cart.lines).length === 0) continue;
      if (clock.now() < cart.lastActivityMs + idleMs) continue; // activity since; its own timer follows
      toMark.push({ cart, timer });
    }
    if (toMark.length > 0) {
      const marked = await writeTransaction(store, async (db) => {
        const out: boolean[] = [];
        for (const { cart, timer } of toMark) out.push(await markAbandoned(db, cart.cartId, cart.lastActivityMs, timer.dueAt));
        return out;
      });
      for (const [i, { cart, timer }] of toMark.entries()) {
        if (marked[i]) events.push(abandonedEvent({ ...cart, status: 'abandoned', abandonedAtMs: timer.dueAt }, timer));
      }
    }
    if (events.length > 0) await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
  };

  let firing: { timer: ClaimedTimer; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const fireQueued = async (): Promise<void> => {
    const queued = firing;
    firing = [];
    try {
      await fireMany(queued.map((q) => q.timer));
      for (const q of queued) q.resolve();
    } catch (e) {
      for (const q of queued) q.reject(e);
    }
  };

  return {
    name: 'cart-abandonment',
    timerPrefix: ABANDONMENT_TIMER_PREFIX,
    idleMs,
    owns: (key) => key.startsWith(ABANDONMENT_TIMER_PREFIX),

    async onEvents(batch) {
      // Group events by cart, so `cart.recovered` can name the order that caused it. Events
      // naming their cart need no query; the others resolve as the projection did.
      const touched = new Map<string, LoggedEvent[]>();
      for (const le of batch) {
        if (le.history || !isCartEvent(le.event)) continue;
        const id = namedCartId(le.event) ?? (await resolveCartId(store.db, le.event));
        if (id === undefined) continue;
        const list = touched.get(id) ?? [];
        list.push(le);
        touched.set(id, list);
      }
      if (touched.size === 0) return;
      const carts = await getCarts(store, [...touched.keys()]);
      const toSchedule: NewTimer[] = [];
      for (const [cartId, events] of touched) {
        const cart = carts.get(cartId);
        if (!cart) continue;
        const key = abandonmentTimerKey(cartId);
        if (cart.status === 'active' && Object.keys(cart.lines).length > 0) {
          toSchedule.push({ key, dueAt: cart.lastActivityMs + idleMs, payload: { cart_id: cartId } });
        } else if (cart.status !== 'abandoned') {
          await timers.cancel(key);
        }
        if (cart.status === 'recovered' && cart.orderId !== undefined) {
          const order = events.find((e) => e.event.type === 'commerce.order_completed');
          if (!order) continue;
          await append(
            derived('cart.recovered', deterministicId('pitwall.cart.recovered', cartId, cart.orderId), {
              cart_id: cartId,
              order_id: cart.orderId,
              caused_by: [order.event.id],
            }),
          );
        }
      }
      if (toSchedule.length > 0) await timers.scheduleMany(toSchedule);
    },

    fire: (timer) =>
      new Promise<void>((resolve, reject) => {
        // The TimerRunner fires a claimed batch concurrently: the firings of one event-loop
        // turn are handled together (one read, one write transaction, one append).
        if (firing.push({ timer, resolve, reject }) === 1) setImmediate(() => void fireQueued());
      }),
  };
}
