/**
 * State: the Decide modules (projections folded from the log and the detectors that read
 * them; see src/detect/framework.ts). `startStateConsumer` runs every module as consumer
 * group `state`: per batch, all projections in one transaction, then every detector.
 */
import type { Clock } from '../core/index.ts';
import { type Projection, type StateDb, type TimerHandler, type TimerStore, writeTransaction } from '../detect/index.ts';
import { type EventLog, type LoggedEvent, type Subscription, subscribe } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import type { AbandonmentDetector } from './abandonment.ts';
import { createDecide, type Decide } from './modules.ts';
import { assertStateComplete, markRebuildDone, markRebuildStarted } from './rebuild-marker.ts';

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
  cartsProjection,
  customerOf,
  fold,
  getCart,
  isCartEvent,
  resolveCartId,
} from './carts.ts';
export { assertStateComplete, unfinishedRebuild } from './rebuild-marker.ts';

export const STATE_GROUP = 'state';

export interface StateConsumerOptions {
  log: EventLog;
  store: Store;
  timers: TimerStore;
  clock: Clock;
  idleMs?: number;
  /** The config file's `detectors:` section. */
  detectors?: Record<string, unknown>;
  /** Where the group starts when it has never acked (default: the beginning of the log). */
  from?: 'start' | 'end' | number;
  batchSize?: number;
  pollMs?: number;
  onError?: (e: unknown) => void;
}

export interface StateConsumer {
  subscription: Subscription;
  decide: Decide;
  /** The carts module's abandonment detector. */
  detector: AbandonmentDetector;
  /** The TimerRunner handler for every detector's timers. */
  fire: TimerHandler;
  caughtUp(seq: number): Promise<void>;
  stop(): Promise<void>;
}

/** Folds one batch into every projection, in one write transaction. */
export async function applyProjections(store: StateDb, projections: readonly Projection[], batch: readonly LoggedEvent[]): Promise<void> {
  const work = projections.map((p) => ({ p, events: batch.filter((le) => p.handles(le.event)) })).filter((w) => w.events.length > 0);
  if (work.length === 0) return;
  // No fsync of its own: the group's ack (an fsynced commit on the same file) follows it, and a
  // crash before that replays the batch (ADR 0011).
  await writeTransaction(
    store,
    async (db) => {
      for (const { p, events } of work) await p.apply(db, events, store.dialect);
    },
    { deferSync: true },
  );
}

/**
 * Subscribes group `state`: each batch is folded into every projection (one transaction),
 * then handed to every detector, then acked. Module settings are validated here, so a bad
 * `detectors:` section fails at start. While an unfinished `pitwall state rebuild` is marked it
 * folds nothing: each batch fails with `PW_STATE_REBUILD_INCOMPLETE` (to `onError`), and is retried.
 * Callers that can wait (main.ts) check `assertStateComplete` first and refuse to start.
 */
export function startStateConsumer(opts: StateConsumerOptions): StateConsumer {
  const decide = createDecide(
    { log: opts.log, store: opts.store, timers: opts.timers, clock: opts.clock },
    {
      ...(opts.idleMs !== undefined ? { cartIdleMs: opts.idleMs } : {}),
      ...(opts.detectors !== undefined ? { detectors: opts.detectors } : {}),
    },
  );
  let complete = false;
  const subscription = subscribe(
    opts.log,
    STATE_GROUP,
    async (batch) => {
      if (!complete) {
        await assertStateComplete(opts.store.db);
        complete = true;
      }
      await applyProjections(opts.store, decide.projections, batch);
      for (const d of decide.detectors) await d.onEvents?.(batch);
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
    decide,
    detector: decide.abandonment,
    fire: decide.fire,
    caughtUp: (seq) => subscription.caughtUp(seq),
    stop: () => subscription.stop(),
  };
}

export interface RebuildResult {
  events: number;
  projections: string[];
  tables: string[];
  position: number;
}

/**
 * Rebuilds every projection from the log: empties their tables, folds the whole log again
 * (projections only: detectors start no timers and emit nothing), and moves group `state`
 * to the position folded. Run it with the Decide processes stopped. A rebuild that dies half-way
 * leaves its marker (rebuild-marker.ts); running it again completes it.
 */
export async function rebuildState(opts: {
  log: EventLog;
  store: Store;
  timers: TimerStore;
  clock: Clock;
  detectors?: Record<string, unknown>;
  batchSize?: number;
  onProgress?: (folded: number, head: number) => void;
}): Promise<RebuildResult> {
  const decide = createDecide(
    { log: opts.log, store: opts.store, timers: opts.timers, clock: opts.clock },
    opts.detectors !== undefined ? { detectors: opts.detectors } : {},
  );
  const tables = [...new Set(decide.projections.flatMap((p) => p.tables))];
  // The marker goes in with the deletes: a crash from here on leaves it, and the consumer refuses.
  await writeTransaction(opts.store, async (db) => {
    await markRebuildStarted(db, opts.clock.now());
    for (const t of tables) await db.deleteFrom(t).execute();
  });
  const head = await opts.log.head();
  const batchSize = opts.batchSize ?? 2000;
  let pos = 0;
  let events = 0;
  while (pos < head) {
    const batch = await opts.log.read(pos, batchSize);
    if (batch.length === 0) break;
    await applyProjections(opts.store, decide.projections, batch);
    pos = (batch[batch.length - 1] as LoggedEvent).seq;
    events += batch.length;
    opts.onProgress?.(events, head);
  }
  await opts.log.ack(STATE_GROUP, pos);
  await markRebuildDone(opts.store.db);
  return { events, projections: decide.projections.map((p) => p.name), tables, position: pos };
}

export {
  availability,
  type DepletionBasis,
  getStock,
  getStockLevel,
  getVehicle,
  listStock,
  PART_SERVICE_CLEARED,
  PART_SERVICE_DUE,
  type PartStatus,
  type SkuAvailability,
  STOCK_LOW,
  STOCK_REPLENISHED,
  type StockLevel,
  type StockQuery,
  type Vehicle,
  type VehicleDevice,
  type VehicleReadOptions,
  type VehicleSignalValue,
  vehiclesOfCustomer,
  type WearTrend,
} from './assets/index.ts';
export {
  activeSustained,
  type DeviceDetail,
  type DeviceQuery,
  type DeviceState,
  getDeviceState,
  isDeviceSilent,
  listDevices,
  type PublishedRule,
  publishedRules,
  type SignalSummary,
  type SustainedSensor,
  silentDevices,
} from './devices/index.ts';
export {
  type ConsentState,
  type Customer,
  type CustomerDevice,
  type CustomerOrder,
  type CustomerPart,
  type CustomerSummary,
  type CustomerVehicle,
  customerOfDevice,
  customerOfVin,
  emailHash,
  getCustomer,
  hasConsent,
  listCustomers,
  parseIdentifier,
  resolveCustomerId,
  vehiclesOf,
} from './identity/index.ts';
export { createDecide, type Decide, type DecideSettings } from './modules.ts';
export * from './shipments/index.ts';
