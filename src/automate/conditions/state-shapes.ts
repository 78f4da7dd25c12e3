/**
 * The state variables a workflow expression can read, declared from the Decide modules' state
 * shapes. Field names follow the HTTP API's wire format (snake_case; `…_at` are CEL timestamps,
 * durations are CEL durations), so what a workflow author sees in `GET /v1/carts/:id` is what
 * they write in a condition. Internal bookkeeping (log positions, event ids, episode keys) is left
 * out. A missing value (undefined / null) is an absent field: `has(cart.currency)`.
 *
 * Each mapping reads a TypeScript state type, so a renamed state field fails `tsc` here.
 * Vehicles and stock are read through structural interfaces mirroring src/state/assets (not yet
 * exported from src/state/index.ts).
 */
import type { Fitment, ProductWithFitment } from '../../catalog/index.ts';
import type { SourceQuality } from '../../quality/index.ts';
import type {
  Cart,
  CartLine,
  ConsentState,
  Customer,
  CustomerDevice,
  CustomerOrder,
  CustomerPart,
  CustomerVehicle,
  DeviceDetail,
  ShipmentBreach,
  ShipmentLine,
  ShipmentPosition,
  ShipmentState,
  SignalSummary,
} from '../../state/index.ts';
import { fieldsOf, listOf, mapOf, type ObjectShape, objectShape, STRING } from './shapes.ts';

// ── customer (getCustomer) ──────────────────────────────────────────────────────────────────
const consentF = fieldsOf<ConsentState>();
const CONSENT = objectShape<ConsentState>('pitwall.Consent', { granted: consentF.bool('granted'), at: consentF.time('at') });
const cvF = fieldsOf<CustomerVehicle>();
const CUSTOMER_VEHICLE_PART = objectShape<{ sku: string | undefined; serial: string }>('pitwall.CustomerVehiclePart', {
  sku: { shape: STRING, get: (p) => p.sku },
  serial: { shape: STRING, get: (p) => p.serial },
});
const CUSTOMER_VEHICLE = objectShape<CustomerVehicle>('pitwall.CustomerVehicle', {
  vin: cvF.string('vin'),
  devices: cvF.of(listOf(STRING))('devices'),
  parts: cvF.of(listOf(CUSTOMER_VEHICLE_PART))('parts'),
  first_linked_at: cvF.time('firstLinkedAt'),
  last_linked_at: cvF.time('lastLinkedAt'),
});
const cdF = fieldsOf<CustomerDevice>();
const CUSTOMER_DEVICE = objectShape<CustomerDevice>('pitwall.CustomerDevice', {
  device_id: cdF.string('deviceId'),
  kind: cdF.string('kind'),
  vin: cdF.string('vin'),
  part_sku: cdF.string('partSku'),
  part_serial: cdF.string('partSerial'),
  firmware: cdF.string('firmware'),
  registered_at: cdF.time('registeredAt'),
});
const cpF = fieldsOf<CustomerPart>();
const CUSTOMER_PART = objectShape<CustomerPart>('pitwall.CustomerPart', {
  sku: cpF.string('sku'),
  serial: cpF.string('serial'),
  vin: cpF.string('vin'),
  device_id: cpF.string('deviceId'),
  linked_at: cpF.time('linkedAt'),
});
const coF = fieldsOf<CustomerOrder>();
const CUSTOMER_ORDER = objectShape<CustomerOrder>('pitwall.CustomerOrder', {
  order_id: coF.string('orderId'),
  at: coF.time('at'),
  total: coF.double('total'),
  currency: coF.string('currency'),
});
const cF = fieldsOf<Customer>();
export const CUSTOMER = objectShape<Customer>('pitwall.Customer', {
  customer_id: cF.string('customerId'),
  user_ids: cF.of(listOf(STRING))('userIds'),
  anonymous_ids: cF.of(listOf(STRING))('anonymousIds'),
  first_seen_at: cF.time('firstSeen'),
  last_seen_at: cF.time('lastSeen'),
  email_hashes: cF.of(listOf(STRING))('emailHashes'),
  traits: cF.of(mapOf({ kind: 'scalar', type: 'dyn' }))('traits'),
  vehicles: cF.of(listOf(CUSTOMER_VEHICLE))('vehicles'),
  devices: cF.of(listOf(CUSTOMER_DEVICE))('devices'),
  parts: cF.of(listOf(CUSTOMER_PART))('parts'),
  orders: cF.of(listOf(CUSTOMER_ORDER))('orders'),
  consent: cF.of(mapOf(CONSENT))('consent'),
});

