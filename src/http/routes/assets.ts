/**
 * Stock and vehicles (the assets Decide module): `GET /v1/stock`, `GET /v1/stock/:sku`,
 * `GET /v1/vehicles/:vin`, `GET /v1/vehicles?customer_id=`. Read scope; snake_case JSON; times
 * are RFC 3339; quantities are units.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/index.ts';
import {
  availability,
  getVehicle,
  listStock,
  type PartStatus,
  type StockLevel,
  type Vehicle,
  vehiclesOfCustomer,
} from '../../state/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const iso = (ms: number | undefined | null) => (ms === undefined || ms === null ? null : new Date(ms).toISOString());

function stockWire(l: StockLevel) {
  return {
    sku: l.sku,
    warehouse: l.warehouse,
    category: l.category ?? null,
    on_hand: l.onHand,
    reserved: l.reserved,
    available: l.available,
    daily_depletion: l.dailyDepletion,
    depletion_basis: l.depletionBasis ?? null,
    days_of_cover: l.daysOfCover,
    low: l.low,
    low_since: iso(l.lowSince),
    low_episodes: l.lowEpisodes,
    reading_at: iso(l.readingAt),
    updated_at: iso(l.updatedAt),
    position: l.position,
  };
}

function partWire(p: PartStatus) {
  const t = p.trend;
  return {
    part_type: p.partType,
    signal: p.signal,
    part_sku: p.partSku ?? null,
    part_serial: p.partSerial ?? null,
    installed_at: iso(p.installedAt),
    measure: p.measure,
    direction: p.direction,
    threshold: p.threshold,
    clear: p.clear,
    limit: p.limit ?? null,
    reading: p.reading ?? null,
    reading_at: iso(p.readingAt),
    value: p.value ?? null,
    due: p.due,
    due_since: iso(p.dueSince),
    due_episodes: p.dueEpisodes,
    trend: t
      ? {
          points: t.points,
          from: iso(t.from),
          to: iso(t.to),
          slope_per_30_days: t.slopePer30Days,
          slope_per_1000_km: t.slopePer1000Km,
          target: t.target,
          projected_at: iso(t.projectedAt),
          projected_km: t.projectedKm,
        }
      : null,
  };
}

function vehicleWire(v: Vehicle) {
  return {
    vehicle_id: v.vehicleId,
    vin: v.vin ?? null,
    customer_id: v.customerId ?? null,
    first_seen_at: iso(v.firstSeenAt),
    last_seen_at: iso(v.lastSeenAt),
    signals: Object.fromEntries(
      v.signals.map((s) => [s.signal, { value: s.value, unit: s.unit ?? null, at: iso(s.at), device_id: s.deviceId ?? null }]),
    ),
    devices: v.devices.map((d) => ({
      device_id: d.deviceId,
      kind: d.kind ?? null,
      customer_id: d.customerId ?? null,
      part_sku: d.partSku ?? null,
      part_serial: d.partSerial ?? null,
      firmware: d.firmware ?? null,
      registered_at: iso(d.registeredAt),
    })),
    parts: v.parts.map(partWire),
    due_services: v.dueServices.map(partWire),
  };
}

function encodeCursor(l: StockLevel): string {
  return Buffer.from(JSON.stringify([l.sku, l.warehouse])).toString('base64url');
}
function decodeCursor(s: string): { sku: string; warehouse: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return { sku: v[0], warehouse: v[1] };
  } catch {
    // falls through to the error below
  }
  throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
}

export function assetsRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/stock', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
    if (q.low !== undefined && q.low !== '' && q.low !== 'true' && q.low !== 'false')
      throw new AppError('PW_QUERY_INVALID', 'low must be true or false', { pointer: '/low' });
    const rows = await listStock(d.store.db, {
      sku: q.sku || undefined,
      warehouse: q.warehouse || undefined,
      low: q.low === 'true' ? true : q.low === 'false' ? false : undefined,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit,
    });
    const last = rows[rows.length - 1];
    return { stock: rows.map(stockWire), next_cursor: rows.length === limit && last ? encodeCursor(last) : null };
  });

  app.get('/v1/stock/:sku', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { sku } = req.params as { sku: string };
    const a = (await availability(d.store.db, [sku])).get(sku);
    if (!a || a.warehouses.length === 0)
      throw new AppError('PW_STOCK_NOT_FOUND', `no stock known for SKU "${sku}" (it appears with its first reading, order or shipment)`, {
        status: 404,
      });
    return {
      sku,
      on_hand: a.onHand,
      reserved: a.reserved,
      available: a.available,
      days_of_cover: a.daysOfCover,
      warehouses: a.warehouses.map(stockWire),
    };
  });

  app.get('/v1/vehicles', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    if (!q.customer_id)
      throw new AppError('PW_QUERY_INVALID', 'customer_id is required (GET /v1/vehicles/:vin reads one vehicle)', {
        pointer: '/customer_id',
      });
    return { vehicles: (await vehiclesOfCustomer(d.store.db, q.customer_id)).map(vehicleWire) };
  });

  app.get('/v1/vehicles/:vin', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { vin } = req.params as { vin: string };
    const v = await getVehicle(d.store.db, vin);
    if (!v)
      throw new AppError('PW_VEHICLE_NOT_FOUND', `no vehicle "${vin}" (vehicles appear with their first signal or registration)`, {
        status: 404,
      });
    return vehicleWire(v);
  });
}
