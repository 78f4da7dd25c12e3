/**
 * Estimates from Pitwall's own tables: carrier × lane delays from delivered shipments (the
 * `shipments` projection: promised vs delivered), and shop-wide demand and order value from
 * orders (the `carts` projection: carts that became an order). Funnel and equipment estimators
 * are in estimate.ts and take plain observations.
 */
import type { Store } from '../store/index.ts';
import {
  type DemandEstimate,
  type Estimated,
  estimateDemand,
  estimateLanes,
  estimateMean,
  type LaneEstimate,
  type LaneObservation,
} from './estimate.ts';
import type { Lane, Scenario } from './types.ts';

const DAY = 86_400_000;

/** Delivered shipments with a promise, as lateness in days per `carrier:origin->destination`. */
export async function laneObservations(store: Store, opts: { sinceMs?: number; limit?: number } = {}): Promise<LaneObservation[]> {
  let q = store.db
    .selectFrom('shipments')
    .select(['carrier', 'origin', 'destination', 'promised_ms', 'delivered_ms'])
    .where('delivered_ms', 'is not', null)
    .where('promised_ms', 'is not', null)
    .where('carrier', 'is not', null);
  if (opts.sinceMs !== undefined) q = q.where('delivered_ms', '>=', opts.sinceMs);
  const rows = await q
    .orderBy('delivered_ms', 'desc')
    .limit(opts.limit ?? 200_000)
    .execute();
  return rows.map((r) => ({
    lane: `${r.carrier}:${r.origin ?? '?'}->${r.destination ?? '?'}`,
    lateDays: (Number(r.delivered_ms) - Number(r.promised_ms)) / DAY,
  }));
}

/**
 * Replaces the scenario's lanes by those estimated from delivered shipments (shares by volume),
 * when there are at least `minShipments` on a lane; returns the estimates it used.
 */
export async function withEstimatedLanes(
  store: Store,
  s: Scenario,
  opts: { sinceMs?: number; minShipments?: number } = {},
): Promise<{ scenario: Scenario; lanes: LaneEstimate[] }> {
  const obs = await laneObservations(store, opts.sinceMs !== undefined ? { sinceMs: opts.sinceMs } : {});
  const counts = new Map<string, number>();
  for (const o of obs) counts.set(o.lane, (counts.get(o.lane) ?? 0) + 1);
  const est = estimateLanes(obs, 'shipments table').filter((e) => (counts.get(e.lane) ?? 0) >= (opts.minShipments ?? 30));
  if (est.length === 0) return { scenario: s, lanes: [] };
  const lanes: Lane[] = est.map((e) => ({
    id: e.lane,
    carrier: e.lane.split(':')[0] ?? e.lane,
    share: counts.get(e.lane) ?? 0,
    disruptionRate: { value: e.disruptionRate.value, sd: e.disruptionRate.sd, source: e.disruptionRate.source, n: e.disruptionRate.n },
    meanDelayDays: { value: e.meanDelayDays.value, sd: e.meanDelayDays.sd, source: e.meanDelayDays.source, n: e.meanDelayDays.n },
  }));
  // Shocks naming a carrier that is no longer a lane would silently do nothing: keep only valid ones.
  const carriers = new Set(lanes.map((l) => l.carrier));
  const shocks = s.shocks.filter((sh) => sh.kind !== 'carrier_outage' || carriers.has(sh.target[0] ?? ''));
  return { scenario: { ...s, lanes, shocks }, lanes: est };
}

export interface OrderHistory {
  /** One entry per UTC day from the first to the last order day (days without orders count 0). */
  days: { weekday: number; orders: number }[];
  values: number[];
}

/**
 * Orders per UTC day and their values, from carts that became orders (their last activity is the
 * order). With `nowMs`, the UTC day it falls in is left out: it is not over, and counting it as a
 * whole day would lower the level and its weekday.
 */
export async function orderHistory(store: Store, opts: { sinceMs?: number; nowMs?: number } = {}): Promise<OrderHistory> {
  let q = store.db.selectFrom('carts').select(['last_activity_ms', 'value']).where('order_id', 'is not', null);
  if (opts.sinceMs !== undefined) q = q.where('last_activity_ms', '>=', opts.sinceMs);
  if (opts.nowMs !== undefined) q = q.where('last_activity_ms', '<', Math.floor(opts.nowMs / DAY) * DAY);
  const rows = await q.execute();
  if (rows.length === 0) return { days: [], values: [] };
  const dayOf = (ms: number) => Math.floor(ms / DAY);
  const counts = new Map<number, number>();
  for (const r of rows) counts.set(dayOf(Number(r.last_activity_ms)), (counts.get(dayOf(Number(r.last_activity_ms))) ?? 0) + 1);
  const first = Math.min(...counts.keys());
  const last = Math.max(...counts.keys());
  const days: OrderHistory['days'] = [];
  // 1970-01-01 was a Thursday: weekday 3 with Monday = 0.
  for (let d = first; d <= last; d++) days.push({ weekday: (d + 3) % 7, orders: counts.get(d) ?? 0 });
  return { days, values: rows.map((r) => Number(r.value)) };
}

/**
 * Scales the scenario's categories to the shop-wide demand estimated from orders: each
 * category's orders/day × (estimated total / scenario total), the estimated weekly pattern, and
 * the negative-binomial shape that gives the estimated variance of the total
 * (Var − μ = Σ μ_c² / k for independent categories). Needs ≥ 14 days of orders.
 */
export async function withEstimatedDemand(
  store: Store,
  s: Scenario,
  opts: { sinceMs?: number; nowMs?: number } = {},
): Promise<{ scenario: Scenario; demand: DemandEstimate | undefined; orderValue: Estimated | undefined }> {
  const h = await orderHistory(store, opts);
  if (h.days.length < 14) return { scenario: s, demand: undefined, orderValue: undefined };
  const demand = estimateDemand(h.days, 'carts table (orders)');
  const total = s.categories.reduce((a, c) => a + c.ordersPerDay.value, 0);
  const scale = total > 0 ? demand.ordersPerDay.value / total : 0;
  const mus = s.categories.map((c) => c.ordersPerDay.value * scale);
  const sumMu2 = mus.reduce((a, m) => a + m * m, 0);
  const k = demand.dispersion.value > 0 ? (sumMu2 / (demand.ordersPerDay.value * demand.ordersPerDay.value)) * demand.dispersion.value : 0;
  const rel = demand.ordersPerDay.value > 0 ? demand.ordersPerDay.sd / demand.ordersPerDay.value : 0;
  const categories = s.categories.map((c, i) => ({
    ...c,
    ordersPerDay: {
      value: mus[i] as number,
      sd: (mus[i] as number) * rel,
      source: 'carts table (orders), scaled by category mix',
      n: demand.ordersPerDay.n,
    },
    weekly: demand.weekly,
    dispersion: k,
  }));
  return { scenario: { ...s, categories }, demand, orderValue: estimateMean(h.values, 'carts table (orders)') };
}
