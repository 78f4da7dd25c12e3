/**
 * The stock projection: per SKU × warehouse, `on_hand`, `reserved`, `available`, the daily
 * depletion and the days of cover, in `stock_levels`, recomputed from four input tables.
 *
 * Rules (inputs: see stock-inputs.ts):
 * - **Readings are absolute**: each sensor keeps its latest reading by event time (ties: the
 *   larger event id), so an older reading arriving late changes nothing and a duplicate is the
 *   same reading. `on_hand` = Σ the sensors' latest quantities − the quantities picked
 *   (shipments) after the newest of those readings (the shelf has not weighed them yet).
 * - **Reservations are keyed, not added**: an order's lines are stored under its `order_id`
 *   (the latest version of the order by event time wins), so a replayed batch or a resent order
 *   (even under another event id) reserves once. A shipment's lines are stored under
 *   `(shipment_id, sku)` the same way. Reserved = Σ over order lines max(0, quantity − shipped)
 *   where shipped = Σ picks naming that order; a line stops counting `reservation_hold_days`
 *   after its order (0: only a shipment releases it).
 * - **Depletion**: over the window (`window_days`, ending at the row's newest input event), the
 *   largest of three rates: ordered quantity (orders), picked quantity (shipments) and Σ decreases
 *   between consecutive bucketed readings of each sensor (readings), each divided by the days
 *   covered (newest − oldest input, at least 1, at most the window). `days_of_cover` =
 *   available / daily depletion (0 when nothing is available, null when there is no depletion).
 * - Every derived figure is a function of the set of inputs, so any arrival order and any
 *   batching gives the same row (the property test checks it); `updated_seq` is the highest
 *   position folded.
 * - `stock.low` / `stock.replenished` (the detector's decisions) fold into `low_raised` /
 *   `low_cleared` (max of the episode numbers), so the low state is rebuilt from the log too.
 * - History-mode events build state like any other.
 */
import type { Selectable } from 'kysely';
import type { Db, Projection } from '../../detect/index.ts';
import type { LoggedEvent } from '../../log/index.ts';
import type { Database } from '../../store/index.ts';
import type { StockSettings } from './settings.ts';
import {
  isStockInput,
  newer,
  type OrderLine,
  STOCK_LOW,
  STOCK_REPLENISHED,
  stockKey,
  stockKeyOfDerived,
  stockOrderOf,
  stockReadingOf,
  stockShipmentOf,
} from './stock-inputs.ts';
import { recomputeLevels, round, type Touch } from './stock-levels.ts';

type SensorRow = Selectable<Database['stock_sensors']>;
type ReadingRow = Selectable<Database['stock_readings']>;
type LineRow = Selectable<Database['stock_order_lines']>;
type PickRow = Selectable<Database['stock_picks']>;

const CHUNK = 400;

export const STOCK_TABLES = ['stock_levels', 'stock_sensors', 'stock_readings', 'stock_order_lines', 'stock_picks'] as const;

export function createStockProjection(settings: StockSettings): Projection {
  return {
    name: 'stock',
    tables: STOCK_TABLES,
    handles: (e) =>
      e.type === STOCK_LOW ||
      e.type === STOCK_REPLENISHED ||
      (isStockInput(e) && (e.type !== 'sensor.reading' || stockReadingOf(e, settings) !== undefined)),
    apply: (db, events) => foldStock(db, events, settings),
  };
}

interface OrderVersion {
  timeMs: number;
  eventId: string;
  lines: Map<string, LineRow>;
}

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

const pickKey = (shipmentId: string, sku: string) => `${shipmentId}\u0000${sku}`;
const bucketKey = (sensor: string, bucketMs: number) => `${sensor}\u0000${bucketMs}`;

