/** From per-path results to bands, liquidity-at-risk, margin-at-risk and standard errors. */
import type { PathOutputs } from './kernel.ts';

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

export interface Band {
  day: number;
  p5: number;
  p50: number;
  p95: number;
  mean: number;
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

function band(day: number, slice: Float32Array): Band {
  const { mean } = meanSd(slice);
  const [p5, p50, p95] = quantilesInPlace(slice, [0.05, 0.5, 0.95]) as [number, number, number];
  return { day, p5, p50, p95, mean };
}

function totals(xs: Float64Array): Estimate & { p5: number; p50: number; p95: number } {
  const { mean, sd } = meanSd(xs);
  const [p5, p50, p95] = quantilesInPlace(Float64Array.from(xs), [0.05, 0.5, 0.95]) as [number, number, number];
  return { value: mean, se: sd / Math.sqrt(xs.length), p5, p50, p95 };
}

/** Path-major [p·days + t] → day-major [t·n + p], in blocks of paths so reads and writes stay in cache. */
function dayMajor(src: Float32Array, n: number, days: number): Float32Array {
  const dst = new Float32Array(n * days);
  const B = 256;
  for (let p0 = 0; p0 < n; p0 += B) {
    const p1 = Math.min(n, p0 + B);
    for (let t = 0; t < days; t++) {
      const row = t * n;
      for (let p = p0; p < p1; p++) dst[row + p] = src[p * days + t] as number;
    }
  }
  return dst;
}

/** Summarises the outputs (the daily arrays are left as they are). */
export function summarise(out: PathOutputs, days: number, floor: number): RiskSummary {
  const n = out.minCash.length;
  const cash: Band[] = [];
  const gm: Band[] = [];
  if (out.cash && out.gm) {
    const c = dayMajor(out.cash, n, days);
    const g = dayMajor(out.gm, n, days);
    for (let t = 0; t < days; t++) {
      cash.push(band(t, c.subarray(t * n, (t + 1) * n)));
      gm.push(band(t, g.subarray(t * n, (t + 1) * n)));
    }
  }
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
