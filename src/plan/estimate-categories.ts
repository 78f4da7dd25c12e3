/**
 * Per-category estimates from Pitwall's own tables, through the catalogue's product categories:
 * demand (orders per day, weekly pattern, dispersion, order value) from orders in the `carts`
 * table, and damage rates from delivered `shipments` with a `shipment_breaches` row (shock /
 * temperature). A catalogue category maps to a scenario category by name (see `categoryIdFor`).
 */
import type { Store } from '../store/index.ts';
import { blankCategory } from './defaults.ts';
import { type Estimated, estimateDemand, estimateMean, estimateRate } from './estimate.ts';
import type { Category, Param, Scenario } from './types.ts';

const DAY = 86_400_000;

const slug = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/**
 * The scenario category a catalogue category counts in: the scenario id equal to the whole
 * category or to one of its `/`-separated segments, first segment first (`Electrical/Batteries` →
 * `batteries` when the scenario has it, else `electrical`); a product without one: `uncategorised`.
 */
export function categoryIdFor(catalogCategory: string | null | undefined, scenarioIds: ReadonlySet<string>): string {
  const whole = slug(catalogCategory ?? '');
  if (whole === '') return 'uncategorised';
  if (scenarioIds.has(whole)) return whole;
  const segments = (catalogCategory ?? '')
    .split(/[/>|]/)
    .map(slug)
    .filter((x) => x !== '');
  return segments.find((x) => scenarioIds.has(x)) ?? segments[0] ?? whole;
}

/** SKU → scenario category id, for every product in the catalogue. */
async function skuCategories(store: Store, scenarioIds: ReadonlySet<string>): Promise<Map<string, string>> {
  const rows = await store.db.selectFrom('products').select(['sku', 'category']).execute();
  return new Map(rows.map((r) => [r.sku, categoryIdFor(r.category, scenarioIds)]));
}

const asParam = (e: Estimated): Param => ({ value: e.value, sd: e.sd, source: e.source, n: e.n });

/** The SKUs of a JSON lines column (`[{sku, …}]`); unreadable or absent: none. */
function skusOf(json: string | null | undefined): string[] {
  try {
    const v = JSON.parse(json ?? '[]') as { sku?: unknown }[];
    return Array.isArray(v) ? v.flatMap((l) => (typeof l?.sku === 'string' ? [l.sku] : [])) : [];
  } catch {
    return [];
  }
}

/** Cases and hits per category (and `all`), as shares with Wilson intervals — `all` first, then by name. */
class CategoryShares {
  private readonly counts = new Map<string, { n: number; k: number }>();
  add(category: string, hit: boolean): void {
    const c = this.counts.get(category) ?? { n: 0, k: 0 };
    c.n++;
    if (hit) c.k++;
    this.counts.set(category, c);
  }
  rates(source: string): [string, Estimated][] {
    return [...this.counts.entries()]
      .sort((a, b) => (a[0] === 'all' ? -1 : b[0] === 'all' ? 1 : a[0].localeCompare(b[0])))
      .map(([category, c]) => [category, estimateRate(c.k, c.n, source)]);
  }
}

/** `s` with `key` of each category set from its estimate when that rests on at least `min` cases. */
function withCategoryRates(s: Scenario, rates: ReadonlyMap<string, Estimated>, key: 'damageRate' | 'returnRate', min: number): Scenario {
  const categories = s.categories.map((c) => {
    const e = rates.get(c.id);
    return e && e.n >= min ? { ...c, [key]: asParam(e) } : c;
  });
  return { ...s, categories };
}

export interface CategoryDemandEstimate {
  category: string;
  /** Orders with at least one line of the category. */
  orders: number;
  ordersPerDay: Estimated;
  weekly: number[];
  /** Negative-binomial shape; a category with fewer than `minOrders` orders gets 0 (Poisson) and the shop's weekly pattern. */
  dispersion: Estimated;
  /** Value of the category's lines per order that has them. */
  orderValue: Estimated;
}

