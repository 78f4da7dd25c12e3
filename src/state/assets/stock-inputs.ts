/**
 * Which events are stock inputs, and what they say. Pure.
 *
 * - **Readings** (`sensor.reading`): a SenML name in `detectors.assets.stock.sensors`, or one that
 *   ends in `:shelf:<warehouse>:<sku>` or `:rfid:<warehouse>:<sku>` (e.g.
 *   `urn:dev:mac:0024befffe804ff1:shelf:DE-HAM-1:BRK-PAD-F-4471`). A count (unit absent, `count`,
 *   `1` or `{count}`) is the quantity; a weight (`kg`, `g`) becomes round((kg − tare) / unit
 *   weight) and needs a unit weight (sensor map or `unit_weight_kg`); other units are not stock.
 * - **Orders** (`commerce.order_completed`): `products[]` (`sku`, else `product_id`; `quantity`,
 *   default 1), warehouse from the product's `warehouse`, else `properties.warehouse`, else the
 *   configured default (none: the line reserves nothing).
 * - **Shipments** (`shipment.created`): `lines[]` leave `origin`; `order_id` names the order whose
 *   reservation they release.
 */
import type { CloudEvent } from '../../events/index.ts';
import type { StockSensorMapping, StockSettings } from './settings.ts';

export interface StockReading {
  sensor: string;
  sku: string;
  warehouse: string;
  quantity: number;
}

export interface OrderLine {
  sku: string;
  warehouse: string;
  quantity: number;
  category: string | undefined;
}

export interface StockOrder {
  orderId: string;
  lines: OrderLine[];
}

export interface ShipmentLine {
  sku: string;
  quantity: number;
}

export interface StockShipment {
  shipmentId: string;
  warehouse: string;
  orderId: string | undefined;
  lines: ShipmentLine[];
}

export const STOCK_LOW = 'stock.low';
export const STOCK_REPLENISHED = 'stock.replenished';

const COUNT_UNITS = new Set(['count', '1', '{count}']);
const WEIGHT_KG: Record<string, number> = { kg: 1, g: 0.001 };

export function isStockInput(e: CloudEvent): boolean {
  return e.type === 'sensor.reading' || e.type === 'commerce.order_completed' || e.type === 'shipment.created';
}

function record(e: CloudEvent): Record<string, unknown> {
  const d = e.data;
  return d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
}

export function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `…:shelf:<warehouse>:<sku>` / `…:rfid:<warehouse>:<sku>` → its warehouse and SKU. */
export function conventionMapping(name: string): { warehouse: string; sku: string } | undefined {
  const parts = name.split(':');
  const kind = parts[parts.length - 3];
  const warehouse = parts[parts.length - 2];
  const sku = parts[parts.length - 1];
  if ((kind !== 'shelf' && kind !== 'rfid') || !warehouse || !sku) return undefined;
  return { warehouse, sku };
}

export function stockReadingOf(e: CloudEvent, s: StockSettings): StockReading | undefined {
  if (e.type !== 'sensor.reading') return undefined;
  const d = record(e);
  const name = text(d.n);
  const v = num(d.v);
  if (name === undefined || v === undefined) return undefined;
  const mapped: StockSensorMapping | undefined =
    s.sensors.get(name) ??
    (() => {
      const c = conventionMapping(name);
      return c ? { ...c, unitWeightKg: s.unitWeightKg.get(c.sku), tareKg: 0 } : undefined;
    })();
  if (!mapped) return undefined;
  const unit = typeof d.u === 'string' ? d.u : undefined;
  let quantity: number;
  if (unit === undefined || COUNT_UNITS.has(unit)) quantity = v;
  else {
    const factor = WEIGHT_KG[unit];
    if (factor === undefined || mapped.unitWeightKg === undefined) return undefined;
    quantity = Math.round((v * factor - mapped.tareKg) / mapped.unitWeightKg);
  }
  return { sensor: name, sku: mapped.sku, warehouse: mapped.warehouse, quantity: Math.max(0, quantity) };
}

function properties(e: CloudEvent): Record<string, unknown> {
  const p = record(e).properties;
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** An order's lines, one per SKU (repeated SKUs summed). */
export function stockOrderOf(e: CloudEvent, s: StockSettings): StockOrder | undefined {
  if (e.type !== 'commerce.order_completed') return undefined;
  const p = properties(e);
  const orderId = text(p.order_id);
  if (orderId === undefined) return undefined;
  const orderWarehouse = text(p.warehouse) ?? s.defaultWarehouse;
  const bySku = new Map<string, OrderLine>();
  for (const raw of Array.isArray(p.products) ? p.products : []) {
    if (raw === null || typeof raw !== 'object') continue;
    const item = raw as Record<string, unknown>;
    const sku = text(item.sku) ?? text(item.product_id);
    const warehouse = text(item.warehouse) ?? orderWarehouse;
    const quantity = num(item.quantity) ?? 1;
    if (sku === undefined || warehouse === undefined || quantity <= 0) continue;
    const line = bySku.get(sku);
    if (line) line.quantity += quantity;
    else bySku.set(sku, { sku, warehouse, quantity, category: text(item.category) });
  }
  return { orderId, lines: [...bySku.values()] };
}

export function stockShipmentOf(e: CloudEvent): StockShipment | undefined {
  if (e.type !== 'shipment.created') return undefined;
  const d = record(e);
  const shipmentId = text(d.shipment_id);
  const warehouse = text(d.origin);
  if (shipmentId === undefined || warehouse === undefined) return undefined;
  const bySku = new Map<string, ShipmentLine>();
  for (const raw of Array.isArray(d.lines) ? d.lines : []) {
    if (raw === null || typeof raw !== 'object') continue;
    const item = raw as Record<string, unknown>;
    const sku = text(item.sku);
    const quantity = num(item.quantity);
    if (sku === undefined || quantity === undefined || quantity <= 0) continue;
    const line = bySku.get(sku);
    if (line) line.quantity += quantity;
    else bySku.set(sku, { sku, quantity });
  }
  return { shipmentId, warehouse, orderId: text(d.order_id), lines: [...bySku.values()] };
}

/** `sku` and `warehouse` of a `stock.low` / `stock.replenished` event. */
export function stockKeyOfDerived(e: CloudEvent): { sku: string; warehouse: string; episode: number } | undefined {
  if (e.type !== STOCK_LOW && e.type !== STOCK_REPLENISHED) return undefined;
  const d = record(e);
  const sku = text(d.sku);
  const warehouse = text(d.warehouse);
  const episode = num(d.episode);
  if (sku === undefined || warehouse === undefined || episode === undefined) return undefined;
  return { sku, warehouse, episode };
}

export function stockKey(sku: string, warehouse: string): string {
  return JSON.stringify([sku, warehouse]);
}

export function parseStockKey(key: string): { sku: string; warehouse: string } {
  const [sku, warehouse] = JSON.parse(key) as [string, string];
  return { sku, warehouse };
}

/** The later of two versions: by event time, then by event id (so any arrival order picks the same one). */
export function newer(a: { timeMs: number; eventId: string }, b: { timeMs: number; eventId: string } | undefined): boolean {
  return b === undefined || a.timeMs > b.timeMs || (a.timeMs === b.timeMs && a.eventId > b.eventId);
}
