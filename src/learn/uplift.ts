/**
 * Uplift per workflow: treated vs holdout customers. The unit is the canonical customer at the
 * run's start; a customer counts once per workflow, in the group of their first run in the range
 * (intention to treat: every run past its conditions that was not held out is "treated", whether
 * or not its actions reached the customer). The outcome is an order within `windowDays` after that
 * run started; runs whose window has not ended yet are left out and counted as `pending`.
 */
import { sql } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { DayRange } from './range.ts';
import { bootstrapMeanDifference, type Difference, newcombe } from './stats.ts';

export interface UpliftOptions {
  windowDays: number;
  /** Below this many customers in either group the verdict is "not enough data yet". */
  minPerGroup: number;
  /** Below this many converting customers in both groups together, likewise. */
  minConversions: number;
  bootstrapReps: number;
  workflow?: string | undefined;
  nowMs: number;
}

export const UPLIFT_DEFAULTS = { windowDays: 7, minPerGroup: 30, minConversions: 10, bootstrapReps: 2000 } as const;

export interface GroupStats {
  customers: number;
  converted: number;
  conversion: number | null;
  /** Mean revenue per customer in the window. */
  revenuePerCustomer: number | null;
  marginPerCustomer: number | null;
  csatResponses: number;
  csat: number | null;
}

export interface WorkflowUplift {
  workflowId: string;
  treated: GroupStats;
  holdout: GroupStats;
  /** Runs whose outcome window has not ended yet (not counted). */
  pending: number;
  /** Treated − holdout conversion, with its 95 % Newcombe (Wilson score) interval; null without a holdout. */
  conversionLift: Difference | null;
  /** Treated − holdout mean revenue / margin per customer, 95 % percentile bootstrap (seeded by workflow id). */
  revenueLift: Difference | null;
  marginLift: Difference | null;
  csatLift: Difference | null;
  enoughData: boolean;
  verdict: string;
}

export interface UpliftReport {
  from: string;
  to: string;
  windowDays: number;
  workflows: WorkflowUplift[];
}

const DAY_MS = 86_400_000;
const CHUNK = 400;

export async function upliftReport(db: Db, range: DayRange, opts: UpliftOptions): Promise<UpliftReport> {
  const windowMs = opts.windowDays * DAY_MS;
  const units = unitsSql(range, opts.workflow);
  // Each unit with its orders in its window (one row per order; a unit without one has nulls),
  // the customer's ids resolved through the identity graph — one query, index lookups per unit.
  const rows = await sql<{
    workflow_id: string;
    customer_id: string;
    status: string;
    started_ms: number;
    revenue: number | null;
    lines: string | null;
  }>`
    with ${units}, refs as (
      select u.workflow_id, u.customer_id, u.status, u.started_ms, i.id as ref from units u join identity_ids i on i.customer_id = u.customer_id
      union
      select u.workflow_id, u.customer_id, u.status, u.started_ms, u.customer_id as ref from units u
    )
    select r.workflow_id, r.customer_id, r.status, r.started_ms, o.revenue, o.lines
    from refs r left join learn_orders o on o.customer_ref = r.ref and o.time_ms >= r.started_ms and o.time_ms < r.started_ms + ${windowMs}`.execute(
    db,
  );
  const csatRows = await sql<{ workflow_id: string; customer_id: string; csat: number }>`
    with ${units}, refs as (
      select u.workflow_id, u.customer_id, u.started_ms, i.id as ref from units u join identity_ids i on i.customer_id = u.customer_id
      union
      select u.workflow_id, u.customer_id, u.started_ms, u.customer_id as ref from units u
    )
    select r.workflow_id, r.customer_id, s.csat
    from refs r join learn_surveys s on s.customer_ref = r.ref and s.time_ms >= r.started_ms and s.time_ms < r.started_ms + ${windowMs}
    where s.csat is not null`.execute(db);

  interface UnitOutcome {
    group: 'treated' | 'holdout';
    pending: boolean;
    revenue: number;
    orders: number;
    lines: OrderRow['lines'];
    csat: number[];
  }
  const byWorkflow = new Map<string, Map<string, UnitOutcome>>();
  for (const r of rows.rows) {
    let w = byWorkflow.get(r.workflow_id);
    if (!w) {
      w = new Map();
      byWorkflow.set(r.workflow_id, w);
    }
    let u = w.get(r.customer_id);
    if (!u) {
      u = {
        group: r.status === 'holdout' ? 'holdout' : 'treated',
        pending: Number(r.started_ms) + windowMs > opts.nowMs,
        revenue: 0,
        orders: 0,
        lines: [],
        csat: [],
      };
      w.set(r.customer_id, u);
    }
    if (r.revenue !== null) {
      u.orders += 1;
      u.revenue += Number(r.revenue);
      if (r.lines) for (const l of JSON.parse(r.lines) as OrderRow['lines']) u.lines.push(l);
    }
  }
  for (const r of csatRows.rows) byWorkflow.get(r.workflow_id)?.get(r.customer_id)?.csat.push(Number(r.csat));
  const skus = new Set<string>();
  for (const w of byWorkflow.values()) for (const u of w.values()) for (const l of u.lines) skus.add(l.sku);
  const costs = await unitCosts(db, skus);

  const workflows: WorkflowUplift[] = [];
  for (const [workflowId, w] of [...byWorkflow].sort(([a], [b]) => a.localeCompare(b))) {
    const values = { treated: outcomeLists(), holdout: outcomeLists() };
    let pending = 0;
    for (const u of w.values()) {
      if (u.pending) {
        pending += 1;
        continue;
      }
      const v = values[u.group];
      v.converted.push(u.orders > 0 ? 1 : 0);
      v.revenue.push(u.revenue);
      v.margin.push(marginOf(u, costs));
      if (u.csat.length > 0) v.csat.push(u.csat.reduce((a, b) => a + b, 0) / u.csat.length);
    }
    workflows.push(summarise(workflowId, values.treated, values.holdout, pending, opts));
  }
  return { from: range.from, to: range.to, windowDays: opts.windowDays, workflows };
}

