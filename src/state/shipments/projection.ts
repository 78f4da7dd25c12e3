/**
 * The shipments projection: folds `shipment.*` events (and the detectors' `shipment.delayed` /
 * `shipment.condition_breach`) into `shipments`, `shipment_positions`, `shipment_conditions`,
 * `shipment_breaches` and `shipment_lanes`, one batch per transaction.
 *
 * - Field rules: fold.ts (shipments) and readings.ts (condition readings).
 * - **Idempotent by position**: `updated_seq` guards each shipment row and each (shipment, kind)
 *   reading row; positions and breaches are keyed rows inserted with ON CONFLICT DO NOTHING.
 * - **Position retention** (positions.ts): the newest fixes per (shipment, source) that the
 *   stationary run reads are kept; a delivered shipment's fixes are dropped with the delivery's
 *   batch, and fixes folded after the delivery are not stored.
 * - **Stationary run** (for `stalled` and the prediction's stop shift): from every stored fix of the
 *   latest fix's source, newest first, the fixes within `stall_radius_m` of the latest one; the run
 *   starts at the oldest of them. Computed from the set of fixes, so arrival order does not matter.
 * - **Lanes**: after a batch, every carrier × lane whose delivered shipments changed is recomputed
 *   from `shipments` (count, on-time count, the last `window` transit and last-mile times by delivery
 *   time), so a duplicate `shipment.delivered` cannot count twice and a rebuild gives the same numbers.
 * - The batch's rows are loaded up front (FOR UPDATE on PostgreSQL), folded in log order in memory,
 *   and written back with multi-row upserts.
 */
import type { Selectable } from 'kysely';
import { type Db, eventTimeMs, type Projection } from '../../detect/index.ts';
import type { LoggedEvent } from '../../log/index.ts';
import type { Database } from '../../store/index.ts';
import { dataRecord, foldShipment, num, SHIPMENT_EVENT_TYPES, type Shipment, shipmentIdOf, text } from './fold.ts';
import { recomputeLane } from './lanes.ts';
import { dropPositions, POSITION_TAIL, prunePoint, prunePositions } from './positions.ts';
import { distanceM } from './quantiles.ts';
import { foldReading, type ReadingState } from './readings.ts';
import { fromReadingRow, fromShipmentRow, type ReadingRow, type ShipmentRow, toReadingRow, toShipmentRow } from './rows.ts';
import type { ShipmentSettings } from './settings.ts';

export const SHIPMENT_TABLES = ['shipments', 'shipment_positions', 'shipment_conditions', 'shipment_breaches', 'shipment_lanes'] as const;
const TYPES = new Set<string>([...SHIPMENT_EVENT_TYPES, 'shipment.delayed', 'shipment.condition_breach']);
/** Rows per `IN (...)` and per multi-row write (shipments have ~45 columns: well under both dialects' parameter limits). */
const CHUNK = 200;
/** Fixes read back for one stationary run (all that is kept per source: positions.ts). */
const RUN_SCAN = POSITION_TAIL;

export function createShipmentsProjection(settings: ShipmentSettings): Projection {
  return {
    name: 'shipments',
    tables: [...SHIPMENT_TABLES],
    handles: (e) => TYPES.has(e.type),
    apply: (db, events, dialect) => foldBatch(db, events, dialect === 'postgres', settings),
  };
}

const readingKey = (shipmentId: string, kind: string) => `${shipmentId}\u0001${kind}`;
const laneKey = (s: Shipment) =>
  s.carrier !== undefined && s.origin !== undefined && s.destination !== undefined
    ? JSON.stringify([s.carrier, s.origin, s.destination])
    : undefined;
/** What the lane statistics read of a shipment. */
const laneInputs = (s: Shipment) => JSON.stringify([laneKey(s), s.deliveredMs, s.transitMs, s.onTime, s.lastMileMs]);

