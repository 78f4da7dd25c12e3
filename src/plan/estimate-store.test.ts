import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import type { Store } from '../store/index.ts';
import { defaultScenario } from './defaults.ts';
import { laneObservations, orderHistory, withEstimatedDemand, withEstimatedLanes } from './estimate-store.ts';
import { countQuantile, pathGenerator, uniform } from './rng.ts';

const DAY = 86_400_000;

describeEachBackend('plan: lane estimates from the shipments table', (make) => {
  let backend: Backend;
  let store: Store;
  beforeEach(async () => {
    backend = make();
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  /** Delivered shipments on one lane, late with probability `rate` by exponential(mean) days. */
  async function seed(carrier: string, n: number, rate: number, mean: number, seedNo: number) {
    const g = pathGenerator(seedNo, 0);
    const rows = Array.from({ length: n }, (_, i) => {
      const created = 1_760_000_000_000 + i * 3_600_000;
      const promised = created + 2 * DAY;
      const u = uniform(g);
      const late = u < rate ? -mean * Math.log(uniform(g)) : -0.5 * uniform(g);
      return {
        shipment_id: `${carrier}-${i}`,
        carrier,
        origin: 'DE-LEJ',
        destination: 'DE-MUC',
        promised_ms: promised,
        created_ms: created,
        delivered_ms: Math.round(promised + late * DAY),
        statuses: '[]',
        status: 'delivered',
        positions_count: 0,
        stationary_fixes: 0,
        delayed: 0,
        delay_reasons: '[]',
        delay_episodes: '{}',
        updated_seq: i + 1,
      };
    });
    for (let i = 0; i < rows.length; i += 200)
      await store.db
        .insertInto('shipments')
        .values(rows.slice(i, i + 200))
        .execute();
  }

  it('recovers each lane’s disruption rate and mean delay and puts them in the scenario', async () => {
    await seed('dhl', 3000, 0.06, 1.5, 1);
    await seed('ups', 1500, 0.15, 0.8, 2);
    const obs = await laneObservations(store);
    expect(obs).toHaveLength(4500);
    const { scenario, lanes } = await withEstimatedLanes(store, defaultScenario());
    expect(scenario.lanes.map((l) => l.id).sort()).toEqual(['dhl:DE-LEJ->DE-MUC', 'ups:DE-LEJ->DE-MUC']);
    const truth: Record<string, [number, number]> = { dhl: [0.06, 1.5], ups: [0.15, 0.8] };
    for (const e of lanes) {
      const [rate, mean] = truth[e.lane.split(':')[0] ?? ''] ?? [0, 0];
      const ok = (v: { value: number; ci95: [number, number] }, t: number) =>
        Math.abs(v.value - t) <= 0.1 * t || (v.ci95[0] <= t && t <= v.ci95[1]);
      expect(ok(e.disruptionRate, rate)).toBe(true);
      // Delivery times are stored to the millisecond: the lateness survives the round trip.
      expect(ok(e.meanDelayDays, mean)).toBe(true);
    }
    const dhl = scenario.lanes.find((l) => l.carrier === 'dhl');
    expect(dhl?.share).toBe(3000);
    expect(dhl?.disruptionRate.source).toBe('shipments table');
    expect(dhl?.disruptionRate.n).toBe(3000);
    // The default dhl outage what-if still has a dhl lane to act on.
    expect(scenario.lanes.some((l) => l.carrier === 'dhl')).toBe(true);
  });

  it('keeps the assumed lanes when there are no delivered shipments', async () => {
    const s = defaultScenario();
    const { scenario, lanes } = await withEstimatedLanes(store, s);
    expect(lanes).toEqual([]);
    expect(scenario.lanes).toEqual(s.lanes);
  });

  it('recovers shop-wide demand (level, weekly pattern, dispersion) and order value from orders', async () => {
    const g = pathGenerator(9, 0);
    const weekly = [1.2, 1.1, 1, 1, 1.05, 0.9, 0.75];
    const wMean = weekly.reduce((a, b) => a + b, 0) / 7;
    // 2026-01-05 is a Monday.
    const day0 = Date.UTC(2026, 0, 5) / DAY;
    const rows: Record<string, unknown>[] = [];
    for (let d = 0; d < 168; d++) {
      const n = countQuantile(uniform(g), (60 * (weekly[d % 7] as number)) / wMean, 10);
      for (let i = 0; i < n; i++)
        rows.push({
          cart_id: `c-${d}-${i}`,
          status: 'checked_out',
          lines: '{}',
          value: 95 + 40 * (uniform(g) - 0.5),
          last_activity_ms: (day0 + d) * DAY + 3_600_000 + i,
          updated_seq: rows.length + 1,
          order_id: `o-${d}-${i}`,
        });
    }
    for (let i = 0; i < rows.length; i += 300)
      await store.db
        .insertInto('carts')
        .values(rows.slice(i, i + 300) as never)
        .execute();
    const h = await orderHistory(store);
    expect(h.days).toHaveLength(168);
    expect(h.days[0]?.weekday).toBe(0);
    const { scenario, demand, orderValue } = await withEstimatedDemand(store, defaultScenario());
    const ok = (v: { value: number; ci95: [number, number] } | undefined, t: number) =>
      v !== undefined && (Math.abs(v.value - t) <= 0.1 * t || (v.ci95[0] <= t && t <= v.ci95[1]));
    expect(ok(demand?.ordersPerDay, 60)).toBe(true);
    expect(ok(demand?.dispersion, 10)).toBe(true);
    expect(ok(orderValue, 95)).toBe(true);
    // A weekday's mean over 24 weeks at k = 10 has a standard error of ≈ 7 %: allow 3 of them.
    for (const [i, w] of (demand?.weekly ?? []).entries()) expect(Math.abs(w - (weekly[i] as number) / wMean)).toBeLessThan(0.21);
    const total = scenario.categories.reduce((a, c) => a + c.ordersPerDay.value, 0);
    expect(total).toBeCloseTo(demand?.ordersPerDay.value ?? 0, 6);
    expect(scenario.categories[0]?.ordersPerDay.source).toMatch(/^carts table/);
  });

  it('keeps the assumed demand with fewer than 14 days of orders', async () => {
    const s = defaultScenario();
    expect((await withEstimatedDemand(store, s)).scenario).toBe(s);
  });
});
