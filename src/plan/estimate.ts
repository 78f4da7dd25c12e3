/**
 * Parameter estimation from Pitwall's own data. Pure functions over plain observations (the
 * store adapters in estimate-store.ts read them from the tables); each result is a `Param`
 * (value, sd = standard error, source, n) plus its 95 % interval.
 */
import type { Param } from './types.ts';

export interface Estimated extends Param {
  ci95: [number, number];
}

const Z95 = 1.959964;

function est(value: number, se: number, source: string, n: number, lo?: number, hi?: number): Estimated {
  return { value, sd: se, source, n, ci95: [lo ?? value - Z95 * se, hi ?? value + Z95 * se] };
}

/** A share k/n with its Wilson 95 % interval. */
export function estimateRate(k: number, n: number, source: string): Estimated {
  if (n <= 0) return est(0, 0, source, 0, 0, 1);
  const p = k / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return est(p, Math.sqrt((p * (1 - p)) / n), source, n, Math.max(0, centre - half), Math.min(1, centre + half));
}

export interface DemandEstimate {
  ordersPerDay: Estimated;
  /** Monday..Sunday multipliers, mean 1. */
  weekly: number[];
  /** Negative binomial shape k (0 = no over-dispersion found: Poisson). */
  dispersion: Estimated;
}

/**
 * Daily order counts (with their weekday, 0 = Monday) → level, weekly seasonality and the
 * negative-binomial shape by the method of moments on the de-seasonalised counts:
 * Var = μ + μ²/k. The shape's interval comes from the sampling variance of the variance (delta method).
 */
export function estimateDemand(days: readonly { weekday: number; orders: number }[], source: string): DemandEstimate {
  const n = days.length;
  if (n < 14) throw new RangeError('at least 14 days of orders are needed');
  const sum = new Float64Array(7);
  const cnt = new Float64Array(7);
  let total = 0;
  for (const d of days) {
    sum[d.weekday] = (sum[d.weekday] as number) + d.orders;
    cnt[d.weekday] = (cnt[d.weekday] as number) + 1;
    total += d.orders;
  }
  const mean = total / n;
  const weekly = Array.from({ length: 7 }, (_, i) =>
    (cnt[i] as number) > 0 && mean > 0 ? (sum[i] as number) / (cnt[i] as number) / mean : 1,
  );
  // Moments of the counts around their weekday means; each weekday's mean variance is μ_w + μ_w²/k.
  let m2 = 0;
  let sumMu = 0;
  let m4 = 0;
  let mu2sum = 0;
  for (const d of days) {
    const mu = mean * (weekly[d.weekday] as number);
    const r = d.orders - mu;
    m2 += r * r;
    m4 += r * r * r * r;
    sumMu += mu;
    mu2sum += mu * mu;
  }
  const dof = n - 7;
  const v = m2 / dof;
  const scale = n / dof;
  const inv = (m2 * scale - sumMu) / mu2sum; // estimates 1/k
  // Residuals around n_w-day weekday means have variance × (n − 7)/n: scaled back, their fourth moment estimates the counts'.
  const seV = Math.sqrt(Math.max(0, (m4 * scale * scale) / n - v * v) / n);
  const seInv = (seV * n) / mu2sum;
  const k = inv > 0 ? 1 / inv : 0;
  const seK = inv > 0 ? seInv / (inv * inv) : 0;
  const loInv = inv + Z95 * seInv;
  const hiInv = inv - Z95 * seInv;
  const dispersion = est(k, seK, source, n, loInv > 0 ? 1 / loInv : 0, hiInv > 0 ? 1 / hiInv : Number.POSITIVE_INFINITY);
  return { ordersPerDay: est(mean, Math.sqrt(v / n), source, n), weekly, dispersion };
}

/** Student's t 0.975 quantile for 1–30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975, df): the table to 30, then the Cornish–Fisher term z + (z³ + z) / (4 df) (within 0.002). */
export function t975(df: number): number {
  return T975[df - 1] ?? Z95 + (Z95 ** 3 + Z95) / (4 * df);
}

/**
 * Mean of positive values (order values, repair days, delays) with its standard error and a
 * Student-t 95 % interval: repairs and delays often come in fives, where the normal interval
 * (± 1.96 se with the sample's own sd) covers the truth far less than 95 % of the time. One value
 * has no spread to go by: its interval is [0, ∞).
 */
export function estimateMean(xs: readonly number[], source: string): Estimated {
  const n = xs.length;
  if (n === 0) return est(0, 0, source, 0);
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return est(mean, 0, source, 1, 0, Number.POSITIVE_INFINITY);
  const se = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) / n);
  const half = t975(n - 1) * se;
  return est(mean, se, source, n, mean - half, mean + half);
}

export interface LaneObservation {
  lane: string;
  /** Delivered − promised, in days (≤ 0: on time). */
  lateDays: number;
}