export interface CategoryHistory {
  /** UTC days from the first to the last order day. */
  days: number;
  /** Weekday (0 = Monday) of each day. */
  weekdays: number[];
  /** Per category: orders per day (index as `weekdays`) and line value per order. */
  categories: Map<string, { counts: Int32Array; values: number[] }>;
  /** Distinct orders per day. */
  total: Int32Array;
  /** Order lines whose SKU is not in the catalogue (counted as `uncategorised`). */
  unknownSkus: number;
}

/**
 * Orders by UTC day and scenario category, from carts that became orders (their lines × the
 * catalogue). With `nowMs`, its UTC day (not over yet) is left out, as in `orderHistory`.
 */
export async function categoryHistory(
  store: Store,
  scenarioIds: ReadonlySet<string>,
  opts: { sinceMs?: number; nowMs?: number } = {},
): Promise<CategoryHistory> {
  let q = store.db.selectFrom('carts').select(['last_activity_ms', 'lines']).where('order_id', 'is not', null);
  if (opts.sinceMs !== undefined) q = q.where('last_activity_ms', '>=', opts.sinceMs);
  if (opts.nowMs !== undefined) q = q.where('last_activity_ms', '<', Math.floor(opts.nowMs / DAY) * DAY);
  const rows = await q.execute();
  const bySku = await skuCategories(store, scenarioIds);
  const empty: CategoryHistory = { days: 0, weekdays: [], categories: new Map(), total: new Int32Array(0), unknownSkus: 0 };
  if (rows.length === 0) return empty;
  const dayOf = (r: { last_activity_ms: unknown }) => Math.floor(Number(r.last_activity_ms) / DAY);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    first = Math.min(first, dayOf(r));
    last = Math.max(last, dayOf(r));
  }
  const days = last - first + 1;
  const h: CategoryHistory = {
    days,
    // 1970-01-01 was a Thursday: weekday 3 with Monday = 0.
    weekdays: Array.from({ length: days }, (_, i) => (first + i + 3) % 7),
    categories: new Map(),
    total: new Int32Array(days),
    unknownSkus: 0,
  };
  for (const r of rows) {
    const d = dayOf(r) - first;
    h.total[d] = (h.total[d] as number) + 1;
    const perCat = new Map<string, number>();
    let lines: Record<string, { quantity?: unknown; price?: unknown }> = {};
    try {
      lines = JSON.parse(r.lines) as typeof lines;
    } catch {
      // A row written by hand with bad JSON: an order without lines.
    }
    for (const [sku, line] of Object.entries(lines ?? {})) {
      const cat = bySku.get(sku);
      if (cat === undefined) h.unknownSkus++;
      const value = (Number(line?.quantity ?? 1) || 0) * (Number(line?.price ?? 0) || 0);
      perCat.set(cat ?? 'uncategorised', (perCat.get(cat ?? 'uncategorised') ?? 0) + value);
    }
    for (const [cat, value] of perCat) {
      let c = h.categories.get(cat);
      if (!c) {
        c = { counts: new Int32Array(days), values: [] };
        h.categories.set(cat, c);
      }
      c.counts[d] = (c.counts[d] as number) + 1;
      c.values.push(value);
    }
  }
  return h;
}

