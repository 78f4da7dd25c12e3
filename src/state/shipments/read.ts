/** Reads over the shipments tables: one shipment, lists, lane statistics and reliability. */
import type { Db } from '../../detect/index.ts';
import type { Shipment } from './fold.ts';
import { quantile } from './quantiles.ts';
import { fromShipmentRow } from './rows.ts';

/** A `shipment.condition_breach` the detector reported (folded from the log). */
export interface Breach {
  id: string;
  kind: string;
  value: number | undefined;
  unit: string | undefined;
  limitMin: number | undefined;
  limitMax: number | undefined;
  readingMs: number | undefined;
  readingEventId: string | undefined;
  raisedMs: number;
}

export interface ShipmentState extends Shipment {
  /** Breaches reported, by the time of the reading that opened them. */
  breaches: Breach[];
}

/** The raw statistics of a carrier × lane (the last N delivered shipments; hours, newest first). */
export interface LaneStats {
  carrier: string;
  origin: string;
  destination: string;
  deliveredCount: number;
  onTimeCount: number;
  transitHours: number[];
  lastMileHours: number[];
  lastDeliveredMs: number | undefined;
}

/** Reliability of a carrier × lane: the share of delivered shipments delivered by their promise. */
export interface LaneReliability {
  carrier: string;
  origin: string;
  destination: string;
  deliveredCount: number;
  onTimeCount: number;
  /** onTimeCount / deliveredCount. */
  onTimeShare: number;
  /** Transit-time quantiles over the last N delivered shipments (`sampleSize` of them). */
  transitP50Hours: number | undefined;
  transitP90Hours: number | undefined;
  sampleSize: number;
  lastDeliveredMs: number | undefined;
}

export async function getShipment(db: Db, shipmentId: string): Promise<ShipmentState | undefined> {
  const row = await db.selectFrom('shipments').selectAll().where('shipment_id', '=', shipmentId).executeTakeFirst();
  if (!row) return undefined;
  const breaches = await db
    .selectFrom('shipment_breaches')
    .selectAll()
    .where('shipment_id', '=', shipmentId)
    .orderBy('reading_ms')
    .orderBy('raised_ms')
    .orderBy('id')
    .execute();
  return {
    ...fromShipmentRow(row),
    breaches: breaches.map((b) => ({
      id: b.id,
      kind: b.kind,
      value: b.value ?? undefined,
      unit: b.unit ?? undefined,
      limitMin: b.limit_min ?? undefined,
      limitMax: b.limit_max ?? undefined,
      readingMs: b.reading_ms === null ? undefined : Number(b.reading_ms),
      readingEventId: b.reading_event_id ?? undefined,
      raisedMs: Number(b.raised_ms),
    })),
  };
}

export interface ShipmentQuery {
  status?: string | undefined;
  carrier?: string | undefined;
  /** True: flagged delayed and not delivered; false: the others. */
  delayed?: boolean | undefined;
  /** Continue after this shipment id (ids ascending). */
  after?: string | undefined;
  limit: number;
}

export async function listShipments(db: Db, q: ShipmentQuery): Promise<Shipment[]> {
  const rows = await db
    .selectFrom('shipments')
    .selectAll()
    .$if(q.status !== undefined, (x) => x.where('status', '=', q.status as string))
    .$if(q.carrier !== undefined, (x) => x.where('carrier', '=', q.carrier as string))
    .$if(q.delayed !== undefined, (x) => x.where('delayed', '=', q.delayed ? 1 : 0))
    .$if(q.after !== undefined, (x) => x.where('shipment_id', '>', q.after as string))
    .orderBy('shipment_id')
    .limit(q.limit)
    .execute();
  return rows.map(fromShipmentRow);
}

export async function getLaneStats(db: Db, carrier: string, origin: string, destination: string): Promise<LaneStats | undefined> {
  const r = await db
    .selectFrom('shipment_lanes')
    .selectAll()
    .where('carrier', '=', carrier)
    .where('origin', '=', origin)
    .where('destination', '=', destination)
    .executeTakeFirst();
  return r ? laneStatsOf(r) : undefined;
}

function laneStatsOf(r: {
  carrier: string;
  origin: string;
  destination: string;
  delivered_count: number;
  on_time_count: number;
  transit_hours: string;
  last_mile_hours: string;
  last_delivered_ms: number | null;
}): LaneStats {
  return {
    carrier: r.carrier,
    origin: r.origin,
    destination: r.destination,
    deliveredCount: r.delivered_count,
    onTimeCount: r.on_time_count,
    transitHours: JSON.parse(r.transit_hours) as number[],
    lastMileHours: JSON.parse(r.last_mile_hours) as number[],
    lastDeliveredMs: r.last_delivered_ms === null ? undefined : Number(r.last_delivered_ms),
  };
}

export function reliabilityOf(s: LaneStats): LaneReliability {
  const round = (h: number | undefined) => (h === undefined ? undefined : Math.round(h * 100) / 100);
  return {
    carrier: s.carrier,
    origin: s.origin,
    destination: s.destination,
    deliveredCount: s.deliveredCount,
    onTimeCount: s.onTimeCount,
    onTimeShare: s.deliveredCount === 0 ? 0 : s.onTimeCount / s.deliveredCount,
    transitP50Hours: round(quantile(s.transitHours, 0.5)),
    transitP90Hours: round(quantile(s.transitHours, 0.9)),
    sampleSize: s.transitHours.length,
    lastDeliveredMs: s.lastDeliveredMs,
  };
}

/** Reliability of one carrier × lane; undefined until a shipment on it was delivered. */
export async function laneReliability(db: Db, carrier: string, origin: string, destination: string): Promise<LaneReliability | undefined> {
  const s = await getLaneStats(db, carrier, origin, destination);
  return s ? reliabilityOf(s) : undefined;
}

export interface ReliabilityQuery {
  carrier?: string | undefined;
  origin?: string | undefined;
  destination?: string | undefined;
  /** Continue after this (carrier, origin, destination). */
  after?: readonly [string, string, string] | undefined;
  limit: number;
}

/** Lanes with delivered shipments, ordered by carrier, origin, destination. */
export async function listReliability(db: Db, q: ReliabilityQuery): Promise<LaneReliability[]> {
  const after = q.after;
  const rows = await db
    .selectFrom('shipment_lanes')
    .selectAll()
    .$if(q.carrier !== undefined, (x) => x.where('carrier', '=', q.carrier as string))
    .$if(q.origin !== undefined, (x) => x.where('origin', '=', q.origin as string))
    .$if(q.destination !== undefined, (x) => x.where('destination', '=', q.destination as string))
    .$if(after !== undefined, (x) =>
      x.where((eb) => {
        const [c, o, d] = after as readonly [string, string, string];
        return eb.or([
          eb('carrier', '>', c),
          eb.and([eb('carrier', '=', c), eb('origin', '>', o)]),
          eb.and([eb('carrier', '=', c), eb('origin', '=', o), eb('destination', '>', d)]),
        ]);
      }),
    )
    .orderBy('carrier')
    .orderBy('origin')
    .orderBy('destination')
    .limit(q.limit)
    .execute();
  return rows.map((r) => reliabilityOf(laneStatsOf(r)));
}