export interface LaneEstimate {
  lane: string;
  disruptionRate: Estimated;
  meanDelayDays: Estimated;
}

/**
 * Per lane: the share of shipments delivered late (the disruption rate) and their mean lateness
 * (the exponential mean of the extra days; its interval exact from the gamma distribution of a sum
 * of exponentials).
 */
export function estimateLanes(obs: readonly LaneObservation[], source: string): LaneEstimate[] {
  const by = new Map<string, number[]>();
  for (const o of obs) {
    const xs = by.get(o.lane) ?? [];
    xs.push(o.lateDays);
    by.set(o.lane, xs);
  }
  return [...by.entries()].map(([lane, xs]) => {
    const late = xs.filter((x) => x > 0);
    const n = late.length;
    const m = n > 0 ? late.reduce((a, b) => a + b, 0) / n : 0;
    const se = n > 0 ? m / Math.sqrt(n) : 0;
    // The sum of n exponentials is Gamma(n, mean): an exact interval (a normal one, m ± 1.96 m/√n,
    // is far too narrow for the few late deliveries a lane usually has — for n = 1 it excludes 3 m).
    const lo = n > 0 ? (n * m) / gammaQuantile(n, 0.975) : 0;
    const hi = n > 0 ? (n * m) / gammaQuantile(n, 0.025) : 0;
    return { lane, disruptionRate: estimateRate(n, xs.length, source), meanDelayDays: est(m, se, source, n, lo, hi) };
  });
}

/**
 * The 2.5 % or 97.5 % quantile of Gamma(n, 1) for a whole n ≥ 1: exact up to n = 100
 * (P(Gamma(n) ≤ x) = P(Poisson(x) ≥ n), by bisection), Wilson–Hilferty above.
 */
function gammaQuantile(n: number, p: 0.025 | 0.975): number {
  if (n > 100) return n * (1 - 1 / (9 * n) + (p < 0.5 ? -Z95 : Z95) / (3 * Math.sqrt(n))) ** 3;
  const atLeastN = (x: number) => {
    let term = Math.exp(-x);
    let below = 0;
    for (let k = 0; k < n; k++) {
      below += term;
      term *= x / (k + 1);
    }
    return 1 - below;
  };
  let lo = 0;
  let hi = n + 10 * Math.sqrt(n) + 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (atLeastN(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface FunnelCell {
  /** Promised delivery days shown. */
  promiseDays: number;
  sessions: number;
  orders: number;
}

/**
 * Conversion penalty per extra promised day: orders ~ Poisson(sessions · exp(a − β · days)),
 * fitted by Newton–Raphson; β's standard error from the Fisher information.
 */
export function estimatePromisePenalty(cells: readonly FunnelCell[], source: string): Estimated {
  let a = Math.log(
    Math.max(
      1e-9,
      cells.reduce((s, c) => s + c.orders, 0) /
        Math.max(
          1,
          cells.reduce((s, c) => s + c.sessions, 0),
        ),
    ),
  );
  let b = 0;
  let iab = 0;
  let iaa = 0;
  let ibb = 0;
  for (let it = 0; it < 50; it++) {
    let ga = 0;
    let gb = 0;
    iaa = 0;
    iab = 0;
    ibb = 0;
    for (const c of cells) {
      const x = -c.promiseDays;
      const mu = c.sessions * Math.exp(a + b * x);
      ga += c.orders - mu;
      gb += x * (c.orders - mu);
      iaa += mu;
      iab += x * mu;
      ibb += x * x * mu;
    }
    const det = iaa * ibb - iab * iab;
    if (!(det > 0)) break;
    const da = (ibb * ga - iab * gb) / det;
    const db = (iaa * gb - iab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) + Math.abs(db) < 1e-12) break;
  }
  const det = iaa * ibb - iab * iab;
  const se = det > 0 ? Math.sqrt(iaa / det) : 0;
  return est(
    b,
    se,
    source,
    cells.reduce((s, c) => s + c.sessions, 0),
  );
}

/**
 * Equipment failure hazard per day: failures / exposure days, interval from the Poisson count
 * (Wilson–Hilferty approximation of the exact chi-square limits).
 */
export function estimateHazard(failures: number, exposureDays: number, source: string): Estimated {
  if (exposureDays <= 0) return est(0, 0, source, 0);
  const h = failures / exposureDays;
  const lo = failures === 0 ? 0 : failures * (1 - 1 / (9 * failures) - Z95 / (3 * Math.sqrt(failures))) ** 3;
  const k1 = failures + 1;
  const hi = k1 * (1 - 1 / (9 * k1) + Z95 / (3 * Math.sqrt(k1))) ** 3;
  return est(h, Math.sqrt(Math.max(failures, 1)) / exposureDays, source, exposureDays, lo / exposureDays, hi / exposureDays);
}