/** CTE `units`: each customer's first run per workflow in the range (runs past their conditions). */
function unitsSql(range: DayRange, workflow: string | undefined) {
  const wf = workflow === undefined ? sql`` : sql`and workflow_id = ${workflow}`;
  return sql`ranked as (
      select workflow_id, customer_id, status, started_ms,
        row_number() over (partition by workflow_id, customer_id order by started_ms, id) as rn
      from runs
      where customer_id is not null and status not in ('skipped', 'running')
        and started_ms >= ${range.fromMs} and started_ms < ${range.toMs} ${wf}
    ), units as (select workflow_id, customer_id, status, started_ms from ranked where rn = 1)`;
}

function outcomeLists() {
  return { converted: [] as number[], revenue: [] as number[], margin: [] as number[], csat: [] as number[] };
}
type Outcomes = ReturnType<typeof outcomeLists>;

const meanOf = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);

function group(v: Outcomes): GroupStats {
  const converted = v.converted.reduce((s, x) => s + x, 0);
  return {
    customers: v.converted.length,
    converted,
    conversion: meanOf(v.converted),
    revenuePerCustomer: meanOf(v.revenue),
    marginPerCustomer: meanOf(v.margin),
    csatResponses: v.csat.length,
    csat: meanOf(v.csat),
  };
}

export function summarise(
  workflowId: string,
  t: Outcomes,
  h: Outcomes,
  pending: number,
  opts: Omit<UpliftOptions, 'nowMs' | 'workflow'>,
): WorkflowUplift {
  const treated = group(t);
  const holdout = group(h);
  const withHoldout = holdout.customers > 0 && treated.customers > 0;
  const boot = (a: number[], b: number[], what: string) =>
    withHoldout ? (bootstrapMeanDifference(a, b, { seed: `${workflowId}:${what}`, reps: opts.bootstrapReps }) ?? null) : null;
  const conversionLift = withHoldout ? newcombe(treated.converted, treated.customers, holdout.converted, holdout.customers) : null;
  const enoughData =
    withHoldout &&
    treated.customers >= opts.minPerGroup &&
    holdout.customers >= opts.minPerGroup &&
    treated.converted + holdout.converted >= opts.minConversions;
  return {
    workflowId,
    treated,
    holdout,
    pending,
    conversionLift,
    revenueLift: boot(t.revenue, h.revenue, 'revenue'),
    marginLift: boot(t.margin, h.margin, 'margin'),
    csatLift: t.csat.length > 0 && h.csat.length > 0 ? boot(t.csat, h.csat, 'csat') : null,
    enoughData,
    verdict: verdict(treated, holdout, conversionLift, enoughData, opts),
  };
}

const pp = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} pp`;

function verdict(
  t: GroupStats,
  h: GroupStats,
  d: Difference | null,
  enough: boolean,
  opts: Omit<UpliftOptions, 'nowMs' | 'workflow'>,
): string {
  if (h.customers === 0)
    return t.customers === 0
      ? 'Not enough data yet: no finished runs in this range.'
      : 'No holdout customers: uplift cannot be measured. Give the workflow a holdout (e.g. holdout: 10%).';
  if (!d || !enough)
    return `Not enough data yet: ${t.customers} treated and ${h.customers} holdout customers, ${t.converted + h.converted} conversions (needs ${opts.minPerGroup} per group and ${opts.minConversions} conversions).`;
  const ci = `95 % CI ${pp(d.lower)} to ${pp(d.upper)}`;
  if (d.lower > 0) return `Lifts conversion by ${pp(d.estimate)} (${ci}).`;
  if (d.upper < 0) return `Lowers conversion by ${pp(-d.estimate).replace('+', '')} (${ci}).`;
  return `No clear effect on conversion: ${pp(d.estimate)}, and the interval (${ci}) includes zero.`;
}

interface OrderRow {
  timeMs: number;
  revenue: number;
  lines: { sku: string; quantity: number; price: number }[];
}

/** Unit costs from the catalogue for the SKUs given. */
export async function unitCosts(db: Db, skus: ReadonlySet<string>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const all = [...skus];
  for (let i = 0; i < all.length; i += CHUNK) {
    const rows = await db
      .selectFrom('products')
      .select(['sku', 'unit_cost'])
      .where('sku', 'in', all.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) if (r.unit_cost !== null) out.set(r.sku, Number(r.unit_cost));
  }
  return out;
}

/** Gross margin of an order: Σ (price − unit cost) × quantity over lines whose cost the catalogue knows. */
export function marginOf(o: { lines: { sku: string; quantity: number; price: number }[] }, costs: ReadonlyMap<string, number>): number {
  let m = 0;
  for (const l of o.lines) {
    const c = costs.get(l.sku);
    if (c !== undefined) m += (l.price - c) * l.quantity;
  }
  return m;
}
