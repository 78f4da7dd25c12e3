/** From per-path results to bands, liquidity-at-risk, margin-at-risk and standard errors. */
import { allocateSums, type Band, mergeBands, sortShare } from './bands.ts';
import type { PathOutputs } from './kernel.ts';

export type { Band } from './bands.ts';

/** In-place quickselect: after it, a[k] holds the k-th smallest value of a[lo..hi]. */
function select(a: Float32Array | Float64Array, k: number, lo0: number, hi0: number): number {
  let lo = lo0;
  let hi = hi0;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot.
    const x = a[lo] as number;
    const y = a[mid] as number;
    const z = a[hi] as number;
    const pivot = x < y ? (y < z ? y : Math.max(x, z)) : x < z ? x : Math.max(y, z);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const tmp = a[i] as number;
        a[i] = a[j] as number;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] as number;
  }
  return a[k] as number;
}

/** Quantiles (type 1: the ⌈q·n⌉-th smallest) of `xs`, which is reordered. Probabilities ascending. */
export function quantilesInPlace(xs: Float32Array | Float64Array, probs: readonly number[]): number[] {
  const n = xs.length;
  if (n === 0) return probs.map(() => Number.NaN);
  let lo = 0;
  return probs.map((q) => {
    const k = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
    const v = select(xs, k, Math.min(lo, k), n - 1);
    lo = k;
    return v;
  });
}

export function meanSd(xs: ArrayLike<number>): { mean: number; sd: number } {
  const n = xs.length;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i] as number;
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  }
  return { mean, sd: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0 };
}

export interface Estimate {
  value: number;
  /** Monte Carlo standard error. */
  se: number;
}

export interface RiskSummary {
  paths: number;
  horizonDays: number;
  floor: number;
  cash: Band[];
  grossMargin: Band[];
  /** P(closing cash < floor on some day), and when. */
  liquidityAtRisk: {
    probability: Estimate;
    /** Median first breach day among breaching paths (null when none breach). */
    medianFirstBreachDay: number | null;
    /** [day]: P(first breach on or before that day). */
    cumulativeByDay: number[];
  };
  grossMarginTotal: Estimate & { p5: number; p50: number; p95: number };
  contributionTotal: Estimate & { p5: number; p50: number; p95: number };
  /** Expected gross margin minus its 5 % quantile. */
  marginAtRisk95: number;
  /** Mean of the worst 5 % of total gross margin (a level, not a loss). */
  expectedShortfall95: Estimate;
  revenueTotal: Estimate;
  minCashP5: number;
  creditDrawnP95: number;
  endCash: Estimate & { p5: number; p50: number; p95: number };
}

function totals(xs: Float64Array): Estimate & { p5: number; p50: number; p95: number } {
  const { mean, sd } = meanSd(xs);
  const [p5, p50, p95] = quantilesInPlace(Float64Array.from(xs), [0.05, 0.5, 0.95]) as [number, number, number];
  return { value: mean, se: sd / Math.sqrt(xs.length), p5, p50, p95 };
}

/**
 * Summarises the outputs (raw daily arrays are left as they are: the bands are prepared on
 * copies, by the same code the workers run, so either way gives the same figures).
 */
export function summarise(out: PathOutputs, days: number, floor: number): RiskSummary {
  const n = out.minCash.length;
  let cash: Band[] = [];
  let gm: Band[] = [];
  let parts = out.bands;
  if (!parts && out.cash && out.gm && n > 0) {
    const c = Float32Array.from(out.cash);
    const g = Float32Array.from(out.gm);
    const sums = allocateSums(n, days, false);
    sortShare(c, g, sums, 0, n, days);
    parts = { shares: [{ p0: 0, p1: n }], cash: c, gm: g, sums };
  }
  if (parts && n > 0) ({ cash, gm } = mergeBands(parts, n, days));
  const firsts = new Int32Array(days);
  let breaches = 0;
  const breachDays: number[] = [];
  for (let p = 0; p < n; p++) {
    const d = out.breachDay[p] as number;
    if (d >= 0) {
      breaches++;
      firsts[d] = (firsts[d] as number) + 1;
      breachDays.push(d);
    }
  }
  const cumulativeByDay: number[] = [];
  let acc = 0;
  for (let t = 0; t < days; t++) {
    acc += firsts[t] as number;
    cumulativeByDay.push(acc / n);
  }
  const pB = breaches / n;
  breachDays.sort((a, b) => a - b);
  const g = totals(out.gmTotal);
  const sortedGm = Float64Array.from(out.gmTotal).sort();
  const tail = Math.max(1, Math.floor(0.05 * n));
  const worst = meanSd(sortedGm.subarray(0, tail));
  return {
    paths: n,
    horizonDays: days,
    floor,
    cash,
    grossMargin: gm,
    liquidityAtRisk: {
      probability: { value: pB, se: Math.sqrt((pB * (1 - pB)) / n) },
      medianFirstBreachDay: breachDays.length > 0 ? (breachDays[Math.floor((breachDays.length - 1) / 2)] as number) : null,
      cumulativeByDay,
    },
    grossMarginTotal: g,
    contributionTotal: totals(out.contribTotal),
    marginAtRisk95: g.value - g.p5,
    // The tail mean's standard error, treating the tail as a sample of its own (approximate).
    expectedShortfall95: { value: worst.mean, se: worst.sd / Math.sqrt(tail) },
    revenueTotal: (({ value, se }) => ({ value, se }))(totals(out.revenueTotal)),
    minCashP5: quantilesInPlace(Float64Array.from(out.minCash), [0.05])[0] as number,
    creditDrawnP95: quantilesInPlace(Float64Array.from(out.maxDrawn), [0.95])[0] as number,
    endCash: totals(out.endCash),
  };
}