/** Per-category demand and order value; needs ≥ 14 days of orders (else an empty list). */
export function estimateCategoryDemand(h: CategoryHistory, opts: { minOrders?: number } = {}): CategoryDemandEstimate[] {
  if (h.days < 14) return [];
  const source = 'carts table × catalogue categories';
  const shop = estimateDemand(
    Array.from(h.total, (orders, i) => ({ weekday: h.weekdays[i] as number, orders })),
    source,
  );
  const out: CategoryDemandEstimate[] = [];
  for (const [category, c] of [...h.categories.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const orders = c.values.length;
    const orderValue = estimateMean(c.values, source);
    if (orders >= (opts.minOrders ?? 30)) {
      const d = estimateDemand(
        Array.from(c.counts, (o, i) => ({ weekday: h.weekdays[i] as number, orders: o })),
        source,
      );
      out.push({ category, orders, ordersPerDay: d.ordersPerDay, weekly: d.weekly, dispersion: d.dispersion, orderValue });
    } else {
      // Too few to shape: Poisson level with the shop's weekly pattern.
      const mean = orders / h.days;
      const se = Math.sqrt(orders) / h.days;
      out.push({
        category,
        orders,
        ordersPerDay: { value: mean, sd: se, source, n: h.days, ci95: [Math.max(0, mean - 1.959964 * se), mean + 1.959964 * se] },
        weekly: shop.weekly,
        dispersion: { value: 0, sd: 0, source: `${source} (too few orders: Poisson)`, n: orders, ci95: [0, Number.POSITIVE_INFINITY] },
        orderValue,
      });
    }
  }
  return out;
}

/**
 * Replaces the scenario's categories by those seen in orders (≥ 14 days of orders): each keeps
 * the assumed values of the scenario category of the same id (a new id: blank values) and takes
 * the estimated orders per day, weekly pattern, dispersion and order value (`aov`). Categories
 * without orders in the window are dropped, and so are demand / cost shocks left naming none.
 */
export async function withEstimatedCategories(
  store: Store,
  s: Scenario,
  opts: { sinceMs?: number; nowMs?: number; minOrders?: number } = {},
): Promise<{ scenario: Scenario; categories: CategoryDemandEstimate[]; dropped: string[]; unknownSkus: number }> {
  const ids = new Set(s.categories.map((c) => c.id));
  const h = await categoryHistory(store, ids, opts);
  const est = estimateCategoryDemand(h, opts);
  if (est.length === 0) return { scenario: s, categories: [], dropped: [], unknownSkus: h.unknownSkus };
  const categories: Category[] = est.map((e) => {
    const base = s.categories.find((c) => c.id === e.category) ?? blankCategory(e.category);
    return {
      ...structuredClone(base),
      ordersPerDay: asParam(e.ordersPerDay),
      weekly: e.weekly,
      dispersion: e.dispersion.value,
      aov: e.orderValue.n > 0 ? asParam(e.orderValue) : base.aov,
    };
  });
  const kept = new Set(categories.map((c) => c.id));
  const dropped = s.categories.filter((c) => !kept.has(c.id)).map((c) => c.id);
  // A shock's empty target means "every category": one whose named categories all went must go, not widen.
  const shocks = s.shocks.flatMap((sh) => {
    if (sh.kind !== 'demand' && sh.kind !== 'cost') return [sh];
    if (sh.target.length === 0) return [sh];
    const target = sh.target.filter((t) => kept.has(t));
    return target.length > 0 ? [{ ...sh, target }] : [];
  });
  return { scenario: { ...s, categories, shocks }, categories: est, dropped, unknownSkus: h.unknownSkus };
}

export interface DamageEstimate {
  /** A scenario category id, or `all` (every delivered shipment). */
  category: string;
  damageRate: Estimated;
}

/**
 * Damage rates: the share of delivered shipments with at least one condition breach of the
 * given kinds (default shock and temperature), shop-wide and per category of their lines.
 */
export async function estimateDamageRates(
  store: Store,
  scenarioIds: ReadonlySet<string>,
  opts: { sinceMs?: number; kinds?: readonly string[] } = {},
): Promise<DamageEstimate[]> {
  const kinds = opts.kinds ?? ['shock', 'temperature'];
  let q = store.db.selectFrom('shipments').select(['shipment_id', 'lines']).where('delivered_ms', 'is not', null);
  if (opts.sinceMs !== undefined) q = q.where('delivered_ms', '>=', opts.sinceMs);
  const shipments = await q.execute();
  if (shipments.length === 0) return [];
  const breached = new Set(
    (
      await store.db
        .selectFrom('shipment_breaches')
        .select('shipment_id')
        .distinct()
        .where('kind', 'in', [...kinds])
        .execute()
    ).map((r) => r.shipment_id),
  );
  const bySku = await skuCategories(store, scenarioIds);
  const shares = new CategoryShares();
  for (const sh of shipments) {
    const hit = breached.has(sh.shipment_id);
    shares.add('all', hit);
    // A shipment with unreadable lines counts shop-wide only.
    for (const c of new Set(skusOf(sh.lines).map((sku) => bySku.get(sku) ?? 'uncategorised'))) shares.add(c, hit);
  }
  const source = `shipments table (${kinds.join(' / ')} breaches per delivered shipment)`;
  return shares.rates(source).map(([category, damageRate]) => ({ category, damageRate }));
}

/** Sets `damage_rate` of each scenario category with at least `minShipments` delivered shipments. */
export async function withEstimatedDamage(
  store: Store,
  s: Scenario,
  opts: { sinceMs?: number; kinds?: readonly string[]; minShipments?: number } = {},
): Promise<{ scenario: Scenario; damage: DamageEstimate[] }> {
  const damage = await estimateDamageRates(store, new Set(s.categories.map((c) => c.id)), opts);
  const scenario = withCategoryRates(s, new Map(damage.map((d) => [d.category, d.damageRate])), 'damageRate', opts.minShipments ?? 30);
  return { scenario, damage };
}

export interface ReturnEstimate {
  /** A scenario category id, or `all` (every order). */
  category: string;
  returnRate: Estimated;
}

/**
 * Return rates: the share of orders refunded (`learn_orders` × `learn_refunds`, folded by Learn from
 * `commerce.order_completed` / `commerce.order_refunded`), shop-wide and per category: an order
 * counts in each category it has a line of, and is refunded there when the refund named no
 * products (the whole order) or named one of that category. Orders placed in the last
 * `windowDays` (default 14) before `nowMs` are left out — their refunds may still come — and so
 * are orders before `sinceMs`.
 */
export async function estimateReturnRates(
  store: Store,
  scenarioIds: ReadonlySet<string>,
  opts: { nowMs: number; windowDays?: number; sinceMs?: number },
): Promise<ReturnEstimate[]> {
  const windowDays = opts.windowDays ?? 14;
  let q = store.db
    .selectFrom('learn_orders as o')
    .leftJoin('learn_refunds as r', 'r.order_id', 'o.order_id')
    .select(['o.lines as lines', 'r.order_id as refunded', 'r.lines as refundLines'])
    .where('o.time_ms', '<=', opts.nowMs - windowDays * DAY);
  if (opts.sinceMs !== undefined) q = q.where('o.time_ms', '>=', opts.sinceMs);
  const rows = await q.execute();
  if (rows.length === 0) return [];
  const bySku = await skuCategories(store, scenarioIds);
  const category = (sku: string) => bySku.get(sku) ?? 'uncategorised';
  const shares = new CategoryShares();
  for (const row of rows) {
    const refunded = row.refunded !== null;
    shares.add('all', refunded);
    const named = new Set(skusOf(row.refundLines).map(category));
    for (const c of new Set(skusOf(row.lines).map(category))) shares.add(c, refunded && (named.size === 0 || named.has(c)));
  }
  const source = `learn_orders × learn_refunds (refunded orders, orders older than ${windowDays} days)`;
  return shares.rates(source).map(([c, returnRate]) => ({ category: c, returnRate }));
}

/** Sets `return_rate` of each scenario category with at least `minOrders` orders old enough to count. */
export async function withEstimatedReturns(
  store: Store,
  s: Scenario,
  opts: { nowMs: number; windowDays?: number; sinceMs?: number; minOrders?: number },
): Promise<{ scenario: Scenario; returns: ReturnEstimate[] }> {
  const returns = await estimateReturnRates(store, new Set(s.categories.map((c) => c.id)), opts);
  const scenario = withCategoryRates(s, new Map(returns.map((r) => [r.category, r.returnRate])), 'returnRate', opts.minOrders ?? 30);
  return { scenario, returns };
}