// ── cart (getCart) ──────────────────────────────────────────────────────────────────────────
const clF = fieldsOf<CartLine>();
const CART_LINE = objectShape<CartLine>('pitwall.CartLine', { quantity: clF.double('quantity'), price: clF.double('price') });
const cartF = fieldsOf<Cart>();
export const CART = objectShape<Cart>('pitwall.Cart', {
  cart_id: cartF.string('cartId'),
  customer: cartF.string('customer'),
  status: cartF.string('status'),
  /** By SKU. */
  lines: cartF.of(mapOf(CART_LINE))('lines'),
  value: cartF.double('value'),
  currency: cartF.string('currency'),
  checkout_step: cartF.int('checkoutStep'),
  last_activity_at: cartF.time('lastActivityMs'),
  order_id: cartF.string('orderId'),
  abandoned_at: cartF.time('abandonedAtMs'),
});

// ── shipment (getShipment) ──────────────────────────────────────────────────────────────────
const slF = fieldsOf<ShipmentLine>();
const SHIPMENT_LINE = objectShape<ShipmentLine>('pitwall.ShipmentLine', { sku: slF.string('sku'), quantity: slF.double('quantity') });
const posF = fieldsOf<ShipmentPosition>();
const SHIPMENT_POSITION = objectShape<ShipmentPosition>('pitwall.ShipmentPosition', {
  at: posF.time('timeMs'),
  lat: posF.double('lat'),
  lon: posF.double('lon'),
  speed_kmh: posF.double('speedKmh'),
  source: posF.string('source'),
});
const brF = fieldsOf<ShipmentBreach>();
const SHIPMENT_BREACH = objectShape<ShipmentBreach>('pitwall.ShipmentBreach', {
  kind: brF.string('kind'),
  value: brF.double('value'),
  unit: brF.string('unit'),
  limit_min: brF.double('limitMin'),
  limit_max: brF.double('limitMax'),
  reading_at: brF.time('readingMs'),
  raised_at: brF.time('raisedMs'),
});
const shF = fieldsOf<ShipmentState>();
export const SHIPMENT = objectShape<ShipmentState>('pitwall.Shipment', {
  shipment_id: shF.string('shipmentId'),
  carrier: shF.string('carrier'),
  origin: shF.string('origin'),
  destination: shF.string('destination'),
  promised_at: shF.time('promisedMs'),
  order_id: shF.string('orderId'),
  tracking_number: shF.string('trackingNumber'),
  service: shF.string('service'),
  lines: shF.of(listOf(SHIPMENT_LINE))('lines'),
  created_at: shF.time('createdMs'),
  status: shF.string('status'),
  status_at: shF.time('statusMs'),
  status_reason: shF.string('statusReason'),
  status_location: shF.string('statusLocation'),
  picked_up_at: shF.time('pickedUpMs'),
  out_for_delivery_at: shF.time('outForDeliveryMs'),
  exception_since: shF.time('exceptionSinceMs'),
  delivered_at: shF.time('deliveredMs'),
  on_time: shF.bool('onTime'),
  transit_time: shF.duration('transitMs'),
  last_mile_time: shF.duration('lastMileMs'),
  positions_count: shF.int('positionsCount'),
  last_position: shF.of(SHIPMENT_POSITION)('lastPosition'),
  stationary_since: shF.time('stationarySinceMs'),
  delayed: shF.bool('delayed'),
  delay_reasons: shF.of(listOf(STRING))('delayReasons'),
  first_delayed_at: shF.time('firstDelayedMs'),
  breaches: shF.of(listOf(SHIPMENT_BREACH))('breaches'),
});

