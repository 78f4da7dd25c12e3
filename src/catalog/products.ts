/** Products and their fitment in tables `products` and `fitments`: reads for other domains, writes for imports. */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../store/index.ts';
import type { ApiRecord } from './fields.ts';
import type { FitmentEntry } from './fitment.ts';
import { engineKey, makeKey, modelKey } from './keys.ts';
import type { Fitment, Product, ProductWithFitment, Vehicle } from './types.ts';

type Db = Kysely<Database>;
type ProductRow = Selectable<Database['products']>;
type FitmentRow = Selectable<Database['fitments']>;

/** Rows per statement for `IN (…)` lists and multi-row inserts: well under both dialects' parameter limits. */
export const CHUNK = 500;

export function chunks<T>(xs: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export function parseJsonObject(text: string): Record<string, unknown> {
  const v: unknown = JSON.parse(text);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function toProduct(r: ProductRow): Product {
  return {
    sku: r.sku,
    name: r.name,
    category: r.category ?? undefined,
    price: r.price,
    currency: r.currency ?? undefined,
    unitCost: r.unit_cost ?? undefined,
    weightKg: r.weight_kg ?? undefined,
    hazardous: r.hazardous === 1,
    temperatureSensitive: r.temperature_sensitive === 1,
    attributes: parseJsonObject(r.attributes),
    createdAt: r.created_ms,
    updatedAt: r.updated_ms,
  };
}

function toFitment(r: FitmentRow): Fitment {
  return { make: r.make, model: r.model, yearFrom: r.year_from, yearTo: r.year_to ?? undefined, engine: r.engine ?? undefined };
}

/** The product with its fitment, or undefined. */
export async function getProduct(db: Db, sku: string): Promise<ProductWithFitment | undefined> {
  const row = await db.selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirst();
  return row ? { ...toProduct(row), fitment: await getFitment(db, sku) } : undefined;
}

/** Many products in a few queries (without fitment); SKUs not in the catalogue are absent from the map. */
export async function getProducts(db: Db, skus: readonly string[]): Promise<Map<string, Product>> {
  const out = new Map<string, Product>();
  for (const part of chunks([...new Set(skus)])) {
    const rows = await db.selectFrom('products').selectAll().where('sku', 'in', part).execute();
    for (const r of rows) out.set(r.sku, toProduct(r));
  }
  return out;
}

/** A SKU's fitment entries, in a stable order. */
export async function getFitment(db: Db, sku: string): Promise<Fitment[]> {
  const rows = await db
    .selectFrom('fitments')
    .selectAll()
    .where('sku', '=', sku)
    .orderBy('make_key')
    .orderBy('model_key')
    .orderBy('year_from')
    .orderBy('engine_key')
    .execute();
  return rows.map(toFitment);
}

export interface ProductQuery {
  /** Case-insensitive exact category. */
  category?: string | undefined;
  /** Case-insensitive substring of the SKU or the name. */
  q?: string | undefined;
  /** Keyset cursor: SKUs after this one. */
  after?: string | undefined;
  limit?: number | undefined;
}

/** Products ordered by SKU. */
export async function listProducts(db: Db, query: ProductQuery = {}): Promise<Product[]> {
  const q = query.q?.replace(/[\r\n]/g, ' ').toLowerCase();
  const pattern = q ? `%${q.replace(/[!%_]/g, (c) => `!${c}`)}%` : undefined;
  const rows = await db
    .selectFrom('products')
    .selectAll()
    .$if(query.category !== undefined, (b) => b.where('category_key', '=', (query.category as string).trim().toLowerCase()))
    .$if(pattern !== undefined, (b) => b.where(sql<boolean>`search like ${pattern} escape '!'`))
    .$if(query.after !== undefined, (b) => b.where('sku', '>', query.after as string))
    .orderBy('sku')
    .limit(query.limit ?? 100)
    .execute();
  return rows.map(toProduct);
}

/** Deletes a product and its fitment; false when there was none. */
export async function deleteProduct(db: Db, sku: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await tx.deleteFrom('fitments').where('sku', '=', sku).execute();
    const r = await tx.deleteFrom('products').where('sku', '=', sku).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  });
}

export interface FitmentQuery {
  /** Only products in this category (case-insensitive). */
  category?: string | undefined;
  after?: string | undefined;
  /** Default: no limit. */
  limit?: number | undefined;
}

function fitmentMatches(db: Db, v: Vehicle) {
  const engine = v.engine === undefined || v.engine.trim() === '' ? undefined : engineKey(v.engine);
  return db
    .selectFrom('fitments')
    .where('fitments.make_key', '=', makeKey(v.make))
    .where('fitments.model_key', '=', modelKey(v.model))
    .where('fitments.year_from', '<=', v.year)
    .where((eb) => eb.or([eb('fitments.year_to', 'is', null), eb('fitments.year_to', '>=', v.year)]))
    .$if(engine !== undefined, (b) =>
      // An entry without an engine fits every engine; one with an engine fits when it is the vehicle's or a leading part of it.
      b.where((eb) =>
        eb.or([
          eb('fitments.engine_key', 'is', null),
          eb(sql.val(engine), 'like', sql<string>`(${sql.ref('fitments.engine_key')} || '%')`),
        ]),
      ),
    );
}

/**
 * SKUs that fit the vehicle, ordered. Without an engine, an entry for any engine of the
 * model counts (the part fits some variant of the car).
 */
