/**
 * Interval maths for Learn, pure: Wilson score intervals, Newcombe's hybrid score interval for a
 * difference of proportions (Newcombe 1998, method 10), and a seeded percentile bootstrap for a
 * difference of means.
 */

/** The 97.5th percentile of the standard normal: a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  lower: number;
  upper: number;
}

/** Wilson score interval for `successes` of `n` (Wilson 1927); n = 0 gives [0, 1]. */
export function wilson(successes: number, n: number, z = Z95): Interval {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

export interface Difference extends Interval {
  /** p1 − p2. */
  estimate: number;
}

/**
 * Newcombe's hybrid score interval for p1 − p2 from two independent samples (method 10):
 * L = d − √((p1 − l1)² + (u2 − p2)²), U = d + √((u1 − p1)² + (p2 − l2)²), with (l, u) the Wilson
 * intervals of each proportion. Either sample empty → the whole range [−1, 1].
 */
export function newcombe(x1: number, n1: number, x2: number, n2: number, z = Z95): Difference {
  if (n1 <= 0 || n2 <= 0) return { estimate: n1 > 0 ? x1 / n1 : n2 > 0 ? -x2 / n2 : 0, lower: -1, upper: 1 };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const a = wilson(x1, n1, z);
  const b = wilson(x2, n2, z);
  const d = p1 - p2;
  return {
    estimate: d,
    lower: d - Math.sqrt((p1 - a.lower) ** 2 + (b.upper - p2) ** 2),
    upper: d + Math.sqrt((a.upper - p1) ** 2 + (p2 - b.lower) ** 2),
  };
}

/** A seeded uniform generator (mulberry32 over an FNV-1a hash of the seed, so small seeds draw well). */
export function seededUniform(seed: string | number): () => number {
  let h = 0x811c9dc5;
  for (const ch of String(seed)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  let state = h >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mean(xs: Float64Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length === 0 ? 0 : s / xs.length;
}

/** The q-quantile (0..1) of sorted values, linear between order statistics (type 7). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/**
 * Successes in `n` trials of probability `p`, exactly, by geometric skipping: expected
 * O(n·min(p, 1 − p) + 1) uniforms instead of n.
 */
export function binomial(n: number, p: number, next: () => number): number {
  if (p <= 0 || n <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, next);
  const logQ = Math.log1p(-p);
  let count = 0;
  let pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(1 - next()) / logQ) + 1;
    if (pos > n) return count;
    count += 1;
  }
}

/**
 * Binomial(n, p) for the resampler: exact (geometric skipping) while n·p·(1 − p) < 100, else the
 * normal approximation with continuity correction — at that size its error (skewness below 0.1)
 * is far under the bootstrap's own Monte Carlo error, and it costs two uniforms instead of n·p.
 */
function resampledCount(n: number, p: number, next: () => number): number {
  const variance = n * p * (1 - p);
  if (variance < 100) return binomial(n, p, next);
  const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return Math.min(n, Math.max(0, Math.round(n * p + z * Math.sqrt(variance))));
}

/**
 * One group prepared for resampling: its non-zero values and size. Resampling n values with
 * replacement is the same, in distribution, as drawing K ~ Binomial(n, k/n) of the k non-zero
 * values (the rest are zeros) — so a zero-heavy outcome (revenue: most customers buy nothing)
 * costs O(k) per resample, not O(n).
 */
function resampler(xs: readonly number[], next: () => number): () => number {
  const nonZero = Float64Array.from(xs.filter((x) => x !== 0));
  const n = xs.length;
  const k = nonZero.length;
  return () => {
    const draws = k === n ? n : resampledCount(n, k / n, next);
    let sum = 0;
    for (let i = 0; i < draws; i++) sum += nonZero[Math.floor(next() * k)] as number;
    return sum / n;
  };
}

/**
 * Percentile bootstrap (`reps` resamples, each group resampled with replacement on its own) of
 * mean(a) − mean(b), 95 %; deterministic for a seed. Either group empty → undefined.
 */
export function bootstrapMeanDifference(
  a: readonly number[],
  b: readonly number[],
  opts: { seed: string | number; reps?: number },
): Difference | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  const reps = opts.reps ?? 2000;
  const next = seededUniform(opts.seed);
  const ra = resampler(a, next);
  const rb = resampler(b, next);
  const diffs = new Float64Array(reps);
  for (let r = 0; r < reps; r++) diffs[r] = ra() - rb();
  diffs.sort();
  return {
    estimate: mean(Float64Array.from(a)) - mean(Float64Array.from(b)),
    lower: quantileSorted(diffs, 0.025),
    upper: quantileSorted(diffs, 0.975),
  };
}
