/**
 * Folding `shipment.*` events into one shipment. Pure; the projection (projection.ts) does the I/O.
 *
 * Rules (event time, not arrival; every field is a function of the *set* of events folded, so
 * any arrival order gives the same shipment — tested with fast-check):
 * - **Booking** (`shipment.created`): carrier, origin, destination (the lane), promised time and
 *   the order details come from the created event with the latest `(time, id)`; `createdMs` is the
 *   earliest created time (the start of the transit time).
 * - **Status**: every `shipment.status` event is kept (`statuses`, deduped by id). The status is
 *   the latest by `(time, lifecycle rank, id)` among them, `label_created` at the created time and
 *   `delivered` at the delivered time, so an older status arriving late never overwrites a newer one.
 *   `exceptionSinceMs` is the first time of the trailing run of `exception` (or carrier `delayed`)
 *   statuses; `outForDeliveryMs` the latest out-for-delivery before delivery; `pickedUpMs` the first pick-up.
 * - **Delivery**: the earliest `shipment.delivered` time; a duplicate changes nothing. Transit time
 *   = delivered − created; on time = delivered ≤ promised; last mile = delivered − out for delivery.
 * - **Position**: the latest fix by `(time, id)`; `positionsCount` counts fix events folded. The
 *   stationary run is computed by the projection from all fixes (see projection.ts).
 * - **Delay decisions** (`shipment.delayed`, the detector's own events): the reasons seen, the
 *   episode keys reported per reason, the first delay time. `delayed` = flagged and not delivered.
 */
import { eventTimeMs } from '../../detect/index.ts';
import type { LoggedEvent } from '../../log/index.ts';

export const SHIPMENT_EVENT_TYPES = [
  'shipment.created',
  'shipment.position',
  'shipment.status',
  'shipment.condition',
  'shipment.delivered',
] as const;

/** Lifecycle rank: breaks ties between statuses with the same event time. */
const RANK: Record<string, number> = {
  label_created: 0,
  picked_up: 1,
  in_transit: 2,
  at_hub: 3,
  delayed: 4,
  exception: 5,
  out_for_delivery: 6,
  returned: 7,
  delivered: 8,
};

/** Statuses of a shipment on its way (stall detection applies). */
export const MOVING_STATUSES: ReadonlySet<string> = new Set(['picked_up', 'in_transit', 'at_hub', 'out_for_delivery', 'delayed']);
/** Statuses that are a delay in themselves, with the `shipment.delayed` reason each gives. */
export const EXCEPTION_REASONS: Readonly<Record<string, DelayReason>> = { exception: 'exception', delayed: 'carrier_delayed' };

export type DelayReason = 'exception' | 'carrier_delayed' | 'late_prediction' | 'stalled';

export interface StatusEntry {
  status: string;
  t: number;
  id: string;
  reason?: string | undefined;
  location?: string | undefined;
}

export interface Position {
  timeMs: number;
  lat: number;
  lon: number;
  speedKmh: number | undefined;
  eventId: string;
  /** `deviceid` of the event, else its `source`: what the quality gate judges. */
  source: string;
}

export interface ShipmentLine {
  sku: string;
  quantity: number;
}

export interface Shipment {
  shipmentId: string;
  carrier: string | undefined;
  origin: string | undefined;
  destination: string | undefined;
  promisedMs: number | undefined;
  orderId: string | undefined;
  trackingNumber: string | undefined;
  service: string | undefined;
  lines: ShipmentLine[] | undefined;
  createdMs: number | undefined;
  bookingMs: number | undefined;
  bookingEventId: string | undefined;
  statuses: StatusEntry[];
  /** A catalogue status, `delivered`, or `unknown` before any created/status/delivered event. */
  status: string;
  statusMs: number | undefined;
  statusEventId: string | undefined;
  statusReason: string | undefined;
  statusLocation: string | undefined;
  pickedUpMs: number | undefined;
  outForDeliveryMs: number | undefined;
  exceptionSinceMs: number | undefined;
  deliveredMs: number | undefined;
  deliveredEventId: string | undefined;
  onTime: boolean | undefined;
  transitMs: number | undefined;
  lastMileMs: number | undefined;
  positionsCount: number;
  lastPosition: Position | undefined;
  stationarySinceMs: number | undefined;
  stationaryFixes: number;
  delayed: boolean;
  delayReasons: DelayReason[];
  /** Per reason, the episode keys already reported (see delayed.ts). */
  delayEpisodes: Partial<Record<DelayReason, number[]>>;
  firstDelayedMs: number | undefined;
  updatedSeq: number;
}

