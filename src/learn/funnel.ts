/** The funnel report: product views → add to cart → checkout → order, from the daily rollups. */
import { sql } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { DayRange } from './range.ts';

export const FUNNEL_DIMENSIONS = ['day', 'store', 'category', 'device', 'segment', 'none'] as const;
export type FunnelDimension = (typeof FUNNEL_DIMENSIONS)[number];

export interface FunnelFilter {
  store?: string | undefined;
  category?: string | undefined;
  device?: string | undefined;
  segment?: string | undefined;
}

export interface FunnelCounts {
  views: number;
  adds: number;
  checkouts: number;
  orders: number;
  revenue: number;
  /** `cart.abandoned` events (Decide's detector), counted by day and store only. */
  cartsAbandoned: number;
}

export interface FunnelRates {
  viewToCart: number | null;
  cartToCheckout: number | null;
  checkoutToOrder: number | null;
  /** orders / product views. */
  conversion: number | null;
  /** 1 − orders / checkouts. */
  checkoutAbandonment: number | null;
  /** 1 − orders / add-to-cart. */
  cartAbandonment: number | null;
}

export interface FunnelRow extends FunnelCounts, FunnelRates {
  key: string;
}

export interface ReasonCount {
  reason: string;
  count: number;
  share: number;
}

export interface FunnelReport {
  from: string;
  to: string;
  by: FunnelDimension;
  totals: FunnelCounts & FunnelRates;
  rows: FunnelRow[];
  abandonmentReasons: { responses: number; reasons: ReasonCount[] };
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const oneMinus = (a: number, b: number): number | null => (b > 0 ? Math.max(0, 1 - a / b) : null);

export function rates(c: FunnelCounts): FunnelRates {
  return {
    viewToCart: ratio(c.adds, c.views),
    cartToCheckout: ratio(c.checkouts, c.adds),
    checkoutToOrder: ratio(c.orders, c.checkouts),
    conversion: ratio(c.orders, c.views),
    checkoutAbandonment: oneMinus(c.orders, c.checkouts),
    cartAbandonment: oneMinus(c.orders, c.adds),
  };
}

function counts(r: {
  views: unknown;
  adds: unknown;
  checkouts: unknown;
  orders: unknown;
  abandoned: unknown;
  revenue: unknown;
}): FunnelCounts {
  return {
    views: Number(r.views ?? 0),
    adds: Number(r.adds ?? 0),
    checkouts: Number(r.checkouts ?? 0),
    orders: Number(r.orders ?? 0),
    revenue: Math.round(Number(r.revenue ?? 0) * 100) / 100,
    cartsAbandoned: Number(r.abandoned ?? 0),
  };
}

export async function funnelReport(db: Db, range: DayRange, by: FunnelDimension, filter: FunnelFilter = {}): Promise<FunnelReport> {
  let q = db.selectFrom('learn_funnel_daily').where('day', '>=', range.from).where('day', '<=', range.to);
  for (const dim of ['store', 'category', 'device', 'segment'] as const) {
    const v = filter[dim];
    if (v !== undefined) q = q.where(dim, '=', v);
  }
  const sums = q.select([
    sql<number>`sum(views)`.as('views'),
    sql<number>`sum(adds)`.as('adds'),
    sql<number>`sum(checkouts)`.as('checkouts'),
    sql<number>`sum(orders)`.as('orders'),
    sql<number>`sum(abandoned)`.as('abandoned'),
    sql<number>`sum(revenue)`.as('revenue'),
  ]);
  const total = counts((await sums.executeTakeFirst()) ?? { views: 0, adds: 0, checkouts: 0, orders: 0, abandoned: 0, revenue: 0 });
  const rows: FunnelRow[] = [];
  if (by !== 'none') {
    const grouped = await sums.select(sql.ref<string>(by).as('k')).groupBy(by).orderBy(by).execute();
    for (const r of grouped) {
      const c = counts(r);
      rows.push({ key: String(r.k), ...c, ...rates(c) });
    }
  }
  return { from: range.from, to: range.to, by, totals: { ...total, ...rates(total) }, rows, abandonmentReasons: await reasons(db, range) };
}

/** Answers to a `reason` question in the range, largest first. */
export async function reasons(db: Db, range: DayRange): Promise<{ responses: number; reasons: ReasonCount[] }> {
  const rows = await db
    .selectFrom('learn_surveys')
    .select(['reason', sql<number>`count(*)`.as('n')])
    .where('time_ms', '>=', range.fromMs)
    .where('time_ms', '<', range.toMs)
    .where('reason', 'is not', null)
    .groupBy('reason')
    .execute();
  const responses = rows.reduce((s, r) => s + Number(r.n), 0);
  const out = rows
    .map((r) => ({ reason: String(r.reason), count: Number(r.n), share: responses > 0 ? Number(r.n) / responses : 0 }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return { responses, reasons: out };
}
