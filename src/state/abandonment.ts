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
 *   lines and has been idle `idleMs` (by the Clock), appends `cart.abandoned` with
 *   `id = firingId(timer)`. It writes no cart row: the carts projection folds the event (only
 *   if the cart's last event is still the one seen here), so live state equals rebuilt state.
 *   A retried or duplicate firing appends the same event again, which the log dedupes.
 *   The runner fires a claimed batch concurrently; the firings of one event-loop turn are
 *   handled together — one read, one append (if that fails, every firing of the group is retried).
 */
import { type Clock, deterministicId, isoTime } from '../core/index.ts';
import { type ClaimedTimer, type Detector, firingId, type NewTimer, type TimerStore } from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { EventLog, LoggedEvent } from '../log/index.ts';
import { type Cart, type CartsDb, getCarts, isCartEvent, namedCartId, resolveCartId } from './carts.ts';

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
   * Fires many timers: re-reads their carts in one query and appends a `cart.abandoned` (id =
   * firingId) for each idle one, in one append. The cart row is not written here: the carts
   * projection folds the event (only if the cart's last event is still the one the detector saw),
   * so activity the log took before the event wins, and live state equals rebuilt state. A retry
   * appends the same event again, which the log dedupes.
   */
  const fireMany = async (batch: readonly ClaimedTimer[]): Promise<void> => {
    const ids = batch.map((t) => t.key.slice(ABANDONMENT_TIMER_PREFIX.length));
    const carts = await getCarts(store, [...new Set(ids)]);
    const events: CloudEvent[] = [];
    for (const [i, timer] of batch.entries()) {
      const cart = carts.get(ids[i] as string);
      if (!cart) continue;
      if (cart.status === 'abandoned' && cart.abandonedAtMs === timer.dueAt) {
        // A duplicate firing after its event was folded: the same id again, which the log dedupes.
        events.push(abandonedEvent(cart, timer));
        continue;
      }
      if (cart.status !== 'active' || Object.keys(cart.lines).length === 0) continue;
      if (clock.now() < cart.lastActivityMs + idleMs) continue; // activity since; its own timer follows
      events.push(abandonedEvent(cart, timer));
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
      const toCancel: string[] = [];
      const recovered: CloudEvent[] = [];
      for (const [cartId, events] of touched) {
        const cart = carts.get(cartId);
        if (!cart) continue;
        const key = abandonmentTimerKey(cartId);
        if (cart.status === 'active' && Object.keys(cart.lines).length > 0) {
          toSchedule.push({ key, dueAt: cart.lastActivityMs + idleMs, payload: { cart_id: cartId } });
        } else if (cart.status !== 'abandoned') {
          toCancel.push(key);
        }
        if (cart.status === 'recovered' && cart.orderId !== undefined) {
          const order = events.find((e) => e.event.type === 'commerce.order_completed');
          if (!order) continue;
          recovered.push(
            derived('cart.recovered', deterministicId('pitwall.cart.recovered', cartId, cart.orderId), {
              cart_id: cartId,
              order_id: cart.orderId,
              caused_by: [order.event.id],
            }),
          );
        }
      }
      // One transaction each, with no fsync of its own: the consumer acks (fsynced) after every
      // detector, and a crash before that replays the batch, which does this again (ADR 0011).
      if (toCancel.length > 0) await timers.cancelMany(toCancel, { deferSync: true });
      if (toSchedule.length > 0) await timers.scheduleMany(toSchedule, { deferSync: true });
      if (recovered.length > 0) await log.append(recovered.map((event) => ({ event, receivedAt: clock.now() })));
    },

    fire: (timer) =>
      new Promise<void>((resolve, reject) => {
        // The TimerRunner fires a claimed batch concurrently: the firings of one event-loop
        // turn are handled together (one read, one write transaction, one append).
        if (firing.push({ timer, resolve, reject }) === 1) setImmediate(() => void fireQueued());
      }),
  };
}
