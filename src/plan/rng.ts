/**
 * Random streams. One pure-rand xoroshiro128+ generator per path, seeded with a hash of
 * (scenario seed, path index): pure-rand's small seeds give a first draw near 1.0, and hashing
 * also makes path i's stream the same in every scenario run with that seed (CRN) and on every
 * worker thread, whatever the split.
 */

import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** murmur3's 32-bit finaliser. */
function fmix32(h: number): number {
  let x = h | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x | 0;
}

/** A well-mixed 32-bit seed from a scenario seed (up to 2^53) and a path index. */
export function hashSeed(seed: number, path: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  let h = fmix32(lo ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(hi + 0x7f4a7c15, 0x27d4eb2f));
  h = fmix32(h ^ Math.imul(path + 0x165667b1, 0x9e3779b1));
  return h;
}

export function pathGenerator(seed: number, path: number): RandomGenerator {
  return xoroshiro128plus(hashSeed(seed, path));
}

const TWO_M32 = 2 ** -32;

/** A uniform draw in (0, 1), never 0 or 1 (safe for log and the inverse normal). */
export function uniform(rng: RandomGenerator): number {
  return ((rng.next() >>> 0) + 0.5) * TWO_M32;
}

// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
const A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
const [d0, d1, d2, d3] = D as [number, number, number, number];

/** Standard normal quantile of u ∈ (0, 1). */
export function invNorm(u: number): number {
  if (u < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(u));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (u > 0.97575) {
    const q = Math.sqrt(-2 * Math.log(1 - u));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = u - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

const TABLE_BITS = 14;
const TABLE_N = 1 << TABLE_BITS;
/** invNorm at i / TABLE_N; the two end bins are computed exactly instead. */
const NORM_TABLE = Float64Array.from({ length: TABLE_N + 1 }, (_, i) => (i === 0 || i === TABLE_N ? 0 : invNorm(i / TABLE_N)));

/**
 * invNorm by linear interpolation in a 16,385-entry table for 0.02425 ≤ u ≤ 0.97575 (absolute
 * error below 2·10⁻⁶ there), exact in the tails (where the table's curvature error would grow):
 * monotone — the hot loop's normal.
 */
export function fastInvNorm(u: number): number {
  if (u < 0.02425 || u > 0.97575) return invNorm(u);
  const x = u * TABLE_N;
  const i = x | 0;
  const a = NORM_TABLE[i] as number;
  return a + (x - i) * ((NORM_TABLE[i + 1] as number) - a);
}

/** Below this mean, counts are drawn by exact inversion; above it by a Cornish–Fisher quantile. */
export const EXACT_COUNT_MEAN = 16;

/**
 * The u-quantile of a negative binomial count with mean `mu` and shape `k` (gamma–Poisson:
 * variance μ + μ²/k; k = 0 means Poisson). One uniform per draw, monotone in u, so scenarios
 * that share a stream (CRN) move together. Exact below EXACT_COUNT_MEAN; above it the
 * four-cumulant Cornish–Fisher expansion, rounded (see docs/plan.md for its accuracy).
 */
export function countQuantile(u: number, mu: number, k: number): number {
  if (!(mu > 0)) return 0;
  if (mu < EXACT_COUNT_MEAN) {
    let n = 0;
    let pmf: number;
    let p: number;
    if (k > 0) {
      p = mu / (k + mu);
      pmf = Math.exp(k * Math.log(k / (k + mu)));
    } else {
      p = 0;
      pmf = Math.exp(-mu);
    }
    let cdf = pmf;
    while (u > cdf && n < 10_000) {
      pmf *= k > 0 ? ((n + k) / (n + 1)) * p : mu / (n + 1);
      n++;
      cdf += pmf;
      if (pmf === 0 && cdf < u) break;
    }
    return n;
  }
  // Cumulants of NB(μ, k): κ2 = μ(1+r), κ3 = κ2(1+2r), κ4 = κ2(1+6r+6r²), r = μ/k.
  const r = k > 0 ? mu / k : 0;
  const k2 = mu * (1 + r);
  const sd = Math.sqrt(k2);
  const g = (1 + 2 * r) / sd;
  const e = (1 + 6 * r + 6 * r * r) / k2;
  const z = fastInvNorm(u);
  const z2 = z * z;
  const w = z + g * (z2 - 1) * (1 / 6) + e * z * (z2 - 3) * (1 / 24) - g * g * z * (2 * z2 - 5) * (1 / 36);
  const x = Math.floor(mu + sd * w + 0.5);
  return Math.max(x, 0);
}