export function emptyShipment(shipmentId: string, seq: number): Shipment {
  return {
    shipmentId,
    carrier: undefined,
    origin: undefined,
    destination: undefined,
    promisedMs: undefined,
    orderId: undefined,
    trackingNumber: undefined,
    service: undefined,
    lines: undefined,
    createdMs: undefined,
    bookingMs: undefined,
    bookingEventId: undefined,
    statuses: [],
    status: 'unknown',
    statusMs: undefined,
    statusEventId: undefined,
    statusReason: undefined,
    statusLocation: undefined,
    pickedUpMs: undefined,
    outForDeliveryMs: undefined,
    exceptionSinceMs: undefined,
    deliveredMs: undefined,
    deliveredEventId: undefined,
    onTime: undefined,
    transitMs: undefined,
    lastMileMs: undefined,
    positionsCount: 0,
    lastPosition: undefined,
    stationarySinceMs: undefined,
    stationaryFixes: 0,
    delayed: false,
    delayReasons: [],
    delayEpisodes: {},
    firstDelayedMs: undefined,
    updatedSeq: seq,
  };
}

export function dataRecord(le: LoggedEvent): Record<string, unknown> {
  const d = le.event.data;
  return d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
}

export function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The shipment an event is about: `data.shipment_id`. */
export function shipmentIdOf(le: LoggedEvent): string | undefined {
  return text(dataRecord(le).shipment_id);
}

/** The key the quality gate judges for an event: its `deviceid`, else its `source`. */
export function sourceKeyOf(le: LoggedEvent): string {
  return text(le.event.deviceid) ?? le.event.source;
}

/** `(t, id)` after `(t2, id2)`. */
function newer(t: number, id: string, t2: number | undefined, id2: string | undefined): boolean {
  return t2 === undefined || t > t2 || (t === t2 && id > (id2 ?? ''));
}

