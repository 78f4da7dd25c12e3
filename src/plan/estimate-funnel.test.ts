/**
 * The promise penalty from the funnel tables (SQLite and PostgreSQL): views with a known
 * conversion curve (seeded), orders that follow some of them; the fitted slope must be within
 * 10 % of the truth or have it inside its 95 % interval, and the cells must count what the rows say.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend, insertRows } from '../../test/support/backends.ts';
import type { Store } from '../store/index.ts';
import { defaultScenario } from './defaults.ts';
import { estimatePromiseFunnel, promiseFunnelCells, withEstimatedPromisePenalty } from './estimate-funnel.ts';
import { pathGenerator, uniform } from './rng.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 40 * DAY;

describeEachBackend('plan: promise penalty from the funnel', (make) => {
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

  it('fits conversion ∝ exp(−β · promised days) from views and the orders that followed them', async () => {
    const beta = 0.35;
    const g = pathGenerator(31, 0);
    const views: Record<string, unknown>[] = [];
    const orders: Record<string, unknown>[] = [];
    const order = (ref: string, timeMs: number, sku: string) =>
      orders.push({
        order_id: `o${orders.length}`,
        customer_ref: ref,
        time_ms: timeMs,
        store: 'main',
        revenue: 10,
        lines: JSON.stringify([{ sku, price: 10, quantity: 1 }]),
      });
    for (const days of [1, 1.5, 2, 2.5, 3, 3.5, 4])
      for (let i = 0; i < 800; i++) {
        const ref = `c-${views.length}`;
        const t = T0 + Math.floor(uniform(g) * 30 * DAY);
        // Jitter inside the bucket (0.25 days wide): still counted at its centre.
        views.push({ key: `k${views.length}`, customer_ref: ref, sku: 'BRK-1', time_ms: t, promise_days: days + (uniform(g) - 0.5) * 0.2 });
        const u = uniform(g);
        const v = uniform(g);
        if (u < 0.3 * Math.exp(-beta * days)) order(ref, t + Math.floor(v * 2 * DAY), 'BRK-1');
        else if (v < 0.1)
          order(ref, t + DAY, 'OTHER'); // another SKU: not a conversion of this view
        else if (v < 0.2) order(ref, t + 4 * DAY, 'BRK-1'); // after the 3-day window: not one either
      }
    // Too young: its window has not ended.
    for (let i = 0; i < 100; i++) views.push({ key: `y${i}`, customer_ref: `y${i}`, sku: 'BRK-1', time_ms: NOW - DAY, promise_days: 9 });
    await insertRows(store, 'learn_promise_views', views);
    await insertRows(store, 'learn_orders', orders);

    const cells = await promiseFunnelCells(store, { nowMs: NOW });
    expect(cells.map((c) => c.promiseDays)).toEqual([1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(cells.every((c) => c.sessions === 800)).toBe(true);
    const converted = orders.filter((o) => {
      const v = views.find((x) => x.customer_ref === o.customer_ref) as { time_ms: number };
      return (o.lines as string).includes('BRK-1') && (o.time_ms as number) <= v.time_ms + 3 * DAY;
    }).length;
    expect(cells.reduce((a, c) => a + c.orders, 0)).toBe(converted);

    const est = await estimatePromiseFunnel(store, { nowMs: NOW });
    const p = est?.penalty;
    expect(p?.n).toBe(5600);
    expect(p && (Math.abs(p.value - beta) <= 0.1 * beta || (p.ci95[0] <= beta && beta <= p.ci95[1]))).toBe(true);
    expect(p?.source).toMatch(/^learn_promise_views × learn_orders/);

    const s = defaultScenario();
    const r = await withEstimatedPromisePenalty(store, s, { nowMs: NOW });
    expect(r.scenario.promisePenaltyPerDay.value).toBe(p?.value);
    expect(r.scenario.promisePenaltyPerDay.n).toBe(5600);
    // Below the view minimum the assumed penalty stays.
    const few = await withEstimatedPromisePenalty(store, s, { nowMs: NOW, minViews: 10_000 });
    expect(few.scenario).toBe(s);
  });

  it('gives nothing without views or with one promise only', async () => {
    expect(await estimatePromiseFunnel(store, { nowMs: NOW })).toBeUndefined();
    await insertRows(
      store,
      'learn_promise_views',
      Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, customer_ref: `c${i}`, sku: 'A', time_ms: T0, promise_days: 2 })),
    );
    expect(await estimatePromiseFunnel(store, { nowMs: NOW })).toBeUndefined();
    const s = defaultScenario();
    expect((await withEstimatedPromisePenalty(store, s, { nowMs: NOW })).scenario).toBe(s);
  });
});
