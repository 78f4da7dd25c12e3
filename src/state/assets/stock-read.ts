/** Reading the stock projection: per SKU, batched availability, filtered lists. */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';

export type DepletionBasis = 'orders' | 'shipments' | 'readings';

/** One SKU in one warehouse. Quantities are units; times epoch ms. */
export interface StockLevel {
  sku: string;
  warehouse: string;
  category: string | undefined;
  /** Null until a shelf / RFID sensor has reported this SKU here. */
  onHand: number | null;
  reserved: number;
  /** onHand − reserved (negative when oversold); null while onHand is unknown. */
  available: number | null;
  /** Units per day over the window; null when nothing depleted it. */
  dailyDepletion: number | null;
  depletionBasis: DepletionBasis | undefined;
  /** available / dailyDepletion; 0 when nothing is available; null without depletion. */
  daysOfCover: number | null;
  /** Inside a `stock.low` episode (raised, not yet replenished). */
  low: boolean;
  lowSince: number | undefined;
  /** Low episodes raised so far (the current one included). */
  lowEpisodes: number;
  /** The newest sensor reading behind onHand. */
  readingAt: number | undefined;
  /** Event time of the newest input (reading, order, shipment). */
  updatedAt: number;
  /** Highest log position folded. */
  position: number;
}

/** Stock of one SKU across warehouses. */
export interface SkuAvailability {
  sku: string;
  /** Σ over warehouses that know their on-hand; null when none does. */
  onHand: number | null;
  reserved: number;
  available: number | null;
  /** Σ available / Σ daily depletion over the warehouses. */
  daysOfCover: number | null;
  warehouses: StockLevel[];
}

export interface StockQuery {
  sku?: string | undefined;
  warehouse?: string | undefined;
  /** true: only rows inside a low episode; false: only rows outside one. */
  low?: boolean | undefined;
  /** Continue after this (sku, warehouse), from `next_cursor`. */
  after?: { sku: string; warehouse: string } | undefined;
  limit: number;
}

type Row = Selectable<Database['stock_levels']>;
const CHUNK = 500;

export function stockLevelOf(r: Row): StockLevel {
  const optional = (v: number | null) => (v === null ? undefined : Number(v));
  return {
    sku: r.sku,
    warehouse: r.warehouse,
    category: r.category ?? undefined,
    onHand: r.on_hand,
    reserved: r.reserved,
    available: r.available,
    dailyDepletion: r.daily_depletion,
    depletionBasis: (r.depletion_basis ?? undefined) as DepletionBasis | undefined,
    daysOfCover: r.days_of_cover,
    low: r.low_raised > r.low_cleared,
    lowSince: r.low_raised > r.low_cleared ? optional(r.low_since_ms) : undefined,
    lowEpisodes: r.low_raised,
    readingAt: optional(r.reading_ms),
    updatedAt: Number(r.latest_ms),
    position: Number(r.updated_seq),
  };
}

/** A SKU's stock, one entry per warehouse (by warehouse id); [] when nothing is known. */
export async function getStock(db: Db, sku: string): Promise<StockLevel[]> {
  const rows = await db.selectFrom('stock_levels').selectAll().where('sku', '=', sku).orderBy('warehouse').execute();
  return rows.map(stockLevelOf);
}

/** One SKU × warehouse, or undefined. */
export async function getStockLevel(db: Db, sku: string, warehouse: string): Promise<StockLevel | undefined> {
  const row = await db.selectFrom('stock_levels').selectAll().where('sku', '=', sku).where('warehouse', '=', warehouse).executeTakeFirst();
  return row ? stockLevelOf(row) : undefined;
}

/** Availability of many SKUs in a few queries; every requested SKU has an entry (unknown: no warehouses, nulls). */
export async function availability(db: Db, skus: readonly string[]): Promise<Map<string, SkuAvailability>> {
  const unique = [...new Set(skus)];
  const bySku = new Map<string, StockLevel[]>(unique.map((s) => [s, []]));
  for (let i = 0; i < unique.length; i += CHUNK) {
    const rows = await db
      .selectFrom('stock_levels')
      .selectAll()
      .where('sku', 'in', unique.slice(i, i + CHUNK))
      .orderBy('sku')
      .orderBy('warehouse')
      .execute();
    for (const r of rows) bySku.get(r.sku)?.push(stockLevelOf(r));
  }
  const out = new Map<string, SkuAvailability>();
  for (const [sku, warehouses] of bySku) out.set(sku, summarise(sku, warehouses));
  return out;
}

function summarise(sku: string, warehouses: StockLevel[]): SkuAvailability {
  const known = warehouses.filter((w) => w.onHand !== null);
  const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 1e6) / 1e6;
  const onHand = known.length > 0 ? sum(known.map((w) => w.onHand as number)) : null;
  const reserved = sum(warehouses.map((w) => w.reserved));
  const available = known.length > 0 ? sum(known.map((w) => w.available as number)) : null;
  const depletion = sum(known.map((w) => w.dailyDepletion ?? 0));
  const daysOfCover =
    available === null ? null : available <= 0 ? 0 : depletion > 0 ? Math.round((available / depletion) * 1e6) / 1e6 : null;
  return { sku, onHand, reserved, available, daysOfCover, warehouses };
}

/** Stock rows by (sku, warehouse), filtered, keyset-paginated. */
export async function listStock(db: Db, q: StockQuery): Promise<StockLevel[]> {
  let query = db.selectFrom('stock_levels').selectAll();
  if (q.sku !== undefined) query = query.where('sku', '=', q.sku);
  if (q.warehouse !== undefined) query = query.where('warehouse', '=', q.warehouse);
  if (q.low === true) query = query.where((eb) => eb('low_raised', '>', eb.ref('low_cleared')));
  if (q.low === false) query = query.where((eb) => eb('low_raised', '<=', eb.ref('low_cleared')));
  const after = q.after;
  if (after)
    query = query.where((eb) =>
      eb.or([eb('sku', '>', after.sku), eb.and([eb('sku', '=', after.sku), eb('warehouse', '>', after.warehouse)])]),
    );
  const rows = await query.orderBy('sku').orderBy('warehouse').limit(q.limit).execute();
  return rows.map(stockLevelOf);
}
