/**
 * Recommendations: per category, the marketing spend and discount that maximise expected
 * contribution (gross margin − marketing) subject to P(cash < floor) ≤ a limit. One pass of
 * coordinate ascent over a small grid, every candidate run with common random numbers, so a
 * choice between two candidates is not decided by noise. `recommendationAppliedEvent` is what
 * *apply* appends to the log for workflows to act on.
 */
import { deterministicId, isoTime } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { Difference } from './compare.ts';
import { type RunOptions, runScenario } from './simulate.ts';
import { meanSd, quantilesInPlace } from './summary.ts';
import type { Scenario } from './types.ts';

export const RECOMMENDATION_APPLIED = 'plan.recommendation_applied';

const SPEND_STEPS = [0.5, 0.75, 1, 1.25, 1.5];
const DISCOUNTS = [0, 0.05, 0.1];

export interface Recommendation {
  id: string;
  scenario: string;
  category: string;
  marketingPerDay: { from: number; to: number };
  discount: { from: number; to: number };
  /** Expected contribution over the horizon: this change alone vs the current plan (paired). */
  expectedEffect: Difference;
  /** Change in the 5 % quantile of contribution (negative = a worse bad case). */
  downsideP5Delta: number;
  /** P(cash < floor) with this change alone, and its change. */
  liquidityAtRisk: number;
  liquidityAtRiskDelta: number;
}

export interface RecommendationSet {
  maxLiquidityAtRisk: number;
  paths: number;
  current: { contribution: number; liquidityAtRisk: number };
  proposed: { contribution: number; liquidityAtRisk: number; feasible: boolean };
  recommendations: Recommendation[];
}

interface Eval {
  contrib: Float64Array;
  mean: number;
  lar: number;
}

async function evaluate(s: Scenario, opts: RunOptions): Promise<Eval> {
  const out = await runScenario(s, { ...opts, daily: false });
  let b = 0;
  for (const d of out.breachDay) if (d >= 0) b++;
  return { contrib: out.contribTotal, mean: meanSd(out.contribTotal).mean, lar: b / out.breachDay.length };
}

const better = (a: Eval, b: Eval, max: number) => {
  const fa = a.lar <= max;
  const fb = b.lar <= max;
  if (fa !== fb) return fa;
  return fa ? a.mean > b.mean : a.lar < b.lar || (a.lar === b.lar && a.mean > b.mean);
};

function withChange(s: Scenario, c: number, spend: number, discount: number): Scenario {
  const categories = s.categories.map((x, i) => (i === c ? { ...x, marketingPerDay: spend, discount } : x));
  return { ...s, categories };
}

export async function recommend(
  base: Scenario,
  opts: RunOptions & { paths?: number; maxLiquidityAtRisk?: number } = {},
): Promise<RecommendationSet> {
  const max = opts.maxLiquidityAtRisk ?? 0.05;
  const s0: Scenario = { ...base, paths: Math.min(base.paths, opts.paths ?? 1000) };
  const current = await evaluate(s0, opts);
  let plan = s0;
  let best = current;
  for (let c = 0; c < plan.categories.length; c++) {
    const cat = plan.categories[c];
    if (cat === undefined) continue;
    const spends = [...new Set(SPEND_STEPS.map((k) => Math.round(cat.marketingPerDay * k)))];
    const discounts = [...new Set([cat.discount, ...DISCOUNTS])];
    let pick: { s: Scenario; e: Eval } | undefined;
    for (const sp of spends)
      for (const d of discounts) {
        if (sp === cat.marketingPerDay && d === cat.discount) continue;
        const s = withChange(plan, c, sp, d);
        const e = await evaluate(s, opts);
        if (better(e, pick?.e ?? best, max)) pick = { s, e };
      }
    if (pick) {
      plan = pick.s;
      best = pick.e;
    }
  }
  const recommendations: Recommendation[] = [];
  const p5 = (xs: Float64Array) => quantilesInPlace(Float64Array.from(xs), [0.05])[0] as number;
  const currentP5 = p5(current.contrib);
  for (let c = 0; c < plan.categories.length; c++) {
    const from = s0.categories[c];
    const to = plan.categories[c];
    if (!from || !to || (from.marketingPerDay === to.marketingPerDay && from.discount === to.discount)) continue;
    const alone = await evaluate(withChange(s0, c, to.marketingPerDay, to.discount), opts);
    const diff = Float64Array.from(alone.contrib, (x, i) => x - (current.contrib[i] as number));
    const { mean, sd } = meanSd(diff);
    const change = {
      marketingPerDay: { from: from.marketingPerDay, to: to.marketingPerDay },
      discount: { from: from.discount, to: to.discount },
    };
    recommendations.push({
      id: deterministicId(`plan:${base.name}:${base.seed}:${from.id}:${JSON.stringify(change)}`),
      scenario: base.name,
      category: from.id,
      ...change,
      expectedEffect: { value: mean, se: sd / Math.sqrt(diff.length) },
      downsideP5Delta: p5(alone.contrib) - currentP5,
      liquidityAtRisk: alone.lar,
      liquidityAtRiskDelta: alone.lar - current.lar,
    });
  }
  return {
    maxLiquidityAtRisk: max,
    paths: s0.paths,
    current: { contribution: current.mean, liquidityAtRisk: current.lar },
    proposed: { contribution: best.mean, liquidityAtRisk: best.lar, feasible: best.lar <= max },
    recommendations,
  };
}

/** The event *apply* appends: workflows trigger on it (e.g. pause a promotion, change a budget). */
export function recommendationAppliedEvent(r: Recommendation, by: string, atMs: number, id: string): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'pitwall:api/risk',
    type: RECOMMENDATION_APPLIED,
    time: isoTime(atMs),
    datacontenttype: 'application/json',
    data: {
      recommendation_id: r.id,
      scenario: r.scenario,
      category: r.category,
      marketing_per_day: r.marketingPerDay,
      discount: r.discount,
      expected_effect: r.expectedEffect.value,
      liquidity_at_risk: r.liquidityAtRisk,
      by,
    },
  };
}