function minOf(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

/** One event applied to a shipment (or a new one); pure. Condition readings only touch `updatedSeq`. */
export function foldShipment(before: Shipment | undefined, shipmentId: string, le: LoggedEvent): Shipment {
  const s: Shipment = before
    ? { ...before, statuses: [...before.statuses], delayReasons: [...before.delayReasons], delayEpisodes: { ...before.delayEpisodes } }
    : emptyShipment(shipmentId, le.seq);
  const e = le.event;
  const d = dataRecord(le);
  const t = eventTimeMs(e);
  switch (e.type) {
    case 'shipment.created': {
      s.createdMs = minOf(s.createdMs, t);
      if (newer(t, e.id, s.bookingMs, s.bookingEventId)) {
        s.bookingMs = t;
        s.bookingEventId = e.id;
        s.carrier = text(d.carrier);
        s.origin = text(d.origin);
        s.destination = text(d.destination);
        const promised = typeof d.promised_at === 'string' ? Date.parse(d.promised_at) : Number.NaN;
        s.promisedMs = Number.isFinite(promised) ? promised : undefined;
        s.orderId = text(d.order_id);
        s.trackingNumber = text(d.tracking_number);
        s.service = text(d.service);
        s.lines = Array.isArray(d.lines)
          ? d.lines.flatMap((l: unknown) => {
              const o = (l ?? {}) as Record<string, unknown>;
              const sku = text(o.sku);
              return sku === undefined ? [] : [{ sku, quantity: num(o.quantity) ?? 1 }];
            })
          : undefined;
      }
      break;
    }
    case 'shipment.status': {
      const status = text(d.status);
      if (status !== undefined && !s.statuses.some((x) => x.id === e.id)) {
        s.statuses.push({ status, t, id: e.id, reason: text(d.reason), location: text(d.location) });
        s.statuses.sort(byTime);
      }
      break;
    }
    case 'shipment.delivered':
      if (s.deliveredMs === undefined || t < s.deliveredMs || (t === s.deliveredMs && e.id < (s.deliveredEventId ?? ''))) {
        s.deliveredMs = t;
        s.deliveredEventId = e.id;
      }
      break;
    case 'shipment.position': {
      const lat = num(d.lat);
      const lon = num(d.lon);
      if (lat === undefined || lon === undefined) break;
      s.positionsCount += 1;
      if (newer(t, e.id, s.lastPosition?.timeMs, s.lastPosition?.eventId))
        s.lastPosition = { timeMs: t, lat, lon, speedKmh: num(d.speed_kmh), eventId: e.id, source: sourceKeyOf(le) };
      break;
    }
    case 'shipment.delayed': {
      const reason = text(d.reason) as DelayReason | undefined;
      if (reason === undefined) break;
      if (!s.delayReasons.includes(reason)) s.delayReasons.push(reason);
      const key = num(d.episode_key);
      if (key !== undefined) {
        const keys = new Set(s.delayEpisodes[reason] ?? []);
        keys.add(key);
        s.delayEpisodes[reason] = [...keys].sort((a, b) => a - b).slice(-20);
      }
      s.firstDelayedMs = minOf(s.firstDelayedMs, t);
      break;
    }
  }
  s.updatedSeq = le.seq;
  return derive(s);
}

function byTime(a: StatusEntry, b: StatusEntry): number {
  return a.t - b.t || (RANK[a.status] ?? 9) - (RANK[b.status] ?? 9) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Recomputes the fields that follow from the others. */
export function derive(s: Shipment): Shipment {
  const timeline: StatusEntry[] = [...s.statuses];
  if (s.createdMs !== undefined) timeline.push({ status: 'label_created', t: s.createdMs, id: s.bookingEventId ?? '' });
  if (s.deliveredMs !== undefined) timeline.push({ status: 'delivered', t: s.deliveredMs, id: s.deliveredEventId ?? '' });
  timeline.sort(byTime);
  const last = timeline[timeline.length - 1];
  s.status = last?.status ?? 'unknown';
  s.statusMs = last?.t;
  s.statusEventId = last?.id === '' ? undefined : last?.id;
  s.statusReason = last?.reason;
  s.statusLocation = last?.location;

  s.exceptionSinceMs = undefined;
  if (last && EXCEPTION_REASONS[last.status] !== undefined) {
    let i = timeline.length - 1;
    while (i > 0 && timeline[i - 1]?.status === last.status) i--;
    s.exceptionSinceMs = timeline[i]?.t;
  }
  const pickups = s.statuses.filter((x) => x.status === 'picked_up');
  s.pickedUpMs = pickups[0]?.t;
  const delivered = s.deliveredMs;
  const ofd = s.statuses.filter((x) => x.status === 'out_for_delivery' && (delivered === undefined || x.t <= delivered));
  s.outForDeliveryMs = ofd[ofd.length - 1]?.t;

  s.transitMs = delivered !== undefined && s.createdMs !== undefined && delivered >= s.createdMs ? delivered - s.createdMs : undefined;
  s.onTime = delivered !== undefined && s.promisedMs !== undefined ? delivered <= s.promisedMs : undefined;
  s.lastMileMs = delivered !== undefined && s.outForDeliveryMs !== undefined ? delivered - s.outForDeliveryMs : undefined;
  s.delayed = s.delayReasons.length > 0 && delivered === undefined;
  return s;
}