async function foldStock(db: Db, events: readonly LoggedEvent[], s: StockSettings): Promise<void> {
  const touched = new Map<string, Touch>();
  const touch = (sku: string, warehouse: string, seq: number, atMs?: number): Touch => {
    const key = stockKey(sku, warehouse);
    const t = touched.get(key) ?? { seq, firstMs: undefined, latestMs: undefined, raised: undefined, cleared: undefined };
    t.seq = Math.max(t.seq, seq);
    if (atMs !== undefined) {
      t.firstMs = Math.min(t.firstMs ?? atMs, atMs);
      t.latestMs = Math.max(t.latestMs ?? atMs, atMs);
    }
    touched.set(key, t);
    return t;
  };

  // Load what the batch may change.
  const sensorNames = new Set<string>();
  const bucketSet = new Set<number>();
  const orderIds = new Set<string>();
  const shipmentIds = new Set<string>();
  for (const { event: e } of events) {
    const r = stockReadingOf(e, s);
    if (r) {
      sensorNames.add(r.sensor);
      bucketSet.add(bucketOf(Date.parse(e.time), s.readingBucketMs));
    }
    const o = stockOrderOf(e, s);
    if (o) orderIds.add(o.orderId);
    const sh = stockShipmentOf(e);
    if (sh) {
      shipmentIds.add(sh.shipmentId);
      if (sh.orderId !== undefined) orderIds.add(sh.orderId);
    }
  }
  const sensors = new Map<string, SensorRow>();
  const buckets = new Map<string, ReadingRow>();
  for (const part of chunks([...sensorNames])) {
    for (const r of await db.selectFrom('stock_sensors').selectAll().where('sensor', 'in', part).execute()) sensors.set(r.sensor, r);
    for (const bpart of chunks([...bucketSet]))
      for (const r of await db
        .selectFrom('stock_readings')
        .selectAll()
        .where('sensor', 'in', part)
        .where('bucket_ms', 'in', bpart)
        .execute())
        buckets.set(bucketKey(r.sensor, Number(r.bucket_ms)), r);
  }
  const orders = new Map<string, OrderVersion>();
  const picks = new Map<string, PickRow>();
  // Picks first: a shipment re-sent under another order moves its picks away from the order they named.
  for (const part of chunks([...shipmentIds]))
    for (const r of await db.selectFrom('stock_picks').selectAll().where('shipment_id', 'in', part).execute()) {
      picks.set(pickKey(r.shipment_id, r.sku), r);
      if (r.order_id !== null) orderIds.add(r.order_id);
    }
  for (const part of chunks([...orderIds])) {
    for (const r of await db.selectFrom('stock_order_lines').selectAll().where('order_id', 'in', part).execute()) {
      const v = orders.get(r.order_id) ?? { timeMs: Number(r.time_ms), eventId: r.event_id, lines: new Map() };
      v.lines.set(r.sku, r);
      orders.set(r.order_id, v);
    }
    for (const r of await db.selectFrom('stock_picks').selectAll().where('order_id', 'in', part).execute())
      picks.set(pickKey(r.shipment_id, r.sku), r);
  }

  const dirtySensors = new Set<string>();
  const dirtyBuckets = new Set<string>();
  const dirtyOrders = new Set<string>();
  const dirtyPicks = new Set<string>();

  const shippedFor = (orderId: string, sku: string): number => {
    let total = 0;
    for (const p of picks.values()) if (p.order_id === orderId && p.sku === sku) total += p.quantity;
    return round(total);
  };
  const refreshShipped = (orderId: string | null | undefined, sku: string, seq: number) => {
    if (orderId === null || orderId === undefined) return;
    const line = orders.get(orderId)?.lines.get(sku);
    if (!line) return;
    const shipped = shippedFor(orderId, sku);
    if (shipped === line.shipped) return;
    line.shipped = shipped;
    dirtyOrders.add(orderId);
    touch(line.sku, line.warehouse, seq);
  };

  for (const le of events) {
    const e = le.event;
    const at = Date.parse(e.time);
    const version = { timeMs: at, eventId: e.id };

    const reading = stockReadingOf(e, s);
    if (reading) {
      const row: SensorRow = { ...reading, time_ms: at, event_id: e.id };
      const cur = sensors.get(reading.sensor);
      if (newer(version, cur && { timeMs: Number(cur.time_ms), eventId: cur.event_id })) {
        sensors.set(reading.sensor, row);
        dirtySensors.add(reading.sensor);
      }
      const bucketMs = bucketOf(at, s.readingBucketMs);
      const bk = bucketKey(reading.sensor, bucketMs);
      const curB = buckets.get(bk);
      if (newer(version, curB && { timeMs: Number(curB.time_ms), eventId: curB.event_id })) {
        buckets.set(bk, { ...row, bucket_ms: bucketMs });
        dirtyBuckets.add(bk);
      }
      touch(reading.sku, reading.warehouse, le.seq, at);
      continue;
    }

    const order = stockOrderOf(e, s);
    if (order) {
      // Every input's time counts towards its rows' span, winning version or not (a function of the set of events).
      for (const l of order.lines) touch(l.sku, l.warehouse, le.seq, at);
      const cur = orders.get(order.orderId);
      if (!newer(version, cur)) continue;
      for (const old of cur?.lines.values() ?? []) touch(old.sku, old.warehouse, le.seq);
      const lines = new Map<string, LineRow>();
      for (const l of order.lines) lines.set(l.sku, lineRow(order.orderId, l, 0, at, e.id));
      orders.set(order.orderId, { ...version, lines });
      for (const l of lines.values()) {
        l.shipped = shippedFor(order.orderId, l.sku);
        touch(l.sku, l.warehouse, le.seq, at);
      }
      dirtyOrders.add(order.orderId);
      continue;
    }

    const shipment = stockShipmentOf(e);
    if (shipment) {
      for (const l of shipment.lines) {
        touch(l.sku, shipment.warehouse, le.seq, at);
        const pk = pickKey(shipment.shipmentId, l.sku);
        const cur = picks.get(pk);
        if (!newer(version, cur && { timeMs: Number(cur.time_ms), eventId: cur.event_id })) continue;
        picks.set(pk, {
          shipment_id: shipment.shipmentId,
          sku: l.sku,
          warehouse: shipment.warehouse,
          order_id: shipment.orderId ?? null,
          quantity: l.quantity,
          time_ms: at,
          event_id: e.id,
        });
        dirtyPicks.add(pk);
        if (cur) touch(cur.sku, cur.warehouse, le.seq);
        refreshShipped(cur?.order_id, l.sku, le.seq);
        refreshShipped(shipment.orderId, l.sku, le.seq);
      }
      continue;
    }

    const derived = stockKeyOfDerived(e);
    if (derived) {
      const t = touch(derived.sku, derived.warehouse, le.seq);
      if (e.type === STOCK_LOW) {
        if (!t.raised || derived.episode > t.raised.episode) t.raised = { episode: derived.episode, atMs: at };
      } else t.cleared = Math.max(t.cleared ?? 0, derived.episode);
    }
  }

  for (const part of chunks([...dirtySensors].map((k) => sensors.get(k) as SensorRow)))
    await db
      .insertInto('stock_sensors')
      .values(part)
      .onConflict((oc) =>
        oc.column('sensor').doUpdateSet((eb) => ({
          sku: eb.ref('excluded.sku'),
          warehouse: eb.ref('excluded.warehouse'),
          quantity: eb.ref('excluded.quantity'),
          time_ms: eb.ref('excluded.time_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();
  for (const part of chunks([...dirtyBuckets].map((k) => buckets.get(k) as ReadingRow)))
    await db
      .insertInto('stock_readings')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['sensor', 'bucket_ms']).doUpdateSet((eb) => ({
          sku: eb.ref('excluded.sku'),
          warehouse: eb.ref('excluded.warehouse'),
          quantity: eb.ref('excluded.quantity'),
          time_ms: eb.ref('excluded.time_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();
  for (const part of chunks([...dirtyOrders])) {
    await db.deleteFrom('stock_order_lines').where('order_id', 'in', part).execute();
    const rows = part.flatMap((id) => [...(orders.get(id)?.lines.values() ?? [])]);
    for (const rpart of chunks(rows)) await db.insertInto('stock_order_lines').values(rpart).execute();
  }
  for (const part of chunks([...dirtyPicks].map((k) => picks.get(k) as PickRow)))
    await db
      .insertInto('stock_picks')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['shipment_id', 'sku']).doUpdateSet((eb) => ({
          warehouse: eb.ref('excluded.warehouse'),
          order_id: eb.ref('excluded.order_id'),
          quantity: eb.ref('excluded.quantity'),
          time_ms: eb.ref('excluded.time_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();

  await recomputeLevels(db, touched, s);
}

function lineRow(orderId: string, l: OrderLine, shipped: number, timeMs: number, eventId: string): LineRow {
  return {
    order_id: orderId,
    sku: l.sku,
    warehouse: l.warehouse,
    quantity: l.quantity,
    shipped,
    category: l.category ?? null,
    time_ms: timeMs,
    event_id: eventId,
  };
}

function bucketOf(ms: number, size: number): number {
  return Math.floor(ms / size) * size;
}
