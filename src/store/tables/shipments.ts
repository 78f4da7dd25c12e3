/** Table shapes for shipments, transit times, carrier-lane reliability (src/state/shipments). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/**
 * One row per shipment, folded from `shipment.*` events (rules in src/state/shipments/fold.ts).
 * `statuses` is JSON `[{ status, t, id, reason?, location? }]` (every status event, by time);
 * `lines` JSON `[{ sku, quantity }]`; `delay_reasons` JSON `string[]`; `delay_episodes` JSON
 * `{ <reason>: number }` (the episode key each reason was last reported for). Booleans are 0/1.
 */
export interface ShipmentsTable {
  shipment_id: string;
  carrier: string | null;
  origin: string | null;
  destination: string | null;
  promised_ms: Int64 | null;
  order_id: string | null;
  tracking_number: string | null;
  service: string | null;
  lines: string | null;
  /** Earliest `shipment.created` event time: the start of the transit time. */
  created_ms: Int64 | null;
  /** Event time and id of the `shipment.created` whose details are kept (the latest). */
  booking_ms: Int64 | null;
  booking_event_id: string | null;
  statuses: string;
  status: string;
  status_ms: Int64 | null;
  status_event_id: string | null;
  status_reason: string | null;
  status_location: string | null;
  picked_up_ms: Int64 | null;
  out_for_delivery_ms: Int64 | null;
  /** First status time of the trailing run of `exception` / `delayed` statuses. */
  exception_since_ms: Int64 | null;
  delivered_ms: Int64 | null;
  delivered_event_id: string | null;
  on_time: number | null;
  transit_ms: Int64 | null;
  last_mile_ms: Int64 | null;
  positions_count: number;
  last_position_ms: Int64 | null;
  last_lat: number | null;
  last_lon: number | null;
  last_speed_kmh: number | null;
  last_position_event_id: string | null;
  last_position_source: string | null;
  /** Time of the first fix of the trailing run of fixes (same source) within the stall radius of the latest. */
  stationary_since_ms: Int64 | null;
  stationary_fixes: number;
  delayed: number;
  delay_reasons: string;
  delay_episodes: string;
  first_delayed_ms: Int64 | null;
  updated_seq: Int64;
}

/** Every position fix, for the stationary run (order-independent) and the positions count. */
export interface ShipmentPositionsTable {
  shipment_id: string;
  time_ms: Int64;
  event_id: string;
  /** The event's `deviceid`, else its `source`: the key the quality gate judges. */
  source: string;
  lat: number;
  lon: number;
  speed_kmh: number | null;
}

/** Condition readings per shipment and kind: the latest reading and the open breach run. */
export interface ShipmentConditionsTable {
  shipment_id: string;
  kind: string;
  readings: number;
  breaching_readings: number;
  min_value: number | null;
  max_value: number | null;
  last_ms: Int64;
  last_value: number;
  last_unit: string | null;
  last_event_id: string;
  last_breaching: number;
  run_since_ms: Int64 | null;
  run_last_ms: Int64 | null;
  run_event_id: string | null;
  run_value: number | null;
  run_limit_min: number | null;
  run_limit_max: number | null;
  /** 1 when the run's limit came from the reading's own `threshold`, 0 from configuration. */
  run_own_threshold: number | null;
  updated_seq: Int64;
}

/** One row per `shipment.condition_breach` folded (the detector's decisions, rebuildable). */
export interface ShipmentBreachesTable {
  id: string;
  shipment_id: string;
  kind: string;
  value: number | null;
  unit: string | null;
  limit_min: number | null;
  limit_max: number | null;
  reading_ms: Int64 | null;
  reading_event_id: string | null;
  raised_ms: Int64;
}

/**
 * Per carrier × lane, recomputed from `shipments` for the lanes a batch touched: counts over all
 * delivered shipments, and the transit / last-mile hours of the last N (JSON `number[]`, newest first).
 */
export interface ShipmentLanesTable {
  carrier: string;
  origin: string;
  destination: string;
  delivered_count: number;
  on_time_count: number;
  transit_hours: string;
  last_mile_hours: string;
  last_delivered_ms: Int64 | null;
}

export interface ShipmentTables {
  shipments: ShipmentsTable;
  shipment_positions: ShipmentPositionsTable;
  shipment_conditions: ShipmentConditionsTable;
  shipment_breaches: ShipmentBreachesTable;
  shipment_lanes: ShipmentLanesTable;
}
