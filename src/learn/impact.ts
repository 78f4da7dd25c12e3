/**
 * The impact ledger: per workflow and in total, incremental orders, revenue and gross margin
 * (lift per customer × treated customers, each with its 95 % interval), minutes saved and
 * actions skipped by the contact policy.
 */
import { sql } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { DayRange } from './range.ts';
import type { Difference } from './stats.ts';
import { type UpliftOptions, upliftReport } from './uplift.ts';
import { type MinutesDefaults, workSavedReport } from './work.ts';

export interface Estimate {
  estimate: number;
  lower: number;
  upper: number;
}

export interface LedgerLine {
  workflowId: string;
  treatedCustomers: number;
  /** Whether the uplift had enough data; the incremental figures of a line without it are not in the total. */
  enoughData: boolean;
  incrementalOrders: Estimate | null;
  incrementalRevenue: Estimate | null;
  incrementalMargin: Estimate | null;
  minutesSaved: number;
  actionsSkippedByPolicy: number;
  verdict: string;
}

export interface ImpactReport {
  from: string;
  to: string;
  windowDays: number;
  workflows: LedgerLine[];
  total: {
    /** Sum over workflows with enough data; the interval adds the half-widths in quadrature (independent workflows). */
    incrementalOrders: Estimate | null;
    incrementalRevenue: Estimate | null;
    incrementalMargin: Estimate | null;
    minutesSaved: number;
    actionsSkippedByPolicy: number;
  };
}

const scale = (d: Difference | null, n: number): Estimate | null =>
  d ? { estimate: d.estimate * n, lower: d.lower * n, upper: d.upper * n } : null;

function sumEstimates(xs: readonly (Estimate | null)[]): Estimate | null {
  const present = xs.filter((x): x is Estimate => x !== null);
  if (present.length === 0) return null;
  const est = present.reduce((s, x) => s + x.estimate, 0);
  const lo = Math.sqrt(present.reduce((s, x) => s + (x.estimate - x.lower) ** 2, 0));
  const hi = Math.sqrt(present.reduce((s, x) => s + (x.upper - x.estimate) ** 2, 0));
  return { estimate: est, lower: est - lo, upper: est + hi };
}

/** Policy `skip` verdicts (not `no_customer`) in runs started in the range, per workflow. */
export async function policySkips(db: Db, range: DayRange): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('run_trace')
    .innerJoin('runs', 'runs.id', 'run_trace.run_id')
    .select(['runs.workflow_id', sql<number>`count(*)`.as('n')])
    .where('run_trace.kind', '=', 'policy')
    .where('run_trace.at_ms', '>=', range.fromMs)
    .where('run_trace.at_ms', '<', range.toMs)
    .where('run_trace.detail', 'like', '%"verdict":"skip"%')
    .where('run_trace.detail', 'not like', '%"code":"no_customer"%')
    .groupBy('runs.workflow_id')
    .execute();
  return new Map(rows.map((r) => [r.workflow_id, Number(r.n)]));
}

export async function impactReport(db: Db, range: DayRange, opts: UpliftOptions, defaults: MinutesDefaults): Promise<ImpactReport> {
  const uplift = await upliftReport(db, range, opts);
  const work = await workSavedReport(db, range, defaults, opts.workflow);
  const skips = await policySkips(db, range);
  const minutes = new Map(work.byWorkflow.map((w) => [w.workflowId, w.minutes]));
  const ids = new Set([...uplift.workflows.map((w) => w.workflowId), ...minutes.keys(), ...skips.keys()]);
  if (opts.workflow !== undefined) for (const id of [...ids]) if (id !== opts.workflow) ids.delete(id);
  const lines: LedgerLine[] = [...ids].sort().map((id) => {
    const u = uplift.workflows.find((w) => w.workflowId === id);
    const n = u?.treated.customers ?? 0;
    return {
      workflowId: id,
      treatedCustomers: n,
      enoughData: u?.enoughData ?? false,
      incrementalOrders: scale(u?.conversionLift ?? null, n),
      incrementalRevenue: scale(u?.revenueLift ?? null, n),
      incrementalMargin: scale(u?.marginLift ?? null, n),
      minutesSaved: minutes.get(id) ?? 0,
      actionsSkippedByPolicy: skips.get(id) ?? 0,
      verdict: u?.verdict ?? 'No runs with a customer in this range.',
    };
  });
  const counted = lines.filter((l) => l.enoughData);
  return {
    from: range.from,
    to: range.to,
    windowDays: opts.windowDays,
    workflows: lines,
    total: {
      incrementalOrders: sumEstimates(counted.map((l) => l.incrementalOrders)),
      incrementalRevenue: sumEstimates(counted.map((l) => l.incrementalRevenue)),
      incrementalMargin: sumEstimates(counted.map((l) => l.incrementalMargin)),
      minutesSaved: lines.reduce((s, l) => s + l.minutesSaved, 0),
      actionsSkippedByPolicy: lines.reduce((s, l) => s + l.actionsSkippedByPolicy, 0),
    },
  };
}
