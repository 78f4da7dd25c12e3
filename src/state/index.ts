/**
 * State: projections folded from the log (carts now) and the detectors that read them
 * (`cart.abandoned` / `cart.recovered`). `startStateConsumer` runs both as consumer group
 * `state`: per batch, the projection first, then the detector.
 */
import type { Clock } from '../core/index.ts';
import type { TimerStore } from '../detect/index.ts';
import { type EventLog, type Subscription, subscribe } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { type AbandonmentDetector, createAbandonmentDetector } from './abandonment.ts';
import { applyCartEvents } from './carts.ts';

export {
  ABANDONMENT_SOURCE,
  ABANDONMENT_TIMER_PREFIX,
  type AbandonmentDetector,
  type AbandonmentOptions,
  abandonmentTimerKey,
  createAbandonmentDetector,
  DEFAULT_IDLE_MS,
} from './abandonment.ts';
export {
  applyCartEvents,
  CART_EVENT_TYPES,
  type Cart,
  type CartLine,
  type CartStatus,
  type CartsDb,
  customerOf,
  fold,
  getCart,
  isCartEvent,
  resolveCartId,
} from './carts.ts';

export const STATE_GROUP = 'state';

export interface StateConsumerOptions {
  log: EventLog;
  store: Store;
  timers: TimerStore;
  clock: Clock;
  idleMs?: number;
  /** Where the group starts when it has never acked (default: the beginning of the log). */
  from?: 'start' | 'end' | number;
  batchSize?: number;
  pollMs?: number;
  onError?: (e: unknown) => void;
}

export interface StateConsumer {
  subscription: Subscription;
  /** Its `fire` is the TimerRunner handler for `cart.abandoned:*` timers. */
  detector: AbandonmentDetector;
  caughtUp(seq: number): Promise<void>;
  stop(): Promise<void>;
}

/** Subscribes group `state`: each batch is applied to the carts projection, then to the detector, then acked. */
export function startStateConsumer(opts: StateConsumerOptions): StateConsumer {
  const detector = createAbandonmentDetector({
    log: opts.log,
    store: opts.store,
    timers: opts.timers,
    clock: opts.clock,
    ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
  });
  const subscription = subscribe(
    opts.log,
    STATE_GROUP,
    async (batch) => {
      await applyCartEvents(opts.store, batch);
      await detector.onEvents(batch);
    },
    {
      from: opts.from ?? 'start',
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
      ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
    },
  );
  return {
    subscription,
    detector,
    caughtUp: (seq) => subscription.caughtUp(seq),
    stop: () => subscription.stop(),
  };
}
