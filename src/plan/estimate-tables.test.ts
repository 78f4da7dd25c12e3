/**
 * Per-category demand, damage and return rates and warehouse failure hazards read from the tables (SQLite and
 * PostgreSQL): rows generated from known parameters (seeded), estimated back; each estimate is
 * within 10 % of the truth or has it inside its 95 % interval.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend, insertRows } from '../../test/support/backends.ts';
import type { Store } from '../store/index.ts';
import { defaultScenario } from './defaults.ts';
import type { Estimated } from './estimate.ts';
import {
  categoryIdFor,
  estimateDamageRates,
  estimateReturnRates,
  withEstimatedCategories,
  withEstimatedDamage,
  withEstimatedReturns,
} from './estimate-categories.ts';
import { estimateWarehouseHazards, warehouseOf, withEstimatedWarehouses } from './estimate-warehouses.ts';
import { countQuantile, pathGenerator, uniform } from './rng.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday

const ok = (e: Estimated | undefined, truth: number) =>
  e !== undefined && (Math.abs(e.value - truth) <= 0.1 * Math.abs(truth) || (e.ci95[0] <= truth && truth <= e.ci95[1]));

const PRODUCTS: [string, string | null, number][] = [
  ['BRK-1', 'Brakes/Pads', 60],
  ['BRK-2', 'Brakes/Rotors', 60],
  ['BAT-1', 'Electrical/Batteries', 120],
  ['WIP-1', 'Visibility/Wipers', 12],
  ['TOOL-1', 'Tools', 25],
  ['MISC-1', null, 5],
];

async function seedProducts(store: Store) {
  await insertRows(
    store,
    'products',
    PRODUCTS.map(([sku, category, price]) => ({
      sku,
      name: sku,
      category,
      category_key: category?.toLowerCase() ?? null,
      price,
      currency: 'EUR',
      unit_cost: null,
      weight_kg: null,
      hazardous: 0,
      temperature_sensitive: 0,
      attributes: '{}',
      search: sku.toLowerCase(),
      created_ms: T0,
      updated_ms: T0,
    })),
  );
}

describeEachBackend('plan: per-category, damage and equipment estimates from the tables', (make) => {
  let backend: Backend;
  let store: Store;
  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    await seedProducts(store);
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('maps catalogue categories to scenario categories by name or segment', () => {
    const ids = new Set(['brakes', 'batteries', 'fluids']);
    expect(categoryIdFor('Brakes/Pads', ids)).toBe('brakes');
    expect(categoryIdFor('Electrical/Batteries', ids)).toBe('batteries');
    expect(categoryIdFor('Visibility/Wipers', ids)).toBe('visibility');
    expect(categoryIdFor(null, ids)).toBe('uncategorised');
    expect(categoryIdFor(' Fluids ', ids)).toBe('fluids');
  });

  it('recovers per-category orders per day, weekly pattern, dispersion and order value from carts × catalogue', async () => {
    const g = pathGenerator(21, 0);
    const weekly = [1.2, 1.1, 1, 1, 1.05, 0.9, 0.75];
    const wMean = weekly.reduce((a, b) => a + b, 0) / 7;
    const rows: Record<string, unknown>[] = [];
    const cart = (d: number, lines: Record<string, { quantity: number; price: number }>, ordered = true) =>
      rows.push({
        cart_id: `c-${rows.length}`,
        status: ordered ? 'checked_out' : 'active',
        lines: JSON.stringify(lines),
        value: 0,
        last_activity_ms: T0 + d * DAY + 3_600_000 + rows.length,
        updated_seq: rows.length + 1,
        order_id: ordered ? `o-${rows.length}` : null,
      });
    for (let d = 0; d < 182; d++) {
      const w = (weekly[d % 7] as number) / wMean;
      // Brakes: NB(40·w, k = 8); a quarter of them also buy a wiper (an order in both categories).
      for (let i = countQuantile(uniform(g), 40 * w, 8); i > 0; i--) {
        const q = uniform(g) < 0.5 ? 1 : 2;
        const lines: Record<string, { quantity: number; price: number }> = {
          [uniform(g) < 0.5 ? 'BRK-1' : 'BRK-2']: { quantity: q, price: 60 },
        };
        if (uniform(g) < 0.25) lines['WIP-1'] = { quantity: 1, price: 12 };
        cart(d, lines);
      }
      // Batteries: Poisson(12·w), one at 120.
      for (let i = countQuantile(uniform(g), 12 * w, 0); i > 0; i--) cart(d, { 'BAT-1': { quantity: 1, price: 120 } });
      // Wipers on their own: Poisson(10·w).
      for (let i = countQuantile(uniform(g), 10 * w, 0); i > 0; i--) cart(d, { 'WIP-1': { quantity: 1, price: 12 } });
      if (d % 10 === 0) cart(d, { 'TOOL-1': { quantity: 1, price: 25 } }); // 19 orders: too few to shape
      if (d % 30 === 0) cart(d, { 'GONE-9': { quantity: 1, price: 7 } }); // not in the catalogue
      cart(d, { 'BAT-1': { quantity: 3, price: 120 } }, false); // not ordered: no demand
    }
    await insertRows(store, 'carts', rows);
    const s0 = defaultScenario();
    const s = {
      ...s0,
      shocks: [
        { kind: 'demand' as const, target: ['filters'], startDay: 0, days: 7, factor: 1.3 },
        { kind: 'cost' as const, target: ['brakes', 'filters'], startDay: 0, days: 91, factor: 1.1 },
      ],
    };
    const r = await withEstimatedCategories(store, s);
    const by = new Map(r.categories.map((c) => [c.category, c]));
    expect([...by.keys()].sort()).toEqual(['batteries', 'brakes', 'tools', 'uncategorised', 'visibility']);
    expect(ok(by.get('brakes')?.ordersPerDay, 40)).toBe(true);
    expect(ok(by.get('brakes')?.dispersion, 8)).toBe(true);
    // Brake lines only: 60 × (1 or 2); the wiper in the same order counts for wipers.
    expect(ok(by.get('brakes')?.orderValue, 90)).toBe(true);
    expect(ok(by.get('batteries')?.ordersPerDay, 12)).toBe(true);
    expect(ok(by.get('batteries')?.orderValue, 120)).toBe(true);
    expect(ok(by.get('visibility')?.ordersPerDay, 10 + 0.25 * 40)).toBe(true);
    for (const [i, w] of (by.get('brakes')?.weekly ?? []).entries()) expect(Math.abs(w - (weekly[i] as number) / wMean)).toBeLessThan(0.15);
    expect(by.get('tools')).toMatchObject({ orders: 19, dispersion: { value: 0 } });
    expect(r.unknownSkus).toBe(7);
    // The scenario: estimated categories replace the assumed ones; assumed values kept by id.
    const brakes = r.scenario.categories.find((c) => c.id === 'brakes');
    expect(brakes?.ordersPerDay.source).toBe('carts table × catalogue categories');
    expect(brakes?.costRatio).toEqual(s0.categories.find((c) => c.id === 'brakes')?.costRatio);
    expect(brakes?.aov.value).toBeCloseTo(by.get('brakes')?.orderValue.value ?? 0, 9);
    expect(r.scenario.categories.find((c) => c.id === 'visibility')?.costRatio.value).toBe(0.6); // blank
    expect(r.dropped).toContain('filters');
    expect(r.scenario.shocks).toEqual([{ kind: 'cost', target: ['brakes'], startDay: 0, days: 91, factor: 1.1 }]);
  });

  it('keeps the assumed categories with fewer than 14 days of orders', async () => {
    await insertRows(store, 'carts', [
      {
        cart_id: 'c1',
        status: 'checked_out',
        lines: '{"BRK-1":{"quantity":1,"price":60}}',
        value: 60,
        last_activity_ms: T0,
        updated_seq: 1,
        order_id: 'o1',
      },
    ]);
    const s = defaultScenario();
    const r = await withEstimatedCategories(store, s);
    expect(r.scenario).toBe(s);
    expect(r.categories).toEqual([]);
  });

  it('recovers damage rates per category from shock / temperature breaches of delivered shipments', async () => {
    const g = pathGenerator(22, 0);
    const ships: Record<string, unknown>[] = [];
    const breaches: Record<string, unknown>[] = [];
    const truth = { 'BRK-1': 0.04, 'BAT-1': 0.1 } as Record<string, number>;
    const ship = (sku: string, delivered: boolean) => {
      const id = `s-${ships.length}`;
      ships.push({
        shipment_id: id,
        carrier: 'dhl',
        lines: JSON.stringify([{ sku, quantity: 1 }]),
        created_ms: T0,
        delivered_ms: delivered ? T0 + DAY : null,
        statuses: '[]',
        status: delivered ? 'delivered' : 'in_transit',
        positions_count: 0,
        stationary_fixes: 0,
        delayed: 0,
        delay_reasons: '[]',
        delay_episodes: '{}',
        updated_seq: ships.length + 1,
      });
      return id;
    };
    const breach = (id: string, kind: string) =>
      breaches.push({
        id: `b-${breaches.length}`,
        shipment_id: id,
        kind,
        value: 1,
        unit: null,
        limit_min: null,
        limit_max: null,
        reading_ms: T0,
        reading_event_id: null,
        raised_ms: T0,
      });
    for (const [sku, n] of [
      ['BRK-1', 2000],
      ['BAT-1', 1000],
    ] as const)
      for (let i = 0; i < n; i++) {
        const id = ship(sku, true);
        if (uniform(g) < (truth[sku] as number)) {
          breach(id, uniform(g) < 0.5 ? 'shock' : 'temperature');
          if (uniform(g) < 0.3) breach(id, 'shock'); // a second breach: still one damaged shipment
        } else if (uniform(g) < 0.05) breach(id, 'humidity'); // not a damage kind
      }
    for (let i = 0; i < 50; i++) breach(ship('BRK-1', false), 'shock'); // not delivered: not counted
    for (let i = 0; i < 10; i++) ship('WIP-1', true);
    await insertRows(store, 'shipments', ships);
    await insertRows(store, 'shipment_breaches', breaches);
    const est = await estimateDamageRates(store, new Set(['brakes', 'batteries']));
    const by = new Map(est.map((e) => [e.category, e.damageRate]));
    expect(est[0]?.category).toBe('all');
    expect(by.get('all')?.n).toBe(3010);
    expect(ok(by.get('brakes'), 0.04)).toBe(true);
    expect(ok(by.get('batteries'), 0.1)).toBe(true);
    expect(by.get('visibility')).toMatchObject({ value: 0, n: 10 });
    const s = defaultScenario();
    const r = await withEstimatedDamage(store, s);
    const cat = (id: string) => r.scenario.categories.find((c) => c.id === id);
    expect(cat('brakes')?.damageRate.n).toBe(2000);
    expect(cat('brakes')?.damageRate.source).toMatch(/^shipments table/);
    expect(cat('fluids')?.damageRate).toEqual(s.categories.find((c) => c.id === 'fluids')?.damageRate);
  });

  it('recovers return rates per category from refunded orders, leaving out orders too young to have come back', async () => {
    const g = pathGenerator(23, 0);
    const orders: Record<string, unknown>[] = [];
    const refunds: Record<string, unknown>[] = [];
    const truth = { 'BRK-1': 0.05, 'BAT-1': 0.12 } as Record<string, number>;
    const NOW = T0 + 60 * DAY;
    const order = (skus: string[], timeMs: number) => {
      const id = `o-${orders.length}`;
      orders.push({
        order_id: id,
        customer_ref: null,
        time_ms: timeMs,
        store: 'main',
        revenue: 10,
        lines: JSON.stringify(skus.map((sku) => ({ sku, price: 5, quantity: 1 }))),
      });
      return id;
    };
    const refund = (id: string, lines: string[] = []) =>
      refunds.push({
        order_id: id,
        time_ms: NOW - DAY,
        amount: null,
        lines: JSON.stringify(lines.map((sku) => ({ sku, price: 5, quantity: 1 }))),
      });
    for (const [sku, n] of [
      ['BRK-1', 2000],
      ['BAT-1', 1000],
    ] as const)
      for (let i = 0; i < n; i++) {
        const id = order([sku], T0 + Math.floor(uniform(g) * 40) * DAY);
        if (uniform(g) < (truth[sku] as number)) refund(id);
      }
    // A mixed order refunded for its battery only counts as a battery return, not a brake one.
    for (let i = 0; i < 100; i++) refund(order(['BRK-1', 'BAT-1'], T0 + DAY), ['BAT-1']);
    // Orders of the last 14 days are left out, refunded or not.
    for (let i = 0; i < 200; i++) refund(order(['BRK-1'], NOW - 5 * DAY));
    await insertRows(store, 'learn_orders', orders);
    await insertRows(store, 'learn_refunds', refunds);
    const est = await estimateReturnRates(store, new Set(['brakes', 'batteries']), { nowMs: NOW });
    const by = new Map(est.map((e) => [e.category, e.returnRate]));
    expect(est[0]?.category).toBe('all');
    expect(by.get('all')?.n).toBe(3100);
    expect(by.get('brakes')?.n).toBe(2100);
    expect(by.get('batteries')?.n).toBe(1100);
    // brakes: ≈ 5 % of 2000 plus 0 of the 100 mixed orders; batteries: ≈ 12 % of 1000 plus all 100 mixed ones.
    expect(ok(by.get('brakes'), (0.05 * 2000) / 2100)).toBe(true);
    expect(ok(by.get('batteries'), (0.12 * 1000 + 100) / 1100)).toBe(true);
    const s = defaultScenario();
    const r = await withEstimatedReturns(store, s, { nowMs: NOW });
    const cat = (id: string) => r.scenario.categories.find((c) => c.id === id);
    expect(cat('brakes')?.returnRate.n).toBe(2100);
    expect(cat('brakes')?.returnRate.source).toMatch(/^learn_orders × learn_refunds/);
    expect(cat('fluids')?.returnRate).toEqual(s.categories.find((c) => c.id === 'fluids')?.returnRate);
    // Nothing old enough: the assumed rates stay.
    expect(await estimateReturnRates(store, new Set(['brakes']), { nowMs: T0 })).toEqual([]);
  });

  it('recovers each warehouse’s failure hazard and repair days from sensor.sustained conditions', async () => {
    const g = pathGenerator(23, 0);
    const days = 720;
    const now = T0 + days * DAY;
    await insertRows(
      store,
      'warehouses',
      ['DE-HAM-1', 'DE-MUC-1', 'DE-CGN-1'].map((id) => ({
        id,
        name: id,
        region: null,
        country: 'DE',
        lat: null,
        lon: null,
        timezone: null,
        cutoff_time: null,
        handling_hours: null,
        attributes: '{}',
        created_ms: T0,
        updated_ms: T0,
      })),
    );
    const device = (device_id: string, store_: string | null) => ({
      device_id,
      store: store_,
      first_seen_ms: T0,
      last_seen_ms: now,
      message_count: 1,
      silent: 0,
      updated_seq: 1,
    });
    await insertRows(store, 'device_state', [
      device('env-de-ham-1', null),
      device('vib-de-ham-1', null),
      device('coldroom-7', 'de-muc-1'),
      device('tracker-9', null),
    ]);
    const conds: Record<string, unknown>[] = [];
    const cond = (key: string, a: number, b: number | null) =>
      conds.push({
        id: `k-${conds.length}`,
        kind: 'sensor.sustained',
        key,
        status: b === null ? 'raised' : 'cleared',
        severity: 'critical',
        summary: key,
        details: '{}',
        raised_ms: Math.round(a),
        raised_event_id: `e-${conds.length}`,
        last_raised_ms: Math.round(a),
        raise_count: 1,
        acknowledged_ms: null,
        acknowledged_by: null,
        note: null,
        cleared_ms: b === null ? null : Math.round(b),
        cleared_event_id: null,
        updated_seq: conds.length + 1,
      });
    /** Failures as a Poisson process in working time (rate `hazard` per day), down Exponential(repair) days. */
    function failures(hazard: number, repair: number, emit: (a: number, b: number | null) => void) {
      let t = T0;
      for (;;) {
        t += (-Math.log(uniform(g)) / hazard) * DAY;
        if (t >= now) return;
        const end = t + -Math.log(uniform(g)) * repair * DAY;
        emit(t, end < now ? end : null);
        t = end;
      }
    }
    // Hamburg: the cold room and the conveyor report each failure, overlapping: one failure each time.
    failures(0.05, 0.5, (a, b) => {
      cond('cold-room-temp|env-de-ham-1|coldroom_temp', a, b);
      cond('conveyor|vib-de-ham-1|conveyor_vibration', a + 0.1 * ((b ?? now) - a), b);
    });
    failures(0.02, 2, (a, b) => cond('cold-room-temp|coldroom-7|temp', a, b));
    cond('low-12v|tracker-9|voltage', T0 + DAY, T0 + 2 * DAY); // a device of no warehouse
    await insertRows(store, 'conditions', conds);
    await insertRows(
      store,
      'stock_order_lines',
      [
        ['DE-HAM-1', 60],
        ['DE-MUC-1', 30],
        ['DE-CGN-1', 10],
      ].flatMap(([w, n]) =>
        Array.from({ length: n as number }, (_, i) => ({
          order_id: `${w}-${i}`,
          sku: 'BRK-1',
          warehouse: w,
          quantity: 1,
          shipped: 0,
          category: null,
          time_ms: T0,
          event_id: `${w}-${i}`,
        })),
      ),
    );
    expect(warehouseOf('env-de-ham-1', null, new Map([['de-ham-1', 'DE-HAM-1']]))).toBe('DE-HAM-1');
    expect(warehouseOf('env-de-ham-10', null, new Map([['de-ham-1', 'DE-HAM-1']]))).toBeUndefined();
    const r = await estimateWarehouseHazards(store, ['DE-HAM-1', 'DE-MUC-1', 'DE-CGN-1'], { nowMs: now });
    expect(r.unassignedDevices).toBe(1);
    const by = new Map(r.warehouses.map((w) => [w.warehouse, w]));
    expect(by.get('DE-HAM-1')?.devices).toBe(2);
    expect(ok(by.get('DE-HAM-1')?.hazardPerDay, 0.05)).toBe(true);
    expect(ok(by.get('DE-HAM-1')?.repairDays, 0.5)).toBe(true);
    expect(ok(by.get('DE-MUC-1')?.hazardPerDay, 0.02)).toBe(true);
    expect(ok(by.get('DE-MUC-1')?.repairDays, 2)).toBe(true);
    expect(by.has('DE-CGN-1')).toBe(false);
    // Exposure excludes downtime: days − Σ repair ≈ days · (1 − h·repair / (1 + h·repair)).
    expect(by.get('DE-HAM-1')?.exposureDays).toBeLessThan(days);
    const s = defaultScenario();
    const w = await withEstimatedWarehouses(
      store,
      {
        ...s,
        shocks: [
          { kind: 'warehouse_failure', target: ['munich-cold'], startDay: 1, days: 2, factor: 1 },
          { kind: 'warehouse_failure', target: ['de-ham-1'], startDay: 3, days: 2, factor: 1 },
        ],
      },
      { nowMs: now },
    );
    expect(w.scenario.warehouses.map((x) => [x.id, x.share])).toEqual([
      ['DE-CGN-1', 0.1],
      ['DE-HAM-1', 0.6],
      ['DE-MUC-1', 0.3],
    ]);
    expect(w.scenario.warehouses[1]?.hazardPerDay.source).toMatch(/^conditions/);
    expect(w.scenario.warehouses[0]?.hazardPerDay.source).toBe('assumed'); // no devices in Cologne
    expect(w.scenario.shocks).toEqual([{ kind: 'warehouse_failure', target: ['DE-HAM-1'], startDay: 3, days: 2, factor: 1 }]);
  });

  it('keeps the assumed warehouses when no device was observed for 14 days', async () => {
    const s = defaultScenario();
    const r = await withEstimatedWarehouses(store, s, { nowMs: T0 });
    expect(r.scenario).toBe(s);
  });
});
