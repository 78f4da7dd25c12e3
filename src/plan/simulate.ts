/** Running a scenario: single-thread or on worker threads, then summarised. */
import { allocateSums, sortShare } from './bands.ts';
import { compile } from './compile.ts';
import { allocateOutputs, type PathOutputs, runPaths } from './kernel.ts';
import { type RiskSummary, summarise } from './summary.ts';
import type { Param, Scenario } from './types.ts';
import { runPathsOnWorkers } from './workers.ts';

export interface RunOptions {
  /** Keep daily values (for bands); totals only when false. Default true. */
  daily?: boolean;
  /** Worker threads (1 = this thread). */
  threads?: number;
  /**
   * Prepare the bands where the paths ran (workers sort their share; see bands.ts): the daily
   * values come back in `bands`, not `cash` / `gm`. Default false (raw path-major daily values).
   */
  bands?: boolean;
  /** Called with paths done so far (single-thread: every 1,000 paths; workers: per chunk). */
  onProgress?: (done: number, total: number) => void;
}

/** Simulates every path of `s` and returns the raw per-path outputs. */
export async function runScenario(s: Scenario, opts: RunOptions = {}): Promise<PathOutputs> {
  const m = compile(s);
  const threads = Math.max(1, Math.min(16, opts.threads ?? 1));
  const daily = opts.daily ?? true;
  const bands = daily && opts.bands === true;
  const days = s.horizonDays;
  if (threads > 1 && s.paths >= threads * 64) {
    const out = allocateOutputs(s.paths, days, daily, true);
    const sums = bands ? allocateSums(s.paths, days, true) : undefined;
    const shares = await runPathsOnWorkers(m, s.seed, s.paths, out, threads, opts.onProgress, sums);
    if (sums && out.cash && out.gm) return { ...out, cash: undefined, gm: undefined, bands: { shares, cash: out.cash, gm: out.gm, sums } };
    return out;
  }
  const out = allocateOutputs(s.paths, days, daily);
  const chunk = 1000;
  for (let p = 0; p < s.paths; p += chunk) {
    runPaths(m, s.seed, p, Math.min(s.paths, p + chunk), out);
    opts.onProgress?.(Math.min(s.paths, p + chunk), s.paths);
  }
  if (bands && out.cash && out.gm) {
    const sums = allocateSums(s.paths, days, false);
    sortShare(out.cash, out.gm, sums, 0, s.paths, days);
    return { ...out, cash: undefined, gm: undefined, bands: { shares: [{ p0: 0, p1: s.paths }], cash: out.cash, gm: out.gm, sums } };
  }
  return out;
}

export interface ParameterRow {
  /** JSON pointer of the parameter in scenario input (snake_case). */
  pointer: string;
  value: number;
  sd: number;
  source: string;
  n: number;
}

/** Every parameter with its value, source, sample size and uncertainty. */
export function parameterTable(s: Scenario): ParameterRow[] {
  const rows: ParameterRow[] = [];
  const add = (pointer: string, p: Param) => rows.push({ pointer, value: p.value, sd: p.sd, source: p.source, n: p.n });
  add('/promise_penalty_per_day', s.promisePenaltyPerDay);
  add('/late_order_cost', s.lateOrderCost);
  add('/cash/opening', s.cash.opening);
  add('/cash/fixed_costs_per_day', s.cash.fixedCostsPerDay);
  s.categories.forEach((c, i) => {
    const at = `/categories/${i}`;
    add(`${at}/orders_per_day`, c.ordersPerDay);
    add(`${at}/trend_per_week`, c.trendPerWeek);
    add(`${at}/aov`, c.aov);
    add(`${at}/cost_ratio`, c.costRatio);
    add(`${at}/marketing_elasticity`, c.marketingElasticity);
    add(`${at}/discount_elasticity`, c.discountElasticity);
    add(`${at}/return_rate`, c.returnRate);
    add(`${at}/damage_rate`, c.damageRate);
  });
  s.lanes.forEach((l, i) => {
    add(`/lanes/${i}/disruption_rate`, l.disruptionRate);
    add(`/lanes/${i}/mean_delay_days`, l.meanDelayDays);
  });
  s.warehouses.forEach((w, i) => {
    add(`/warehouses/${i}/hazard_per_day`, w.hazardPerDay);
    add(`/warehouses/${i}/repair_days`, w.repairDays);
    add(`/warehouses/${i}/spoilage_on_failure`, w.spoilageOnFailure);
  });
  return rows;
}

export interface SimulationResult {
  scenario: string;
  seed: number;
  summary: RiskSummary;
  parameters: ParameterRow[];
  seconds: number;
}

/** Simulates and summarises, returning the raw per-path outputs too (for paired comparisons). */
export async function simulateWithOutputs(s: Scenario, opts: RunOptions = {}): Promise<{ result: SimulationResult; outputs: PathOutputs }> {
  const t0 = performance.now();
  const outputs = await runScenario(s, { bands: true, ...opts });
  const summary = summarise(outputs, s.horizonDays, s.cash.floor);
  const result = { scenario: s.name, seed: s.seed, summary, parameters: parameterTable(s), seconds: (performance.now() - t0) / 1000 };
  return { result, outputs };
}

export async function simulate(s: Scenario, opts: RunOptions = {}): Promise<SimulationResult> {
  return (await simulateWithOutputs(s, opts)).result;
}
