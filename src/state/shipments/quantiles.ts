/**
 * The statistics behind predicted delivery windows. Pure.
 *
 * - `quantile`: linear interpolation between order statistics (Hyndman & Fan type 7, the default
 *   of R and NumPy): h = (n − 1)·p, x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋+1 − x⌊h⌋).
 * - `conditionalQuantile`: the same over the sample values above `elapsed` — the transit time of
 *   a shipment that has already been travelling `elapsed` is distributed like the historical
 *   transit times that were longer than that, so a shipment that is already late predicts later.
 * - `lognormalConditionalQuantile`: the same for a prior given as P50/P90 (the catalogue's lane
 *   transit hours), read as a log-normal distribution.
 */

/** Type-7 quantile of `values` (need not be sorted); undefined for an empty sample. */
export function quantile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const xs = [...values].sort((a, b) => a - b);
  const h = (xs.length - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const a = xs[lo] as number;
  const b = xs[Math.min(lo + 1, xs.length - 1)] as number;
  return a + (h - lo) * (b - a);
}

/** Quantile `p` of the sample values strictly above `elapsed`, and how many there were. */
export function conditionalQuantile(values: readonly number[], elapsed: number, p: number): { value: number | undefined; n: number } {
  const above = values.filter((v) => v > elapsed);
  return { value: quantile(above, p), n: above.length };
}

/** z of the standard normal's 90th percentile. */
const Z90 = 1.2815515655446004;

/**
 * Quantile `p` of a log-normal with median `p50` and 90th percentile `p90` (same unit), given that
 * the value exceeds `elapsed`. A degenerate prior (p90 ≤ p50) is a point at p50.
 */
export function lognormalConditionalQuantile(p50: number, p90: number, elapsed: number, p: number): number {
  if (!(p50 > 0)) return Math.max(0, elapsed);
  if (!(p90 > p50)) return Math.max(p50, elapsed);
  const mu = Math.log(p50);
  const sigma = Math.log(p90 / p50) / Z90;
  const fe = elapsed > 0 ? normalCdf((Math.log(elapsed) - mu) / sigma) : 0;
  const u = fe + p * (1 - fe);
  if (u >= 1 - 1e-12) return Math.max(elapsed, 0);
  return Math.max(elapsed, Math.exp(mu + sigma * normalQuantile(u)));
}

/** Φ(x), via the complementary error function (Numerical Recipes `erfcc`, relative error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

const A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

/** Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = D as [number, number, number, number];
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}
