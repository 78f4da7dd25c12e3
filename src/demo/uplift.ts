/**
 * Treated-vs-holdout conversion difference with a 95 % interval: Wilson score intervals per
 * group, combined by Newcombe's hybrid method (Newcombe 1998, method 10). Pure functions.
 */

const Z95 = 1.959963984540054;

/** Wilson score interval for `successes` of `n`. n = 0 → [0, 1]. */
export function wilson(successes: number, n: number, z = Z95): { p: number; lo: number; hi: number } {
  if (n <= 0) return { p: 0, lo: 0, hi: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Difference of proportions treated − holdout with Newcombe's hybrid score interval. */
export function newcombe(
  treated: { conversions: number; n: number },
  holdout: { conversions: number; n: number },
  z = Z95,
): { diff: number; lo: number; hi: number } {
  const a = wilson(treated.conversions, treated.n, z);
  const b = wilson(holdout.conversions, holdout.n, z);
  const diff = a.p - b.p;
  return {
    diff,
    lo: diff - Math.sqrt((a.p - a.lo) ** 2 + (b.hi - b.p) ** 2),
    hi: diff + Math.sqrt((a.hi - a.p) ** 2 + (b.p - b.lo) ** 2),
  };
}
