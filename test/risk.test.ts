/**
 * Plan over HTTP: simulate, compare what-ifs (CRN) with tornado and recommendations, apply a
 * recommendation (an event in the log), and bad input answered with problem+json and bounded work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
let server: TestServer;
let pw: Pitwall;
let reader: string;
let admin: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'risk', clock });
  pw = server.pw;
  reader = (await createKey(pw.store.db, clock, { name: 'r', scopes: ['read'] })).key;
  admin = (await createKey(pw.store.db, clock, { name: 'a', scopes: ['admin'] })).key;
});
afterAll(async () => {
  await server?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the test reads deep JSON answers
type Json = Record<string, any>;

async function post(url: string, key: string, body: unknown): Promise<{ status: number; json: Json; type: string | null }> {
  const res = await fetch(`${pw.httpUrl}${url}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json, type: res.headers.get('content-type') };
}

describe('risk over HTTP', () => {
  it('simulates a scenario: daily bands, liquidity-at-risk, parameters with their sources', async () => {
    const r = await post('/v1/risk/simulate', reader, { seed: 5, paths: 2000, horizon_days: 28, cash: { floor: 150_000 } });
    expect(r.status).toBe(200);
    const s = r.json.summary;
    expect(s.cash).toHaveLength(28);
    expect(s.cash[0]).toEqual({
      day: 0,
      p5: expect.any(Number),
      p50: expect.any(Number),
      p95: expect.any(Number),
      mean: expect.any(Number),
    });
    expect(s.liquidity_at_risk.probability.value).toBeGreaterThan(0);
    expect(s.liquidity_at_risk.cumulative_by_day).toHaveLength(28);
    expect(s.gross_margin_total.se).toBeGreaterThan(0);
    expect(r.json.parameters).toContainEqual({ pointer: '/cash/opening', value: 180_000, sd: 0, source: 'assumed', n: 0 });
    const again = await post('/v1/risk/simulate', reader, { seed: 5, paths: 2000, horizon_days: 28, cash: { floor: 150_000 } });
    expect(again.json.summary).toEqual(s);
    // With no shipments or orders in this store yet, the estimates change nothing.
    const est = await post('/v1/risk/simulate', reader, {
      seed: 5,
      paths: 2000,
      horizon_days: 28,
      cash: { floor: 150_000 },
      estimate_lanes: true,
      estimate_demand: true,
    });
    expect(est.json.estimated).toEqual({ lanes: [], demand: null, order_value: null });
    expect(est.json.summary).toEqual(s);
  });

  it('compares the standard what-ifs, with tornado and recommendations, and applies one', async () => {
    const r = await post('/v1/risk/scenarios', reader, {
      base: { paths: 300, horizon_days: 35 },
      tornado: true,
      recommend: true,
    });
    expect(r.status).toBe(200);
    expect(r.json.scenarios.map((x: Json) => x.scenario)).toEqual([
      'dhl outage 7 days',
      'demand +30 %',
      'munich-cold failure 5 days',
      'supplier price +8 %',
    ]);
    expect(r.json.scenarios[1].gross_margin_delta.value).toBeGreaterThan(0);
    expect(r.json.tornado.bars.length).toBeGreaterThan(5);
    const recs = r.json.recommendations.recommendations as Json[];
    expect(recs.length).toBeGreaterThan(0);
    const head = await pw.log.head();
    const applied = await post('/v1/risk/recommendations/apply', admin, { recommendation: recs[0], by: 'cfo' });
    expect(applied.status).toBe(202);
    const [logged] = await pw.log.read(head, 10);
    expect(logged?.event.type).toBe('plan.recommendation_applied');
    expect(logged?.event.data).toMatchObject({ recommendation_id: recs[0]?.id, category: recs[0]?.category, by: 'cfo' });
    // Reading is not enough to apply.
    expect((await post('/v1/risk/recommendations/apply', reader, { recommendation: recs[0] })).status).toBe(403);
  });

  it.each([
    ['/v1/risk/simulate', { horizon_days: -1 }, '/horizon_days'],
    ['/v1/risk/simulate', { paths: 5_000_000 }, '/paths'],
    ['/v1/risk/simulate', { paths: 100_000, horizon_days: 366 }, '/paths'],
    ['/v1/risk/simulate', { categories: 'lots' }, '/categories'],
    ['/v1/risk/scenarios', { scenarios: [{ shocks: [{ kind: 'demand' }] }] }, '/scenarios/0/shocks/0/factor'],
    ['/v1/risk/scenarios', { base: { paths: 0 } }, '/base/paths'],
    ['/v1/risk/scenarios', { tornado: 'yes' }, '/tornado'],
    ['/v1/risk/simulate', { estimate_demand: 'please' }, '/estimate_demand'],
    ['/v1/risk/simulate', { estimate_damage: 1 }, '/estimate_damage'],
    ['/v1/risk/simulate', { estimate: 'some' }, '/estimate'],
    // The funnel penalty has no table to come from yet (docs/plan.md, Open): not silently ignored.
    ['/v1/risk/simulate', { estimate_funnel: true }, '/estimate_funnel'],
    ['/v1/risk/scenarios', { base: { estimate_categories: 'yes' } }, '/base/estimate_categories'],
  ])('%s %j → 400 PW_RISK_SCENARIO at %s', async (url, body, pointer) => {
    const r = await post(url, reader, body);
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/application\/problem\+json/);
    expect(r.json).toMatchObject({ code: 'PW_RISK_SCENARIO', pointer });
  });

  it('rejects a malformed recommendation', async () => {
    const r = await post('/v1/risk/recommendations/apply', admin, { recommendation: { id: 'x', discount: { from: 0, to: 5 } } });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('PW_REQUEST_INVALID');
  });
});

describe('risk over HTTP with estimates from the tables', () => {
  it('estimate: "all" on an empty store changes nothing and says so', async () => {
    const body = { seed: 5, paths: 1000, horizon_days: 21 };
    const plain = await post('/v1/risk/simulate', reader, body);
    const est = await post('/v1/risk/simulate', reader, { ...body, estimate: 'all' });
    expect(est.status).toBe(200);
    expect(est.json.estimated).toEqual({
      lanes: [],
      categories: { categories: [], dropped: [], unknown_skus: 0 },
      demand: null,
      order_value: null,
      warehouses: { warehouses: [], unassigned_devices: 0 },
      damage: [],
      returns: [],
      promise: null,
    });
    expect(est.json.summary).toEqual(plain.json.summary);
  });

  it('estimate_categories: orders by catalogue category become the scenario’s categories', async () => {
    const db = pw.store.db;
    const t0 = clock.now() - 28 * 86_400_000;
    await db
      .insertInto('products')
      .values(
        [
          ['RISK-BRK', 'Brakes/Pads', 60],
          ['RISK-WIP', 'Visibility/Wipers', 12],
        ].map(([sku, category, price]) => ({
          sku: sku as string,
          name: sku as string,
          category: category as string,
          category_key: (category as string).toLowerCase(),
          price: price as number,
          currency: 'EUR',
          unit_cost: null,
          weight_kg: null,
          hazardous: 0,
          temperature_sensitive: 0,
          attributes: '{}',
          search: (sku as string).toLowerCase(),
          created_ms: t0,
          updated_ms: t0,
        })),
      )
      .execute();
    const carts = Array.from({ length: 28 * 5 }, (_, i) => ({
      cart_id: `risk-cart-${i}`,
      status: 'checked_out',
      lines: JSON.stringify(i % 5 === 0 ? { 'RISK-WIP': { quantity: 1, price: 12 } } : { 'RISK-BRK': { quantity: 1, price: 60 } }),
      value: 0,
      last_activity_ms: t0 + Math.floor(i / 5) * 86_400_000 + i,
      updated_seq: i + 1,
      order_id: `risk-order-${i}`,
    }));
    await db.insertInto('carts').values(carts).execute();
    const r = await post('/v1/risk/simulate', reader, { seed: 5, paths: 1000, horizon_days: 21, estimate_categories: true });
    expect(r.status).toBe(200);
    const cats = r.json.estimated.categories.categories as Json[];
    expect(cats.map((c) => [c.category, c.orders])).toEqual([
      ['brakes', 112],
      ['visibility', 28],
    ]);
    expect(cats[0]?.orders_per_day.value).toBeCloseTo(4, 9);
    expect(r.json.estimated.categories.dropped).toContain('filters');
    expect(r.json.parameters).toContainEqual(
      expect.objectContaining({ pointer: '/categories/0/orders_per_day', value: 4, source: 'carts table × catalogue categories', n: 28 }),
    );
    expect(r.json.parameters).toContainEqual(expect.objectContaining({ pointer: '/categories/0/aov', value: 60 }));
  });
});