export async function findFitment(db: Db, vehicle: Vehicle, query: FitmentQuery = {}): Promise<string[]> {
  const rows = await fitmentMatches(db, vehicle)
    .select('fitments.sku')
    .distinct()
    .$if(query.category !== undefined, (b) =>
      b
        .innerJoin('products', 'products.sku', 'fitments.sku')
        .where('products.category_key', '=', (query.category as string).trim().toLowerCase()),
    )
    .$if(query.after !== undefined, (b) => b.where('fitments.sku', '>', query.after as string))
    .orderBy('fitments.sku')
    .$if(query.limit !== undefined, (b) => b.limit(query.limit as number))
    .execute();
  return rows.map((r) => r.sku);
}

/** Whether the SKU has a fitment entry for the vehicle. A SKU without fitment data fits nothing. */
export async function fitsVehicle(db: Db, sku: string, vehicle: Vehicle): Promise<boolean> {
  const row = await fitmentMatches(db, vehicle).select('fitments.sku').where('fitments.sku', '=', sku).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Price minus unit cost, and that as a share of the price; undefined without a unit cost. */
export function marginOf(p: Pick<Product, 'price' | 'unitCost'>): { amount: number; rate: number | undefined } | undefined {
  if (p.unitCost === undefined) return undefined;
  const amount = Math.round((p.price - p.unitCost) * 10_000) / 10_000;
  return { amount, rate: p.price > 0 ? Math.round((amount / p.price) * 10_000) / 10_000 : undefined };
}

// ── the import side: records in API shape ────────────────────────────────────────────

export function fitmentToApi(f: Fitment): FitmentEntry {
  return { make: f.make, model: f.model, year_from: f.yearFrom, year_to: f.yearTo ?? null, engine: f.engine ?? null };
}

/** A product as the API shows it (and an import accepts it back). */
export function productToApi(p: Product, fitment?: readonly Fitment[]): ApiRecord {
  const margin = marginOf(p);
  return {
    sku: p.sku,
    name: p.name,
    category: p.category ?? null,
    price: p.price,
    currency: p.currency ?? null,
    unit_cost: p.unitCost ?? null,
    margin: margin?.amount ?? null,
    margin_rate: margin?.rate ?? null,
    weight_kg: p.weightKg ?? null,
    hazardous: p.hazardous,
    temperature_sensitive: p.temperatureSensitive,
    attributes: p.attributes,
    ...(fitment ? { fitment: fitment.map(fitmentToApi) } : {}),
    created_at: new Date(p.createdAt).toISOString(),
    updated_at: new Date(p.updatedAt).toISOString(),
  };
}

/** Stored products in the shape an import merges onto (no fitment: it is replaced whole or kept). */
export async function loadProductRecords(db: Db, skus: readonly string[]): Promise<Map<string, ApiRecord>> {
  const out = new Map<string, ApiRecord>();
  for (const [sku, p] of await getProducts(db, skus)) {
    const { margin: _m, margin_rate: _r, created_at: _c, updated_at: _u, ...rest } = productToApi(p);
    out.set(sku, rest);
  }
  return out;
}

/** Writes merged, checked product records; a record with `fitment` replaces that SKU's fitment. */
export async function writeProductRecords(db: Db, nowMs: number, records: readonly ApiRecord[]): Promise<void> {
  if (records.length === 0) return;
  // The records were checked against PRODUCT_SPEC, so these casts hold.
  const rows = records.map((r) => ({
    sku: r.sku as string,
    name: r.name as string,
    category: r.category as string | null,
    category_key: r.category === null ? null : (r.category as string).toLowerCase(),
    price: r.price as number,
    currency: r.currency as string | null,
    unit_cost: r.unit_cost as number | null,
    weight_kg: r.weight_kg as number | null,
    hazardous: r.hazardous ? 1 : 0,
    temperature_sensitive: r.temperature_sensitive ? 1 : 0,
    attributes: JSON.stringify(r.attributes),
    search: `${r.sku as string}\n${r.name as string}`.toLowerCase(),
    created_ms: nowMs,
    updated_ms: nowMs,
  }));
  await db
    .insertInto('products')
    .values(rows)
    .onConflict((oc) =>
      oc.column('sku').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        category: eb.ref('excluded.category'),
        category_key: eb.ref('excluded.category_key'),
        price: eb.ref('excluded.price'),
        currency: eb.ref('excluded.currency'),
        unit_cost: eb.ref('excluded.unit_cost'),
        weight_kg: eb.ref('excluded.weight_kg'),
        hazardous: eb.ref('excluded.hazardous'),
        temperature_sensitive: eb.ref('excluded.temperature_sensitive'),
        attributes: eb.ref('excluded.attributes'),
        search: eb.ref('excluded.search'),
        updated_ms: eb.ref('excluded.updated_ms'),
      })),
    )
    .execute();
  const withFitment = records.filter((r) => Array.isArray(r.fitment));
  if (withFitment.length === 0) return;
  await db
    .deleteFrom('fitments')
    .where(
      'sku',
      'in',
      withFitment.map((r) => r.sku as string),
    )
    .execute();
  const fitmentRows = withFitment.flatMap((r) =>
    (r.fitment as FitmentEntry[]).map((f) => ({
      sku: r.sku as string,
      make: f.make,
      model: f.model,
      make_key: makeKey(f.make),
      model_key: modelKey(f.model),
      year_from: f.year_from,
      year_to: f.year_to,
      engine: f.engine,
      engine_key: f.engine === null ? null : engineKey(f.engine),
    })),
  );
  for (const part of chunks(fitmentRows)) await db.insertInto('fitments').values(part).execute();
}

export async function allSkus(db: Db): Promise<string[]> {
  return (await db.selectFrom('products').select('sku').execute()).map((r) => r.sku);
}

export async function deleteSkus(db: Db, skus: readonly string[]): Promise<void> {
  for (const part of chunks(skus)) {
    await db.deleteFrom('fitments').where('sku', 'in', part).execute();
    await db.deleteFrom('products').where('sku', 'in', part).execute();
  }
}