// ── product (getProduct from src/catalog) ───────────────────────────────────────────────────
const fitF = fieldsOf<Fitment>();
const FITMENT = objectShape<Fitment>('pitwall.Fitment', {
  make: fitF.string('make'),
  model: fitF.string('model'),
  year_from: fitF.int('yearFrom'),
  year_to: fitF.int('yearTo'),
  engine: fitF.string('engine'),
});
const prF = fieldsOf<ProductWithFitment>();
export const PRODUCT = objectShape<ProductWithFitment>('pitwall.Product', {
  sku: prF.string('sku'),
  name: prF.string('name'),
  category: prF.string('category'),
  price: prF.double('price'),
  currency: prF.string('currency'),
  unit_cost: prF.double('unitCost'),
  weight_kg: prF.double('weightKg'),
  hazardous: prF.bool('hazardous'),
  temperature_sensitive: prF.bool('temperatureSensitive'),
  attributes: prF.of(mapOf({ kind: 'scalar', type: 'dyn' }))('attributes'),
  fitment: prF.of(listOf(FITMENT))('fitment'),
});

// ── stock (src/state/assets: availability / getStock) ───────────────────────────────────────
/** One SKU in one warehouse (mirrors `StockLevel` in src/state/assets/stock-read.ts). */
export interface StockLevelFacts {
  sku: string;
  warehouse: string;
  category: string | undefined;
  onHand: number | null;
  reserved: number;
  available: number | null;
  dailyDepletion: number | null;
  daysOfCover: number | null;
  low: boolean;
  lowSince: number | undefined;
  lowEpisodes: number;
  readingAt: number | undefined;
  updatedAt: number;
}
/** A SKU across warehouses (mirrors `SkuAvailability`). */
export interface StockFacts {
  sku: string;
  onHand: number | null;
  reserved: number;
  available: number | null;
  daysOfCover: number | null;
  warehouses: StockLevelFacts[];
}
const slvF = fieldsOf<StockLevelFacts>();
const STOCK_LEVEL = objectShape<StockLevelFacts>('pitwall.StockLevel', {
  sku: slvF.string('sku'),
  warehouse: slvF.string('warehouse'),
  category: slvF.string('category'),
  on_hand: slvF.double('onHand'),
  reserved: slvF.double('reserved'),
  available: slvF.double('available'),
  daily_depletion: slvF.double('dailyDepletion'),
  days_of_cover: slvF.double('daysOfCover'),
  low: slvF.bool('low'),
  low_since: slvF.time('lowSince'),
  low_episodes: slvF.int('lowEpisodes'),
  reading_at: slvF.time('readingAt'),
  updated_at: slvF.time('updatedAt'),
});
const stF = fieldsOf<StockFacts>();
export const STOCK = objectShape<StockFacts>('pitwall.Stock', {
  sku: stF.string('sku'),
  on_hand: stF.double('onHand'),
  reserved: stF.double('reserved'),
  available: stF.double('available'),
  days_of_cover: stF.double('daysOfCover'),
  low: stF.bool((s) => s.warehouses.some((w) => w.low)),
  warehouses: stF.of(listOf(STOCK_LEVEL))('warehouses'),
});