async function foldBatch(db: Db, events: readonly LoggedEvent[], lock: boolean, settings: ShipmentSettings): Promise<void> {
  const ids = new Set<string>();
  const readingIds = new Set<string>();
  for (const le of events) {
    const id = shipmentIdOf(le);
    if (id === undefined || le.event.type === 'shipment.condition_breach') continue;
    ids.add(id);
    if (le.event.type === 'shipment.condition') readingIds.add(id);
  }
  const shipments = await loadShipments(db, [...ids], lock);
  const readings = await loadReadings(db, [...readingIds], lock);
  const before = new Map([...shipments].map(([id, s]) => [id, { inputs: laneInputs(s), lane: laneKey(s) }]));

  const changed = new Set<string>();
  const changedReadings = new Set<string>();
  const moved = new Set<string>();
  const prune = new Set<string>();
  const delivered = new Set<string>();
  const positions: Selectable<Database['shipment_positions']>[] = [];
  const breachRows: Selectable<Database['shipment_breaches']>[] = [];
  for (const le of events) {
    const id = shipmentIdOf(le);
    if (id === undefined) continue;
    if (le.event.type === 'shipment.condition_breach') {
      const row = breachRow(id, le);
      if (row) breachRows.push(row);
      continue;
    }
    const cur = shipments.get(id);
    if (!cur || le.seq > cur.updatedSeq) {
      const next = foldShipment(cur, id, le);
      shipments.set(id, next);
      changed.add(id);
      if (cur?.deliveredMs === undefined && next.deliveredMs !== undefined) delivered.add(id);
      // A fix folded after the delivery (in log order) is counted on the row but not stored.
      if (le.event.type === 'shipment.position' && next.positionsCount > (cur?.positionsCount ?? 0) && cur?.deliveredMs === undefined) {
        if (prunePoint(cur?.positionsCount ?? 0, next.positionsCount)) prune.add(id);
        const d = dataRecord(le);
        positions.push({
          shipment_id: id,
          time_ms: eventTimeMs(le.event),
          event_id: le.event.id,
          source: text(le.event.deviceid) ?? le.event.source,
          lat: num(d.lat) as number,
          lon: num(d.lon) as number,
          speed_kmh: num(d.speed_kmh) ?? null,
        });
        moved.add(id);
      }
    }
    if (le.event.type === 'shipment.condition') {
      const kind = text(dataRecord(le).kind);
      if (kind === undefined) continue;
      const key = readingKey(id, kind);
      const rs = readings.get(key);
      if (rs && le.seq <= rs.updatedSeq) continue;
      const next = foldReading(rs, id, le, settings.limits, settings.breachGapMs);
      if (next) {
        readings.set(key, next);
        changedReadings.add(key);
      }
    }
  }

  for (let i = 0; i < positions.length; i += CHUNK)
    await db
      .insertInto('shipment_positions')
      .values(positions.slice(i, i + CHUNK))
      .onConflict((oc) => oc.doNothing())
      .execute();
  for (const id of moved) {
    const s = shipments.get(id);
    if (s) Object.assign(s, await stationaryRun(db, s, settings.stallRadiusM));
  }
  // Retention (positions.ts): after the stationary runs, which may still need them. A delivered
  // shipment keeps no fixes, so it has no stationary run either (whatever order its fixes came in).
  await dropPositions(db, [...delivered]);
  for (const id of changed) {
    const s = shipments.get(id);
    if (s?.deliveredMs !== undefined) Object.assign(s, { stationarySinceMs: undefined, stationaryFixes: 0 });
  }
  for (const id of prune) if (!delivered.has(id)) await prunePositions(db, id);
  const rows = [...changed].map((id) => toShipmentRow(shipments.get(id) as Shipment));
  for (let i = 0; i < rows.length; i += CHUNK) await upsertShipments(db, rows.slice(i, i + CHUNK));
  const readingRows = [...changedReadings].map((k) => toReadingRow(readings.get(k) as ReadingState));
  for (let i = 0; i < readingRows.length; i += CHUNK) await upsertReadings(db, readingRows.slice(i, i + CHUNK));
  for (let i = 0; i < breachRows.length; i += CHUNK)
    await db
      .insertInto('shipment_breaches')
      .values(breachRows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.doNothing())
      .execute();

  const lanes = new Set<string>();
  for (const id of changed) {
    const now = shipments.get(id) as Shipment;
    const was = before.get(id);
    if (was && laneInputs(now) === was.inputs) continue;
    for (const k of [was?.lane, laneKey(now)]) if (k !== undefined) lanes.add(k);
  }
  for (const k of lanes) {
    const [carrier, origin, destination] = JSON.parse(k) as [string, string, string];
    await recomputeLane(db, carrier, origin, destination, settings.window);
  }
}

async function loadShipments(db: Db, ids: string[], lock: boolean): Promise<Map<string, Shipment>> {
  const out = new Map<string, Shipment>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('shipments')
      .selectAll()
      .where('shipment_id', 'in', ids.slice(i, i + CHUNK))
      .$if(lock, (q) => q.forUpdate())
      .execute();
    for (const r of rows) out.set(r.shipment_id, fromShipmentRow(r));
  }
  return out;
}

