/**
 * Shipments: one shipment with its predicted delivery window, lists by status / carrier / delay,
 * and carrier × lane reliability. Predictions are made at request time on the server's clock.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/index.ts';
import {
  getShipment,
  type LaneReliability,
  laneReliability,
  listReliability,
  listShipments,
  predictShipment,
  type Shipment,
  type ShipmentPrediction,
  type ShipmentState,
} from '../../state/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const STATUSES = [
  'unknown',
  'label_created',
  'picked_up',
  'in_transit',
  'at_hub',
  'out_for_delivery',
  'delayed',
  'exception',
  'returned',
  'delivered',
] as const;
const HOUR = 3_600_000;

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const hours = (ms: number | undefined) => (ms === undefined ? null : Math.round((ms / HOUR) * 100) / 100);

function summaryWire(s: Shipment) {
  return {
    shipment_id: s.shipmentId,
    carrier: orNull(s.carrier),
    origin: orNull(s.origin),
    destination: orNull(s.destination),
    order_id: orNull(s.orderId),
    status: s.status,
    status_at: iso(s.statusMs),
    promised_at: iso(s.promisedMs),
    delivered_at: iso(s.deliveredMs),
    on_time: orNull(s.onTime),
    delayed: s.delayed,
    delay_reasons: s.delayReasons,
  };
}

function predictionWire(p: ShipmentPrediction) {
  return {
    p50: iso(p.p50Ms),
    p90: iso(p.p90Ms),
    basis: p.basis,
    sample_size: p.sampleSize,
    lane_sample_size: p.laneSampleSize,
    progress: orNull(p.progress),
    stop_shift_hours: hours(p.stopShiftMs),
    positions_trusted: orNull(p.positionsTrusted),
  };
}

function reliabilityWire(r: LaneReliability) {
  return {
    carrier: r.carrier,
    origin: r.origin,
    destination: r.destination,
    delivered_count: r.deliveredCount,
    on_time_count: r.onTimeCount,
    on_time_share: Math.round(r.onTimeShare * 10_000) / 10_000,
    transit_p50_hours: orNull(r.transitP50Hours),
    transit_p90_hours: orNull(r.transitP90Hours),
    sample_size: r.sampleSize,
    last_delivered_at: iso(r.lastDeliveredMs),
  };
}

function detailWire(s: ShipmentState, p: ShipmentPrediction, r: LaneReliability | undefined) {
  const pos = s.lastPosition;
  return {
    ...summaryWire(s),
    tracking_number: orNull(s.trackingNumber),
    service: orNull(s.service),
    lines: orNull(s.lines),
    created_at: iso(s.createdMs),
    picked_up_at: iso(s.pickedUpMs),
    out_for_delivery_at: iso(s.outForDeliveryMs),
    status_reason: orNull(s.statusReason),
    status_location: orNull(s.statusLocation),
    statuses: s.statuses.map((x) => ({ status: x.status, at: iso(x.t), reason: orNull(x.reason), location: orNull(x.location) })),
    transit_hours: hours(s.transitMs),
    positions_count: s.positionsCount,
    last_position: pos ? { lat: pos.lat, lon: pos.lon, speed_kmh: orNull(pos.speedKmh), at: iso(pos.timeMs), source: pos.source } : null,
    stationary_since: iso(s.stationarySinceMs),
    first_delayed_at: iso(s.firstDelayedMs),
    breaches: s.breaches.map((b) => ({
      id: b.id,
      kind: b.kind,
      value: orNull(b.value),
      unit: orNull(b.unit),
      limit_min: orNull(b.limitMin),
      limit_max: orNull(b.limitMax),
      reading_at: iso(b.readingMs),
      raised_at: iso(b.raisedMs),
    })),
    prediction: predictionWire(p),
    reliability: r ? reliabilityWire(r) : null,
    position: s.updatedSeq,
  };
}

function limitParam(v: unknown): number {
  if (v === undefined || v === '') return 100;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
  return n;
}

function decodeCursor<T>(s: string, valid: (v: unknown) => v is T): T {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (valid(v)) return v;
  } catch {
    // falls through to the error below
  }
  throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
}
const encodeCursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const isString = (v: unknown): v is string => typeof v === 'string';
const isLane = (v: unknown): v is [string, string, string] => Array.isArray(v) && v.length === 3 && v.every(isString);

export function shipmentsRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/shipments/:id', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const s = await getShipment(d.store.db, id);
    if (!s)
      throw new AppError('PW_SHIPMENT_NOT_FOUND', `no shipment "${id}" (shipments appear once their first event is folded)`, {
        status: 404,
      });
    const prediction = await predictShipment(d.store.db, s, d.clock.now());
    const reliability =
      s.carrier !== undefined && s.origin !== undefined && s.destination !== undefined
        ? await laneReliability(d.store.db, s.carrier, s.origin, s.destination)
        : undefined;
    return detailWire(s, prediction, reliability);
  });

  app.get('/v1/shipments', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = limitParam(q.limit);
    if (q.status !== undefined && !(STATUSES as readonly string[]).includes(q.status))
      throw new AppError('PW_QUERY_INVALID', `status must be one of ${STATUSES.join(', ')}`, { pointer: '/status' });
    if (q.delayed !== undefined && q.delayed !== 'true' && q.delayed !== 'false')
      throw new AppError('PW_QUERY_INVALID', 'delayed must be true or false', { pointer: '/delayed' });
    const shipments = await listShipments(d.store.db, {
      status: q.status || undefined,
      carrier: q.carrier || undefined,
      delayed: q.delayed === undefined ? undefined : q.delayed === 'true',
      after: q.cursor ? decodeCursor(q.cursor, isString) : undefined,
      limit,
    });
    const last = shipments[shipments.length - 1];
    return {
      shipments: shipments.map(summaryWire),
      next_cursor: shipments.length === limit && last ? encodeCursor(last.shipmentId) : null,
    };
  });

  app.get('/v1/reliability', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = limitParam(q.limit);
    const lanes = await listReliability(d.store.db, {
      carrier: q.carrier || undefined,
      origin: q.origin || undefined,
      destination: q.destination || undefined,
      after: q.cursor ? decodeCursor(q.cursor, isLane) : undefined,
      limit,
    });
    const last = lanes[lanes.length - 1];
    return {
      lanes: lanes.map(reliabilityWire),
      next_cursor: lanes.length === limit && last ? encodeCursor([last.carrier, last.origin, last.destination]) : null,
    };
  });
}
