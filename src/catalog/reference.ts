/** Warehouses, carriers and lanes in their tables: reads for other domains, writes for imports. */
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/index.ts';
import type { ApiRecord } from './fields.ts';
import { chunks, parseJsonObject } from './products.ts';
import type { Carrier, Lane, Warehouse } from './types.ts';

type Db = Kysely<Database>;
const iso = (ms: number) => new Date(ms).toISOString();
const opt = <T>(v: T | null): T | undefined => v ?? undefined;

function toWarehouse(r: Selectable<Database['warehouses']>): Warehouse {
  return {
    id: r.id,
    name: r.name,
    region: opt(r.region),
    country: opt(r.country),
    lat: opt(r.lat),
    lon: opt(r.lon),
    timezone: opt(r.timezone),
    cutoffTime: opt(r.cutoff_time),
    handlingHours: opt(r.handling_hours),
    attributes: parseJsonObject(r.attributes),
    createdAt: r.created_ms,
    updatedAt: r.updated_ms,
  };
}

function toCarrier(r: Selectable<Database['carriers']>): Carrier {
  return {
    id: r.id,
    name: r.name,
    trackingUrl: opt(r.tracking_url),
    attributes: parseJsonObject(r.attributes),
    createdAt: r.created_ms,
    updatedAt: r.updated_ms,
  };
}

function toLane(r: Selectable<Database['lanes']>): Lane {
  return {
    carrierId: r.carrier_id,
    origin: r.origin,
    destination: r.destination,
    transitHoursP50: opt(r.transit_hours_p50),
    transitHoursP90: opt(r.transit_hours_p90),
    cost: opt(r.cost),
    currency: opt(r.currency),
    attributes: parseJsonObject(r.attributes),
    createdAt: r.created_ms,
    updatedAt: r.updated_ms,
  };
}

export async function getWarehouse(db: Db, id: string): Promise<Warehouse | undefined> {
  const r = await db.selectFrom('warehouses').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toWarehouse(r);
}

/** Every warehouse, by id (reference lists are small). */
export async function listWarehouses(db: Db): Promise<Warehouse[]> {
  return (await db.selectFrom('warehouses').selectAll().orderBy('id').execute()).map(toWarehouse);
}

export async function getCarrier(db: Db, id: string): Promise<Carrier | undefined> {
  const r = await db.selectFrom('carriers').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toCarrier(r);
}

export async function listCarriers(db: Db): Promise<Carrier[]> {
  return (await db.selectFrom('carriers').selectAll().orderBy('id').execute()).map(toCarrier);
}

/** The lane, matched exactly on carrier id, origin and destination. */
export async function getLane(db: Db, carrierId: string, origin: string, destination: string): Promise<Lane | undefined> {
  const r = await db
    .selectFrom('lanes')
    .selectAll()
    .where('carrier_id', '=', carrierId)
    .where('origin', '=', origin)
    .where('destination', '=', destination)
    .executeTakeFirst();
  return r && toLane(r);
}

export interface LaneQuery {
  carrierId?: string | undefined;
  origin?: string | undefined;
  destination?: string | undefined;
}

/** Lanes matching every given filter, ordered by carrier, origin, destination. */
export async function listLanes(db: Db, q: LaneQuery = {}): Promise<Lane[]> {
  const rows = await db
    .selectFrom('lanes')
    .selectAll()
    .$if(q.carrierId !== undefined, (b) => b.where('carrier_id', '=', q.carrierId as string))
    .$if(q.origin !== undefined, (b) => b.where('origin', '=', q.origin as string))
    .$if(q.destination !== undefined, (b) => b.where('destination', '=', q.destination as string))
    .orderBy('carrier_id')
    .orderBy('origin')
    .orderBy('destination')
    .execute();
  return rows.map(toLane);
}

export async function deleteWarehouse(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom('warehouses').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes a carrier and its lanes; false when there was no such carrier. */
export async function deleteCarrier(db: Db, id: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await tx.deleteFrom('lanes').where('carrier_id', '=', id).execute();
    const r = await tx.deleteFrom('carriers').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  });
}

