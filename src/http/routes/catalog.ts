/**
 * The catalogue (`/v1/catalog`) and reference data (`/v1/warehouses`, `/v1/carriers`,
 * `/v1/lanes`): imports as JSON or CSV with per-record errors, reads, deletes. Writes need
 * `admin`, reads `read`. Formats: docs/catalog.md.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  carrierToApi,
  deleteCarrier,
  deleteLane,
  deleteProduct,
  deleteWarehouse,
  findFitment,
  fitsVehicle,
  getCarrier,
  getLane,
  getProduct,
  getProducts,
  getWarehouse,
  type ImportResult,
  type ImportSource,
  importRecords,
  jsonSource,
  laneToApi,
  listCarriers,
  listLanes,
  listProducts,
  listWarehouses,
  productToApi,
  type RecordKind,
  type Vehicle,
  warehouseToApi,
} from '../../catalog/index.ts';
import { AppError } from '../../core/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

/** A catalogue file: ~50,000 SKUs with fitment. Larger ones: split them, or use `pitwall catalog import`. */
export const CATALOG_BODY_LIMIT = 16 * 1024 * 1024;
const REFERENCE_BODY_LIMIT = 4 * 1024 * 1024;
const CSV_TYPES = new Set(['text/csv', 'application/csv', 'text/tab-separated-values', 'application/vnd.ms-excel', 'text/plain']);

type Query = Record<string, string | string[] | undefined>;

function str(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw new AppError('PW_QUERY_INVALID', `${name} may be given once`, { pointer: `/${name}` });
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function intParam(q: Query, name: string, def: number, min: number, max: number): number {
  const v = str(q, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new AppError('PW_QUERY_INVALID', `${name} must be an integer from ${min} to ${max}`, { pointer: `/${name}` });
  return n;
}

function importOptions(q: Query): { mode: 'merge' | 'replace'; dryRun: boolean } {
  const mode = str(q, 'mode') ?? 'merge';
  if (mode !== 'merge' && mode !== 'replace') throw new AppError('PW_QUERY_INVALID', 'mode must be merge or replace', { pointer: '/mode' });
  const dry = str(q, 'dry_run') ?? 'false';
  if (!['true', 'false', '1', '0'].includes(dry))
    throw new AppError('PW_QUERY_INVALID', 'dry_run must be true or false', { pointer: '/dry_run' });
  return { mode, dryRun: dry === 'true' || dry === '1' };
}

/** Opaque keyset cursors: base64url of the last key. */
const encodeCursor = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
function decodeCursor(q: Query): string | undefined {
  const c = str(q, 'cursor');
  if (c === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(c)) throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
  return Buffer.from(c, 'base64url').toString('utf8');
}

function vehicleParams(q: Query): Vehicle {
  const make = str(q, 'make');
  const model = str(q, 'model');
  if (!make) throw new AppError('PW_QUERY_INVALID', 'make is required', { pointer: '/make' });
  if (!model) throw new AppError('PW_QUERY_INVALID', 'model is required', { pointer: '/model' });
  if (str(q, 'year') === undefined) throw new AppError('PW_QUERY_INVALID', 'year is required', { pointer: '/year' });
  const year = intParam(q, 'year', 0, 1886, 2100);
  return { make, model, year, engine: str(q, 'engine') };
}

const vehicleJson = (v: Vehicle) => ({ make: v.make, model: v.model, year: v.year, engine: v.engine ?? null });

/** The request body as an import source: JSON (parsed by Fastify) or CSV (bytes from the catch-all parser). */
function sourceOf(req: FastifyRequest, kind: RecordKind): ImportSource {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || type.endsWith('+json')) {
    if (!Buffer.isBuffer(req.body)) return jsonSource(kind, req.body);
    // Other +json types (application/merge-patch+json, …) arrive as bytes from the catch-all parser.
    try {
      return jsonSource(kind, JSON.parse(req.body.toString('utf8')));
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('PW_BODY_MALFORMED', `the body is not valid JSON: ${(e as Error).message}`, { status: 400 });
    }
  }
  if (CSV_TYPES.has(type) && Buffer.isBuffer(req.body)) {
    try {
      return { format: 'csv', text: new TextDecoder('utf-8', { fatal: true }).decode(req.body) };
    } catch {
      throw new AppError('PW_BODY_MALFORMED', 'the CSV is not UTF-8; save it as "CSV UTF-8" and send it again', { status: 400 });
    }
  }
  throw new AppError('PW_MEDIA_TYPE', `send Content-Type application/json or text/csv, not "${type || 'none'}"`, { status: 415 });
}

function resultJson(r: ImportResult) {
  return {
    kind: r.kind,
    received: r.received,
    upserted: r.upserted,
    created: r.created,
    updated: r.updated,
    rejected: r.rejected,
    deleted: r.deleted,
    replace_skipped: r.replaceSkipped,
    dry_run: r.dryRun,
    errors: r.errors,
    errors_truncated: r.errorsTruncated,
  };
}

/** 200 when any record was applied; 422 (problem+json, with the same members) when none was. */
function sendImport(reply: FastifyReply, r: ImportResult) {
  if (r.upserted === 0)
    throw new AppError('PW_CATALOG_REJECTED', `no ${r.kind} applied: all ${r.rejected} rejected (see errors)`, {
      status: 422,
      extra: resultJson(r),
    });
  return reply.code(200).send(resultJson(r));
}

function importRoute(app: FastifyInstance, d: HttpDeps, path: string, kind: RecordKind, bodyLimit: number): void {
  app.put(path, { bodyLimit }, async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const opts = importOptions(req.query as Query);
    const source = sourceOf(req, kind);
    return sendImport(reply, await importRecords(d.store.db, d.clock, kind, source, opts));
  });
}