// ── vehicle (src/state/assets: getVehicle) ──────────────────────────────────────────────────
/** Mirrors `WearTrend`. */
export interface WearTrendFacts {
  points: number;
  slopePer30Days: number;
  slopePer1000Km: number | null;
  target: number | null;
  projectedAt: number | null;
  projectedKm: number | null;
}
/** Mirrors `PartStatus`. */
export interface PartStatusFacts {
  partType: string;
  signal: string;
  partSku: string | undefined;
  partSerial: string | undefined;
  installedAt: number | undefined;
  measure: string;
  direction: string;
  threshold: number;
  clear: number;
  limit: number | undefined;
  reading: number | undefined;
  readingAt: number | undefined;
  value: number | undefined;
  due: boolean;
  dueSince: number | undefined;
  dueEpisodes: number;
  trend: WearTrendFacts | undefined;
}
/** Mirrors `Vehicle`. */
export interface VehicleFacts {
  vehicleId: string;
  vin: string | undefined;
  customerId: string | undefined;
  firstSeenAt: number;
  lastSeenAt: number;
  signals: { signal: string; value: number | string | boolean; unit: string | undefined; at: number; deviceId: string | undefined }[];
  devices: {
    deviceId: string;
    kind: string | undefined;
    customerId: string | undefined;
    partSku: string | undefined;
    partSerial: string | undefined;
    firmware: string | undefined;
    registeredAt: number;
  }[];
  parts: PartStatusFacts[];
  dueServices: PartStatusFacts[];
}
const trF = fieldsOf<WearTrendFacts>();
const WEAR_TREND = objectShape<WearTrendFacts>('pitwall.WearTrend', {
  points: trF.int('points'),
  slope_per_30_days: trF.double('slopePer30Days'),
  slope_per_1000_km: trF.double('slopePer1000Km'),
  target: trF.double('target'),
  projected_at: trF.time('projectedAt'),
  projected_km: trF.double('projectedKm'),
});
const psF = fieldsOf<PartStatusFacts>();
const PART_STATUS = objectShape<PartStatusFacts>('pitwall.PartStatus', {
  part_type: psF.string('partType'),
  signal: psF.string('signal'),
  part_sku: psF.string('partSku'),
  part_serial: psF.string('partSerial'),
  installed_at: psF.time('installedAt'),
  measure: psF.string('measure'),
  direction: psF.string('direction'),
  threshold: psF.double('threshold'),
  clear: psF.double('clear'),
  limit: psF.double('limit'),
  reading: psF.double('reading'),
  reading_at: psF.time('readingAt'),
  value: psF.double('value'),
  due: psF.bool('due'),
  due_since: psF.time('dueSince'),
  due_episodes: psF.int('dueEpisodes'),
  trend: psF.of(WEAR_TREND)('trend'),
});
type VehicleSignal = VehicleFacts['signals'][number];
const vsF = fieldsOf<VehicleSignal>();
const VEHICLE_SIGNAL = objectShape<VehicleSignal>('pitwall.VehicleSignal', {
  signal: vsF.string('signal'),
  value: vsF.dyn('value'),
  unit: vsF.string('unit'),
  at: vsF.time('at'),
  device_id: vsF.string('deviceId'),
});
type VehicleDevice = VehicleFacts['devices'][number];
const vdF = fieldsOf<VehicleDevice>();
const VEHICLE_DEVICE = objectShape<VehicleDevice>('pitwall.VehicleDevice', {
  device_id: vdF.string('deviceId'),
  kind: vdF.string('kind'),
  customer_id: vdF.string('customerId'),
  part_sku: vdF.string('partSku'),
  part_serial: vdF.string('partSerial'),
  firmware: vdF.string('firmware'),
  registered_at: vdF.time('registeredAt'),
});
const vF = fieldsOf<VehicleFacts>();
export const VEHICLE = objectShape<VehicleFacts>('pitwall.Vehicle', {
  vehicle_id: vF.string('vehicleId'),
  vin: vF.string('vin'),
  customer_id: vF.string('customerId'),
  first_seen_at: vF.time('firstSeenAt'),
  last_seen_at: vF.time('lastSeenAt'),
  signals: vF.of(listOf(VEHICLE_SIGNAL))('signals'),
  devices: vF.of(listOf(VEHICLE_DEVICE))('devices'),
  parts: vF.of(listOf(PART_STATUS))('parts'),
  due_services: vF.of(listOf(PART_STATUS))('dueServices'),
});

