/** Table shapes for stock and vehicles / connected parts (src/state/assets). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/** Stock of one SKU in one warehouse, recomputed from the input tables below after every batch that touches it. */
export interface StockLevelsTable {
  sku: string;
  warehouse: string;
  /** From the newest order line naming one (the catalogue's category wins in the detector). */
  category: string | null;
  /** Σ the latest reading of each sensor − picks after `reading_ms`; null until a sensor has reported. */
  on_hand: number | null;
  /** Newest sensor reading time (the "as of" of `on_hand`). */
  reading_ms: Int64 | null;
  reserved: number;
  available: number | null;
  daily_depletion: number | null;
  /** `orders`, `shipments` or `readings`: which rate `daily_depletion` came from. */
  depletion_basis: string | null;
  days_of_cover: number | null;
  /** Oldest and newest event time of any input of this row (the depletion window ends at `latest_ms`). */
  first_ms: Int64;
  latest_ms: Int64;
  /** Low episodes raised / cleared (folded from `stock.low` / `stock.replenished`); low while raised > cleared. */
  low_raised: number;
  low_cleared: number;
  low_since_ms: Int64 | null;
  updated_seq: Int64;
}

/** The latest reading of each stock sensor (one SenML name), converted to units. */
export interface StockSensorsTable {
  sensor: string;
  sku: string;
  warehouse: string;
  quantity: number;
  time_ms: Int64;
  event_id: string;
}

/** Downsampled reading history (the latest reading per sensor and bucket), for the depletion rate; pruned past the window. */
export interface StockReadingsTable {
  sensor: string;
  bucket_ms: Int64;
  sku: string;
  warehouse: string;
  quantity: number;
  time_ms: Int64;
  event_id: string;
}

/** One SKU of one order (latest version of the order by event time): the reservation and the demand. */
export interface StockOrderLinesTable {
  order_id: string;
  sku: string;
  warehouse: string;
  quantity: number;
  /** Σ picked for this order and SKU (kept equal to the picks table). */
  shipped: number;
  category: string | null;
  time_ms: Int64;
  event_id: string;
}

/** One SKU of one shipment (`shipment.created` lines): leaves `warehouse` (the origin), releases its order's reservation. */
export interface StockPicksTable {
  shipment_id: string;
  sku: string;
  warehouse: string;
  order_id: string | null;
  quantity: number;
  time_ms: Int64;
  event_id: string;
}

/** A vehicle (`vehicle_id` = the VIN) or a device not registered to one (`device:<id>`). */
export interface VehiclesTable {
  vehicle_id: string;
  vin: string | null;
  customer_id: string | null;
  /** Event time of the registration that named the customer (latest wins). */
  customer_ms: Int64 | null;
  first_ms: Int64;
  last_ms: Int64;
  updated_seq: Int64;
}

/** The latest `device.registered` of each device (by event time). */
export interface VehicleDevicesTable {
  device_id: string;
  vehicle_id: string | null;
  kind: string | null;
  customer_id: string | null;
  part_sku: string | null;
  part_serial: string | null;
  firmware: string | null;
  registered_ms: Int64;
  event_id: string;
}

/** The latest value of each signal of a vehicle; `value` is JSON (number, string or boolean). */
export interface VehicleSignalsTable {
  vehicle_id: string;
  signal: string;
  value: string;
  unit: string | null;
  time_ms: Int64;
  event_id: string;
  device_id: string | null;
}

/** Downsampled numeric history of tracked signals (wear signals and the odometer), for trends; pruned past the trend window. */
export interface VehiclePointsTable {
  vehicle_id: string;
  signal: string;
  bucket_ms: Int64;
  value: number;
  time_ms: Int64;
  event_id: string;
}

/** The part of a type fitted to a vehicle: the newest registration's part; `installed_ms` is its first registration. */
export interface VehiclePartsTable {
  vehicle_id: string;
  part_type: string;
  part_sku: string | null;
  part_serial: string | null;
  device_id: string | null;
  installed_ms: Int64;
  registered_ms: Int64;
  event_id: string;
}

/** One watched signal of a vehicle (a part instance): its rule, baseline and due episodes. */
export interface VehicleServiceTable {
  vehicle_id: string;
  signal: string;
  part_type: string;
  /** The rule as configured when last folded: `value` or `since_install`, `below` or `above`. */
  measure: string;
  direction: string;
  threshold: number;
  clear_level: number;
  limit_level: number | null;
  /** `since_install`: the first reading at or after installation. */
  baseline_ms: Int64 | null;
  baseline_value: number | null;
  /** Due episodes raised / cleared (folded from `part.service_due` / `part.service_cleared`). */
  due_raised: number;
  due_cleared: number;
  due_since_ms: Int64 | null;
  updated_seq: Int64;
}

export interface AssetTables {
  stock_levels: StockLevelsTable;
  stock_sensors: StockSensorsTable;
  stock_readings: StockReadingsTable;
  stock_order_lines: StockOrderLinesTable;
  stock_picks: StockPicksTable;
  vehicles: VehiclesTable;
  vehicle_devices: VehicleDevicesTable;
  vehicle_signals: VehicleSignalsTable;
  vehicle_points: VehiclePointsTable;
  vehicle_parts: VehiclePartsTable;
  vehicle_service: VehicleServiceTable;
}