const notFound = (code: string, what: string) => new AppError(code, `no ${what}`, { status: 404 });

export function catalogRoutes(app: FastifyInstance, d: HttpDeps): void {
  const db = d.store.db;

  importRoute(app, d, '/v1/catalog', 'products', CATALOG_BODY_LIMIT);

  app.get('/v1/catalog/products', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Query;
    const limit = intParam(q, 'limit', 100, 1, 1000);
    const products = await listProducts(db, { category: str(q, 'category'), q: str(q, 'q'), after: decodeCursor(q), limit });
    const last = products.at(-1);
    return {
      products: products.map((p) => productToApi(p)),
      next_cursor: products.length === limit && last ? encodeCursor(last.sku) : null,
    };
  });

  app.get('/v1/catalog/products/:sku', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { sku } = req.params as { sku: string };
    const p = await getProduct(db, sku);
    if (!p) throw notFound('PW_PRODUCT_NOT_FOUND', `product with SKU "${sku}"`);
    return productToApi(p, p.fitment);
  });

  app.delete('/v1/catalog/products/:sku', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const { sku } = req.params as { sku: string };
    if (!(await deleteProduct(db, sku))) throw notFound('PW_PRODUCT_NOT_FOUND', `product with SKU "${sku}"`);
    return reply.code(204).send();
  });

  app.get('/v1/catalog/products/:sku/fits', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { sku } = req.params as { sku: string };
    const vehicle = vehicleParams(req.query as Query);
    if ((await getProducts(db, [sku])).size === 0) throw notFound('PW_PRODUCT_NOT_FOUND', `product with SKU "${sku}"`);
    return { sku, vehicle: vehicleJson(vehicle), fits: await fitsVehicle(db, sku, vehicle) };
  });

  app.get('/v1/catalog/fitment', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Query;
    const vehicle = vehicleParams(q);
    const limit = intParam(q, 'limit', 500, 1, 5000);
    const include = str(q, 'include');
    if (include !== undefined && include !== 'products')
      throw new AppError('PW_QUERY_INVALID', 'include may only be "products"', { pointer: '/include' });
    const skus = await findFitment(db, vehicle, { category: str(q, 'category'), after: decodeCursor(q), limit });
    const last = skus.at(-1);
    const found = include ? await getProducts(db, skus) : undefined;
    const products = found
      ? skus.flatMap((s) => {
          const p = found.get(s);
          return p ? [productToApi(p)] : [];
        })
      : undefined;
    return {
      vehicle: vehicleJson(vehicle),
      skus,
      ...(products ? { products } : {}),
      next_cursor: skus.length === limit && last ? encodeCursor(last) : null,
    };
  });

  importRoute(app, d, '/v1/warehouses', 'warehouses', REFERENCE_BODY_LIMIT);
  app.get('/v1/warehouses', async (req) => {
    await requireScope(d.keys, req, 'read');
    return { warehouses: (await listWarehouses(db)).map(warehouseToApi) };
  });
  app.get('/v1/warehouses/:id', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const w = await getWarehouse(db, id);
    if (!w) throw notFound('PW_WAREHOUSE_NOT_FOUND', `warehouse "${id}"`);
    return warehouseToApi(w);
  });
  app.delete('/v1/warehouses/:id', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const { id } = req.params as { id: string };
    if (!(await deleteWarehouse(db, id))) throw notFound('PW_WAREHOUSE_NOT_FOUND', `warehouse "${id}"`);
    return reply.code(204).send();
  });

  importRoute(app, d, '/v1/carriers', 'carriers', REFERENCE_BODY_LIMIT);
  app.get('/v1/carriers', async (req) => {
    await requireScope(d.keys, req, 'read');
    return { carriers: (await listCarriers(db)).map(carrierToApi) };
  });
  app.get('/v1/carriers/:id', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const c = await getCarrier(db, id);
    if (!c) throw notFound('PW_CARRIER_NOT_FOUND', `carrier "${id}"`);
    return carrierToApi(c);
  });
  app.delete('/v1/carriers/:id', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const { id } = req.params as { id: string };
    if (!(await deleteCarrier(db, id))) throw notFound('PW_CARRIER_NOT_FOUND', `carrier "${id}"`);
    return reply.code(204).send();
  });

  importRoute(app, d, '/v1/lanes', 'lanes', REFERENCE_BODY_LIMIT);
  app.get('/v1/lanes', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Query;
    const lanes = await listLanes(db, { carrierId: str(q, 'carrier_id'), origin: str(q, 'origin'), destination: str(q, 'destination') });
    return { lanes: lanes.map(laneToApi) };
  });
  app.get('/v1/lanes/:carrierId/:origin/:destination', async (req) => {
    await requireScope(d.keys, req, 'read');
    const p = req.params as { carrierId: string; origin: string; destination: string };
    const lane = await getLane(db, p.carrierId, p.origin, p.destination);
    if (!lane) throw notFound('PW_LANE_NOT_FOUND', `lane ${p.carrierId} ${p.origin} → ${p.destination}`);
    return laneToApi(lane);
  });
  app.delete('/v1/lanes/:carrierId/:origin/:destination', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const p = req.params as { carrierId: string; origin: string; destination: string };
    if (!(await deleteLane(db, p.carrierId, p.origin, p.destination)))
      throw notFound('PW_LANE_NOT_FOUND', `lane ${p.carrierId} ${p.origin} → ${p.destination}`);
    return reply.code(204).send();
  });
}