// ── device (getDeviceState) ─────────────────────────────────────────────────────────────────
const sigF = fieldsOf<SignalSummary>();
const DEVICE_SIGNAL = objectShape<SignalSummary>('pitwall.DeviceSignal', {
  signal: sigF.string('signal'),
  unit: sigF.string('unit'),
  last_value: sigF.double('lastValue'),
  last_text: sigF.string('lastText'),
  last_at: sigF.time('lastMs'),
  count: sigF.int('count'),
  min: sigF.double('min'),
  max: sigF.double('max'),
  mean: sigF.double((s) => (s.numCount > 0 ? s.sum / s.numCount : undefined)),
});
const dF = fieldsOf<DeviceDetail>();
export const DEVICE = objectShape<DeviceDetail>('pitwall.Device', {
  device_id: dF.string('deviceId'),
  kind: dF.string('kind'),
  registered_at: dF.time('registeredMs'),
  firmware: dF.string('firmware'),
  store: dF.string('store'),
  battery_pct: dF.double('batteryPct'),
  battery_volts: dF.double('batteryVolts'),
  first_seen_at: dF.time('firstSeenMs'),
  last_seen_at: dF.time('lastSeenMs'),
  last_contact_at: dF.time('lastContactMs'),
  message_count: dF.int('messageCount'),
  silent: dF.bool('silent'),
  silent_since: dF.time('silentSinceMs'),
  signals: dF.of(listOf(DEVICE_SIGNAL))('signals'),
});

// ── quality (sourceQuality from src/quality) ────────────────────────────────────────────────
type QualityFlag = SourceQuality['flags'][number];
const qfF = fieldsOf<QualityFlag>();
const QUALITY_FLAG = objectShape<QualityFlag>('pitwall.QualityFlag', {
  kind: qfF.string('kind'),
  detail: qfF.string('detail'),
  penalty: qfF.double('penalty'),
});
const qF = fieldsOf<SourceQuality>();
export const QUALITY = objectShape<SourceQuality>('pitwall.Quality', {
  source: qF.string('source'),
  score: qF.double('score'),
  trusted: qF.bool('trusted'),
  degraded: qF.bool('degraded'),
  flags: qF.of(listOf(QUALITY_FLAG))('flags'),
  last_received_at: qF.time('lastReceivedMs'),
  updated_at: qF.time('updatedMs'),
  stale_at: qF.time('staleAtMs'),
});

// ── run ─────────────────────────────────────────────────────────────────────────────────────
/** What the runner knows about the run an expression is evaluated for. */
export interface RunFacts {
  id: string;
  workflowId: string;
  workflowVersion: number;
  /** The canonical customer id (after identity resolution), when the run has one. */
  customer: string | undefined;
  startedAtMs: number;
  triggerEventIds: string[];
}
const rF = fieldsOf<RunFacts>();
export const RUN = objectShape<RunFacts>('pitwall.Run', {
  id: rF.string('id'),
  workflow_id: rF.string('workflowId'),
  workflow_version: rF.int('workflowVersion'),
  customer: rF.string('customer'),
  started_at: rF.time('startedAtMs'),
  trigger_event_ids: rF.of(listOf(STRING))('triggerEventIds'),
});

/** The state variables, by name, in the order the docs list them. */
export const STATE_VARIABLES: Readonly<Record<StateVariable, ObjectShape>> = {
  customer: CUSTOMER,
  cart: CART,
  shipment: SHIPMENT,
  product: PRODUCT,
  stock: STOCK,
  vehicle: VEHICLE,
  device: DEVICE,
  quality: QUALITY,
};
export type StateVariable = 'customer' | 'cart' | 'shipment' | 'product' | 'stock' | 'vehicle' | 'device' | 'quality';
export const STATE_VARIABLE_NAMES = Object.keys(STATE_VARIABLES) as StateVariable[];
