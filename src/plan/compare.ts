/**
 * What-ifs: scenarios run with common random numbers and compared with the base; a tornado of
 * which inputs move the result most.
 */
import { type RunOptions, runScenario, type SimulationResult, simulateWithOutputs } from './simulate.ts';
import { meanSd } from './summary.ts';
import type { Param, Scenario, Shock } from './types.ts';

/** The standard what-ifs of issue 8, built on `base` (first lane's carrier, the cold-room warehouse). */
export function standardWhatIfs(base: Scenario): Scenario[] {
  const out: Scenario[] = [];
  const add = (name: string, shock: Shock) => out.push({ ...base, name, shocks: [...base.shocks, shock] });
  const carrier = base.lanes[0]?.carrier;
  if (carrier !== undefined)
    add(`${carrier} outage 7 days`, { kind: 'carrier_outage', target: [carrier], startDay: 14, days: 7, factor: 5 });
  add('demand +30 %', { kind: 'demand', target: [], startDay: 0, days: base.horizonDays, factor: 1.3 });
  const cold = [...base.warehouses].sort((a, b) => b.spoilageOnFailure.value - a.spoilageOnFailure.value)[0];
  if (cold !== undefined)
    add(`${cold.id} failure 5 days`, { kind: 'warehouse_failure', target: [cold.id], startDay: 21, days: 5, factor: 1 });
  add('supplier price +8 %', { kind: 'cost', target: [], startDay: 7, days: base.horizonDays, factor: 1.08 });
  return out;
}

export interface Difference {
  /** Scenario − base, paired over paths (CRN). */
  value: number;
  se: number;
}

export interface Comparison {
  base: SimulationResult;
  scenarios: {
    result: SimulationResult;
    grossMarginDelta: Difference;
    contributionDelta: Difference;
    liquidityAtRiskDelta: Difference;
  }[];
}

function paired(a: ArrayLike<number>, b: ArrayLike<number>): Difference {
  const d = Float64Array.from({ length: a.length }, (_, i) => (b[i] as number) - (a[i] as number));
  const { mean, sd } = meanSd(d);
  return { value: mean, se: sd / Math.sqrt(d.length) };
}

const breached = (days: Int16Array) => Float64Array.from(days, (d) => (d >= 0 ? 1 : 0));

/** Runs the base and each scenario with the base's seed and path count (CRN) and pairs the results. */
export async function compareScenarios(base: Scenario, whatIfs: Scenario[], opts: RunOptions = {}): Promise<Comparison> {
  const { result: baseResult, outputs: baseOut } = await simulateWithOutputs(base, opts);
  const scenarios: Comparison['scenarios'] = [];
  for (const w0 of whatIfs) {
    const w = { ...w0, seed: base.seed, paths: base.paths, horizonDays: base.horizonDays };
    const { result, outputs: out } = await simulateWithOutputs(w, opts);
    scenarios.push({
      result,
      grossMarginDelta: paired(baseOut.gmTotal, out.gmTotal),
      contributionDelta: paired(baseOut.contribTotal, out.contribTotal),
      liquidityAtRiskDelta: paired(breached(baseOut.breachDay), breached(out.breachDay)),
    });
  }
  return { base: baseResult, scenarios };
}

/** A group of inputs moved together in the tornado, to its low (P10) or high (P90) value. */
interface TornadoInput {
  name: string;
  params: (s: Scenario) => Param[];
}

const TORNADO_INPUTS: TornadoInput[] = [
  { name: 'orders per day', params: (s) => s.categories.map((c) => c.ordersPerDay) },
  { name: 'average order value', params: (s) => s.categories.map((c) => c.aov) },
  { name: 'unit cost ratio', params: (s) => s.categories.map((c) => c.costRatio) },
  { name: 'return rate', params: (s) => s.categories.map((c) => c.returnRate) },
  { name: 'damage rate', params: (s) => s.categories.map((c) => c.damageRate) },
  { name: 'demand trend', params: (s) => s.categories.map((c) => c.trendPerWeek) },
  { name: 'marketing elasticity', params: (s) => s.categories.map((c) => c.marketingElasticity) },
  { name: 'lane disruption rate', params: (s) => s.lanes.map((l) => l.disruptionRate) },
  { name: 'lane delay days', params: (s) => s.lanes.map((l) => l.meanDelayDays) },
  { name: 'promise penalty', params: (s) => [s.promisePenaltyPerDay] },
  { name: 'late order cost', params: (s) => [s.lateOrderCost] },
  { name: 'equipment hazard', params: (s) => s.warehouses.map((w) => w.hazardPerDay) },
  { name: 'repair days', params: (s) => s.warehouses.map((w) => w.repairDays) },
  { name: 'spoilage on failure', params: (s) => s.warehouses.map((w) => w.spoilageOnFailure) },
  { name: 'fixed costs', params: (s) => [s.cash.fixedCostsPerDay] },
  { name: 'opening cash', params: (s) => [s.cash.opening] },
];

export interface TornadoBar {
  input: string;
  low: { contribution: number; liquidityAtRisk: number };
  high: { contribution: number; liquidityAtRisk: number };
  /** |high − low| of expected contribution. */
  swing: number;
}

/** Moves each input group to P10 / P90 of its uncertainty (±10 % when it has none), all else at base; sorted by swing. */
export async function tornado(base: Scenario, opts: RunOptions & { paths?: number } = {}): Promise<{ base: number; bars: TornadoBar[] }> {
  const paths = Math.min(base.paths, opts.paths ?? 2000);
  const run = async (s: Scenario) => {
    const out = await runScenario({ ...s, paths }, { ...opts, daily: false });
    const c = meanSd(out.contribTotal).mean;
    let b = 0;
    for (const d of out.breachDay) if (d >= 0) b++;
    return { contribution: c, liquidityAtRisk: b / paths };
  };
  const baseRun = await run(base);
  const bars: TornadoBar[] = [];
  for (const input of TORNADO_INPUTS) {
    const shifted = async (sign: number) => {
      const s = structuredClone(base);
      for (const p of input.params(s)) {
        p.value = p.sd > 0 ? p.value + sign * 1.2816 * p.sd : p.value * (1 + sign * 0.1);
        if (p.value < 0 && input.name !== 'demand trend' && input.name !== 'marketing elasticity') p.value = 0;
        p.sd = 0;
      }
      return run(s);
    };
    if (input.params(base).length === 0) continue;
    const low = await shifted(-1);
    const high = await shifted(1);
    bars.push({ input: input.name, low, high, swing: Math.abs(high.contribution - low.contribution) });
  }
  bars.sort((a, b) => b.swing - a.swing);
  return { base: baseRun.contribution, bars };
}
