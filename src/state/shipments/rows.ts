/** Shipment and condition-reading state ⇄ table rows. */
import type { Selectable } from 'kysely';
import type { Database } from '../../store/index.ts';
import type { DelayReason, Shipment, ShipmentLine, StatusEntry } from './fold.ts';
import type { ReadingState } from './readings.ts';

export type ShipmentRow = Selectable<Database['shipments']>;

const n = (v: number | bigint | null): number | undefined => (v === null ? undefined : Number(v));
const s = (v: string | null): string | undefined => v ?? undefined;

export function toShipmentRow(x: Shipment): ShipmentRow {
  return {
    shipment_id: x.shipmentId,
    carrier: x.carrier ?? null,
    origin: x.origin ?? null,
    destination: x.destination ?? null,
    promised_ms: x.promisedMs ?? null,
    order_id: x.orderId ?? null,
    tracking_number: x.trackingNumber ?? null,
    service: x.service ?? null,
    lines: x.lines === undefined ? null : JSON.stringify(x.lines),
    created_ms: x.createdMs ?? null,
    booking_ms: x.bookingMs ?? null,
    booking_event_id: x.bookingEventId ?? null,
    statuses: JSON.stringify(x.statuses),
    status: x.status,
    status_ms: x.statusMs ?? null,
    status_event_id: x.statusEventId ?? null,
    status_reason: x.statusReason ?? null,
    status_location: x.statusLocation ?? null,
    picked_up_ms: x.pickedUpMs ?? null,
    out_for_delivery_ms: x.outForDeliveryMs ?? null,
    exception_since_ms: x.exceptionSinceMs ?? null,
    delivered_ms: x.deliveredMs ?? null,
    delivered_event_id: x.deliveredEventId ?? null,
    on_time: x.onTime === undefined ? null : x.onTime ? 1 : 0,
    transit_ms: x.transitMs ?? null,
    last_mile_ms: x.lastMileMs ?? null,
    positions_count: x.positionsCount,
    last_position_ms: x.lastPosition?.timeMs ?? null,
    last_lat: x.lastPosition?.lat ?? null,
    last_lon: x.lastPosition?.lon ?? null,
    last_speed_kmh: x.lastPosition?.speedKmh ?? null,
    last_position_event_id: x.lastPosition?.eventId ?? null,
    last_position_source: x.lastPosition?.source ?? null,
    stationary_since_ms: x.stationarySinceMs ?? null,
    stationary_fixes: x.stationaryFixes,
    delayed: x.delayed ? 1 : 0,
    delay_reasons: JSON.stringify(x.delayReasons),
    delay_episodes: JSON.stringify(x.delayEpisodes),
    first_delayed_ms: x.firstDelayedMs ?? null,
    updated_seq: x.updatedSeq,
  };
}

export function fromShipmentRow(r: ShipmentRow): Shipment {
  const lastMs = n(r.last_position_ms);
  return {
    shipmentId: r.shipment_id,
    carrier: s(r.carrier),
    origin: s(r.origin),
    destination: s(r.destination),
    promisedMs: n(r.promised_ms),
    orderId: s(r.order_id),
    trackingNumber: s(r.tracking_number),
    service: s(r.service),
    lines: r.lines === null ? undefined : (JSON.parse(r.lines) as ShipmentLine[]),
    createdMs: n(r.created_ms),
    bookingMs: n(r.booking_ms),
    bookingEventId: s(r.booking_event_id),
    statuses: JSON.parse(r.statuses) as StatusEntry[],
    status: r.status,
    statusMs: n(r.status_ms),
    statusEventId: s(r.status_event_id),
    statusReason: s(r.status_reason),
    statusLocation: s(r.status_location),
    pickedUpMs: n(r.picked_up_ms),
    outForDeliveryMs: n(r.out_for_delivery_ms),
    exceptionSinceMs: n(r.exception_since_ms),
    deliveredMs: n(r.delivered_ms),
    deliveredEventId: s(r.delivered_event_id),
    onTime: r.on_time === null ? undefined : r.on_time === 1,
    transitMs: n(r.transit_ms),
    lastMileMs: n(r.last_mile_ms),
    positionsCount: r.positions_count,
    lastPosition:
      lastMs === undefined || r.last_lat === null || r.last_lon === null
        ? undefined
        : {
            timeMs: lastMs,
            lat: r.last_lat,
            lon: r.last_lon,
            speedKmh: r.last_speed_kmh ?? undefined,
            eventId: r.last_position_event_id ?? '',
            source: r.last_position_source ?? '',
          },
    stationarySinceMs: n(r.stationary_since_ms),
    stationaryFixes: r.stationary_fixes,
    delayed: r.delayed === 1,
    delayReasons: JSON.parse(r.delay_reasons) as DelayReason[],
    delayEpisodes: JSON.parse(r.delay_episodes) as Shipment['delayEpisodes'],
    firstDelayedMs: n(r.first_delayed_ms),
    updatedSeq: Number(r.updated_seq),
  };
}

export type ReadingRow = Selectable<Database['shipment_conditions']>;

export function toReadingRow(r: ReadingState): ReadingRow {
  return {
    shipment_id: r.shipmentId,
    kind: r.kind,
    readings: r.readings,
    breaching_readings: r.breachingReadings,
    min_value: r.minValue ?? null,
    max_value: r.maxValue ?? null,
    last_ms: r.lastMs,
    last_value: r.lastValue,
    last_unit: r.lastUnit ?? null,
    last_event_id: r.lastEventId,
    last_breaching: r.lastBreaching ? 1 : 0,
    run_since_ms: r.run?.sinceMs ?? null,
    run_last_ms: r.run?.lastMs ?? null,
    run_event_id: r.run?.eventId ?? null,
    run_value: r.run?.value ?? null,
    run_limit_min: r.run?.limit.min ?? null,
    run_limit_max: r.run?.limit.max ?? null,
    run_own_threshold: r.run === undefined ? null : r.run.ownThreshold ? 1 : 0,
    updated_seq: r.updatedSeq,
  };
}

export function fromReadingRow(r: Selectable<ReadingRow>): ReadingState {
  const since = r.run_since_ms === null ? undefined : Number(r.run_since_ms);
  return {
    shipmentId: r.shipment_id,
    kind: r.kind,
    readings: r.readings,
    breachingReadings: r.breaching_readings,
    minValue: r.min_value ?? undefined,
    maxValue: r.max_value ?? undefined,
    lastMs: Number(r.last_ms),
    lastValue: r.last_value,
    lastUnit: r.last_unit ?? undefined,
    lastEventId: r.last_event_id,
    lastBreaching: r.last_breaching === 1,
    run:
      since === undefined
        ? undefined
        : {
            sinceMs: since,
            lastMs: Number(r.run_last_ms ?? since),
            eventId: r.run_event_id ?? '',
            value: r.run_value ?? 0,
            limit: { min: r.run_limit_min ?? undefined, max: r.run_limit_max ?? undefined },
            ownThreshold: r.run_own_threshold === 1,
          },
    updatedSeq: Number(r.updated_seq),
  };
}