async function loadReadings(db: Db, ids: string[], lock: boolean): Promise<Map<string, ReadingState>> {
  const out = new Map<string, ReadingState>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('shipment_conditions')
      .selectAll()
      .where('shipment_id', 'in', ids.slice(i, i + CHUNK))
      .$if(lock, (q) => q.forUpdate())
      .execute();
    for (const r of rows) out.set(readingKey(r.shipment_id, r.kind), fromReadingRow(r));
  }
  return out;
}

/** The trailing run of the latest fix's source within `radiusM` of the latest fix. */
async function stationaryRun(db: Db, s: Shipment, radiusM: number): Promise<Pick<Shipment, 'stationarySinceMs' | 'stationaryFixes'>> {
  const p = s.lastPosition;
  if (!p) return { stationarySinceMs: undefined, stationaryFixes: 0 };
  const fixes = await db
    .selectFrom('shipment_positions')
    .select(['time_ms', 'lat', 'lon'])
    .where('shipment_id', '=', s.shipmentId)
    .where('source', '=', p.source)
    .where('time_ms', '<=', p.timeMs)
    .orderBy('time_ms', 'desc')
    .orderBy('event_id', 'desc')
    .limit(RUN_SCAN)
    .execute();
  let since = p.timeMs;
  let count = 0;
  for (const f of fixes) {
    if (distanceM(f.lat, f.lon, p.lat, p.lon) > radiusM) break;
    since = Number(f.time_ms);
    count++;
  }
  return { stationarySinceMs: since, stationaryFixes: Math.max(1, count) };
}

function breachRow(shipmentId: string, le: LoggedEvent): Selectable<Database['shipment_breaches']> | undefined {
  const d = dataRecord(le);
  const kind = text(d.kind);
  if (kind === undefined) return undefined;
  const readingAt = typeof d.reading_at === 'string' ? Date.parse(d.reading_at) : Number.NaN;
  const causedBy = Array.isArray(d.caused_by) ? text(d.caused_by[0]) : undefined;
  return {
    id: le.event.id,
    shipment_id: shipmentId,
    kind,
    value: num(d.value) ?? null,
    unit: text(d.unit) ?? null,
    limit_min: num(d.limit_min) ?? null,
    limit_max: num(d.limit_max) ?? null,
    reading_ms: Number.isFinite(readingAt) ? readingAt : null,
    reading_event_id: causedBy ?? null,
    raised_ms: eventTimeMs(le.event),
  };
}

/** Every column but the key: an upsert takes the new row's value (it was folded from the loaded one). */
const SHIPMENT_COLUMNS = [
  'carrier',
  'origin',
  'destination',
  'promised_ms',
  'order_id',
  'tracking_number',
  'service',
  'lines',
  'created_ms',
  'booking_ms',
  'booking_event_id',
  'statuses',
  'status',
  'status_ms',
  'status_event_id',
  'status_reason',
  'status_location',
  'picked_up_ms',
  'out_for_delivery_ms',
  'exception_since_ms',
  'delivered_ms',
  'delivered_event_id',
  'on_time',
  'transit_ms',
  'last_mile_ms',
  'positions_count',
  'last_position_ms',
  'last_lat',
  'last_lon',
  'last_speed_kmh',
  'last_position_event_id',
  'last_position_source',
  'stationary_since_ms',
  'stationary_fixes',
  'delayed',
  'delay_reasons',
  'delay_episodes',
  'first_delayed_ms',
  'updated_seq',
] as const satisfies readonly Exclude<keyof ShipmentRow, 'shipment_id'>[];

function upsertShipments(db: Db, rows: ShipmentRow[]): Promise<unknown> {
  return db
    .insertInto('shipments')
    .values(rows)
    .onConflict((oc) =>
      oc.column('shipment_id').doUpdateSet((eb) => Object.fromEntries(SHIPMENT_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
    )
    .execute();
}

const READING_COLUMNS = [
  'readings',
  'breaching_readings',
  'min_value',
  'max_value',
  'last_ms',
  'last_value',
  'last_unit',
  'last_event_id',
  'last_breaching',
  'run_since_ms',
  'run_last_ms',
  'run_event_id',
  'run_value',
  'run_limit_min',
  'run_limit_max',
  'run_own_threshold',
  'updated_seq',
] as const satisfies readonly (keyof ReadingRow)[];

function upsertReadings(db: Db, rows: ReadingRow[]): Promise<unknown> {
  return db
    .insertInto('shipment_conditions')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['shipment_id', 'kind']).doUpdateSet((eb) => Object.fromEntries(READING_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
    )
    .execute();
}