export async function deleteLane(db: Db, carrierId: string, origin: string, destination: string): Promise<boolean> {
  const r = await db
    .deleteFrom('lanes')
    .where('carrier_id', '=', carrierId)
    .where('origin', '=', origin)
    .where('destination', '=', destination)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ── API shape ────────────────────────────────────────────────────────────────────────

export function warehouseToApi(w: Warehouse): ApiRecord {
  return {
    id: w.id,
    name: w.name,
    region: w.region ?? null,
    country: w.country ?? null,
    lat: w.lat ?? null,
    lon: w.lon ?? null,
    timezone: w.timezone ?? null,
    cutoff_time: w.cutoffTime ?? null,
    handling_hours: w.handlingHours ?? null,
    attributes: w.attributes,
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

export function carrierToApi(c: Carrier): ApiRecord {
  return {
    id: c.id,
    name: c.name,
    tracking_url: c.trackingUrl ?? null,
    attributes: c.attributes,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
  };
}

export function laneToApi(l: Lane): ApiRecord {
  return {
    carrier_id: l.carrierId,
    origin: l.origin,
    destination: l.destination,
    transit_hours_p50: l.transitHoursP50 ?? null,
    transit_hours_p90: l.transitHoursP90 ?? null,
    cost: l.cost ?? null,
    currency: l.currency ?? null,
    attributes: l.attributes,
    created_at: iso(l.createdAt),
    updated_at: iso(l.updatedAt),
  };
}

const withoutTimes = ({ created_at: _c, updated_at: _u, ...rest }: ApiRecord): ApiRecord => rest;

// ── the import side (records were checked against the specs in specs.ts, so the casts hold) ──

export async function loadWarehouseRecords(db: Db, ids: readonly string[]): Promise<Map<string, ApiRecord>> {
  const out = new Map<string, ApiRecord>();
  for (const part of chunks(ids)) {
    const rows = await db.selectFrom('warehouses').selectAll().where('id', 'in', part).execute();
    for (const r of rows) out.set(r.id, withoutTimes(warehouseToApi(toWarehouse(r))));
  }
  return out;
}

export async function writeWarehouseRecords(db: Db, nowMs: number, records: readonly ApiRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({
    id: r.id as string,
    name: r.name as string,
    region: r.region as string | null,
    country: r.country as string | null,
    lat: r.lat as number | null,
    lon: r.lon as number | null,
    timezone: r.timezone as string | null,
    cutoff_time: r.cutoff_time as string | null,
    handling_hours: r.handling_hours as number | null,
    attributes: JSON.stringify(r.attributes),
    created_ms: nowMs,
    updated_ms: nowMs,
  }));
  await db
    .insertInto('warehouses')
    .values(rows)
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        region: eb.ref('excluded.region'),
        country: eb.ref('excluded.country'),
        lat: eb.ref('excluded.lat'),
        lon: eb.ref('excluded.lon'),
        timezone: eb.ref('excluded.timezone'),
        cutoff_time: eb.ref('excluded.cutoff_time'),
        handling_hours: eb.ref('excluded.handling_hours'),
        attributes: eb.ref('excluded.attributes'),
        updated_ms: eb.ref('excluded.updated_ms'),
      })),
    )
    .execute();
}

export async function loadCarrierRecords(db: Db, ids: readonly string[]): Promise<Map<string, ApiRecord>> {
  const out = new Map<string, ApiRecord>();
  for (const part of chunks(ids)) {
    const rows = await db.selectFrom('carriers').selectAll().where('id', 'in', part).execute();
    for (const r of rows) out.set(r.id, withoutTimes(carrierToApi(toCarrier(r))));
  }
  return out;
}

export async function writeCarrierRecords(db: Db, nowMs: number, records: readonly ApiRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({
    id: r.id as string,
    name: r.name as string,
    tracking_url: r.tracking_url as string | null,
    attributes: JSON.stringify(r.attributes),
    created_ms: nowMs,
    updated_ms: nowMs,
  }));
  await db
    .insertInto('carriers')
    .values(rows)
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        tracking_url: eb.ref('excluded.tracking_url'),
        attributes: eb.ref('excluded.attributes'),
        updated_ms: eb.ref('excluded.updated_ms'),
      })),
    )
    .execute();
}

/** The key an import uses for a lane: its three parts joined by a control character (which no part may hold). */
export const laneKey = (carrierId: string, origin: string, destination: string) => `${carrierId}\u0001${origin}\u0001${destination}`;

export async function loadLaneRecords(db: Db, keys: readonly string[]): Promise<Map<string, ApiRecord>> {
  const out = new Map<string, ApiRecord>();
  const carriers = [...new Set(keys.map((k) => k.split('\u0001')[0] as string))];
  const wanted = new Set(keys);
  // Lanes per carrier are few: read each carrier's lanes and keep the ones asked for.
  for (const part of chunks(carriers)) {
    const rows = await db.selectFrom('lanes').selectAll().where('carrier_id', 'in', part).execute();
    for (const r of rows) {
      const k = laneKey(r.carrier_id, r.origin, r.destination);
      if (wanted.has(k)) out.set(k, withoutTimes(laneToApi(toLane(r))));
    }
  }
  return out;
}

export async function writeLaneRecords(db: Db, nowMs: number, records: readonly ApiRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({
    carrier_id: r.carrier_id as string,
    origin: r.origin as string,
    destination: r.destination as string,
    transit_hours_p50: r.transit_hours_p50 as number | null,
    transit_hours_p90: r.transit_hours_p90 as number | null,
    cost: r.cost as number | null,
    currency: r.currency as string | null,
    attributes: JSON.stringify(r.attributes),
    created_ms: nowMs,
    updated_ms: nowMs,
  }));
  await db
    .insertInto('lanes')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['carrier_id', 'origin', 'destination']).doUpdateSet((eb) => ({
        transit_hours_p50: eb.ref('excluded.transit_hours_p50'),
        transit_hours_p90: eb.ref('excluded.transit_hours_p90'),
        cost: eb.ref('excluded.cost'),
        currency: eb.ref('excluded.currency'),
        attributes: eb.ref('excluded.attributes'),
        updated_ms: eb.ref('excluded.updated_ms'),
      })),
    )
    .execute();
}

/** Which of these carrier ids exist. */
export async function existingCarrierIds(db: Db, ids: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const part of chunks([...new Set(ids)])) {
    for (const r of await db.selectFrom('carriers').select('id').where('id', 'in', part).execute()) out.add(r.id);
  }
  return out;
}
