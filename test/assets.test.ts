/**
 * The assets module inside a real server: shelf readings over SenML, orders over Segment,
 * registrations and VSS signals over CloudEvents → `GET /v1/stock`, `GET /v1/stock/:sku`,
 * `GET /v1/vehicles/:vin`, `GET /v1/vehicles?customer_id=`, with `stock.low` and
 * `part.service_due` raised as conditions — on a FakeClock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

// Until src/state/index.ts re-exports the assets module's read functions, give the route them here.
const T0 = Date.parse('2026-06-01T09:00:00Z');
const clock = new FakeClock(T0);
const PADS = 'BRK-PAD-F-4471';
const HAM = 'DE-HAM-1';
const VIN = 'WVWZZZAUZHW123456';
const SOH = 'Vehicle.Powertrain.TractionBattery.StateOfHealth';
let server: TestServer;
let pw: Pitwall;
let key: string;
let configDir: string;

beforeAll(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), 'pitwall-assets-config-'));
  const config = path.join(configDir, 'pitwall.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      detectors: { assets: { stock: { default_warehouse: HAM, unit_weight_kg: { [PADS]: 2 } }, stock_low: { reorder_point: 10 } } },
    }),
  );
  server = await startTestServer({ name: 'assets', clock, env: { PITWALL_CONFIG: config } });
  pw = server.pw;
  key = (await createKey(pw.store.db, clock, { name: 't', scopes: ['ingest', 'read'] })).key;
});
afterAll(async () => {
  await server?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

/** Waits until the state consumer has folded everything, derived events included. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const head = await pw.log.head();
    await pw.state?.caughtUp(head);
    if ((await pw.log.head()) === head) return;
  }
}

async function post(url: string, body: unknown, contentType = 'application/json'): Promise<void> {
  const res = await fetch(`${pw.httpUrl}${url}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  await settle();
}

async function get(url: string, auth = true): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${pw.httpUrl}${url}`, { headers: auth ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const shelfReading = (kg: number, atMs: number) => [
  { bn: `urn:dev:mac:0024befffe804ff1:shelf:${HAM}:`, n: PADS, u: 'kg', v: kg, t: atMs / 1000 },
];

describe('assets, wired into the server', () => {
  it('folds shelf readings and orders into stock, lists it, and raises stock.low as a condition', async () => {
    await post('/v1/senml', shelfReading(40, T0));
    await post('/v1/track', {
      userId: 'u-1',
      event: 'Order Completed',
      messageId: 'm-1',
      timestamp: new Date(T0 + 60_000).toISOString(),
      properties: { order_id: 'ord-1', total: 194.7, products: [{ sku: PADS, quantity: 3, price: 64.9, category: 'Brakes/Pads' }] },
    });

    const one = await get(`/v1/stock/${PADS}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ sku: PADS, on_hand: 20, reserved: 3, available: 17 });
    expect((one.body.warehouses as unknown[])[0]).toMatchObject({
      sku: PADS,
      warehouse: HAM,
      category: 'Brakes/Pads',
      on_hand: 20,
      reserved: 3,
      available: 17,
      low: false,
      reading_at: new Date(T0).toISOString(),
      updated_at: new Date(T0 + 60_000).toISOString(),
    });
    expect((await get('/v1/stock?low=true')).body).toEqual({ stock: [], next_cursor: null });

    clock.set(T0 + 3_600_000);
    await post('/v1/senml', shelfReading(16, T0 + 3_600_000)); // 8 on the shelf, 3 reserved → 5 available
    const low = await get(`/v1/stock?low=true&warehouse=${HAM}`);
    expect((low.body.stock as { sku: string; available: number; low: boolean }[]).map((s) => [s.sku, s.available, s.low])).toEqual([
      [PADS, 5, true],
    ]);
    const conditions = await get('/v1/conditions?kind=stock.low');
    expect(conditions.body.conditions).toMatchObject([
      { key: `${PADS}@${HAM}`, status: 'raised', details: { available: 5, reorder_point: 10 } },
    ]);

    // Pagination by (sku, warehouse).
    await post('/v1/senml', [{ n: `urn:x:rfid:${HAM}:AAA-1`, v: 50, t: T0 / 1000 }]);
    const page1 = await get('/v1/stock?limit=1');
    expect((page1.body.stock as { sku: string }[]).map((s) => s.sku)).toEqual(['AAA-1']);
    const page2 = await get(`/v1/stock?limit=1&cursor=${page1.body.next_cursor}`);
    expect((page2.body.stock as { sku: string }[]).map((s) => s.sku)).toEqual([PADS]);
  });

  it('folds registrations and VSS signals into a vehicle with its owner, parts and due services', async () => {
    const ce = (id: string, type: string, atMs: number, data: Record<string, unknown>) => ({
      specversion: '1.0',
      id,
      source: 'urn:test:fleet',
      type,
      time: new Date(atMs).toISOString(),
      data,
    });
    clock.set(T0 + 2 * 3_600_000);
    await post(
      '/v1/events',
      [
        ce('reg-1', 'device.registered', T0, { device_id: 'dev_obd_1', kind: 'obd_dongle', customer_id: 'cus_1042', vin: VIN }),
        ce('sig-1', 'vehicle.signal', T0 + 3_600_000, { signal: SOH, value: 72, unit: 'percent', vin: VIN, device_id: 'dev_obd_1' }),
        ce('sig-2', 'vehicle.signal', T0 + 3_600_000, { signal: 'Vehicle.TraveledDistance', value: 48_210, unit: 'km', vin: VIN }),
      ],
      'application/cloudevents-batch+json',
    );
    await post(
      '/v1/events',
      [ce('sig-3', 'vehicle.signal', T0 + 7_200_000, { signal: SOH, value: 68.5, vin: VIN })],
      'application/cloudevents-batch+json',
    );

    const v = await get(`/v1/vehicles/${VIN}`);
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({
      vehicle_id: VIN,
      vin: VIN,
      customer_id: 'cus_1042',
      signals: {
        [SOH]: { value: 68.5, at: new Date(T0 + 7_200_000).toISOString() },
        'Vehicle.TraveledDistance': { value: 48_210, unit: 'km' },
      },
      devices: [{ device_id: 'dev_obd_1', kind: 'obd_dongle', customer_id: 'cus_1042' }],
      due_services: [{ part_type: 'battery', signal: SOH, value: 68.5, threshold: 70, direction: 'below', due: true, due_episodes: 1 }],
    });
    const conditions = await get('/v1/conditions?kind=part.service_due');
    expect(conditions.body.conditions).toMatchObject([
      { key: `${VIN}|${SOH}`, status: 'raised', details: { vin: VIN, customer_id: 'cus_1042' } },
    ]);
    expect(((await get('/v1/vehicles?customer_id=cus_1042')).body.vehicles as { vin: string }[]).map((x) => x.vin)).toEqual([VIN]);
  });

  it('answers 404, 400 and 401 as problem+json with documented codes', async () => {
    expect(await get('/v1/stock/NOPE')).toMatchObject({ status: 404, body: { code: 'PW_STOCK_NOT_FOUND' } });
    expect(await get('/v1/vehicles/NOPE')).toMatchObject({ status: 404, body: { code: 'PW_VEHICLE_NOT_FOUND' } });
    expect(await get('/v1/stock?low=maybe')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/stock?cursor=bogus')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/vehicles')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/stock', false)).toMatchObject({ status: 401, body: { code: 'PW_AUTH_MISSING' } });
  });
});
