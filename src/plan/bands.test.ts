/**
 * Bands prepared in the workers (sorted shares + block sums) and merged on the caller's thread:
 * exact order statistics, the same figures whatever the thread count.
 */
import { describe, expect, it } from 'vitest';
import { BAND_BLOCK, kthOfSorted, shareBounds } from './bands.ts';
import { defaultScenario, meanSd, quantilesInPlace, runScenario, simulate } from './index.ts';
import { pathGenerator, uniform } from './rng.ts';

describe('bands merged from per-worker shares', () => {
  it('the k-th smallest of sorted runs is the k-th smallest of their union (ties, −0, empty runs)', () => {
    const g = pathGenerator(3, 0);
    for (let trial = 0; trial < 40; trial++) {
      const runs = Array.from({ length: 1 + (trial % 4) }, (_, i) =>
        Float32Array.from({ length: i === 1 ? 0 : 1 + Math.floor(uniform(g) * 50) }, () => Math.round((uniform(g) - 0.5) * 20)).sort(),
      );
      const all = Float32Array.from(runs.flatMap((r) => Array.from(r))).sort();
      for (let k = 0; k < all.length; k++) expect(kthOfSorted(runs, k)).toBe((all[k] as number) + 0);
    }
    expect(kthOfSorted([Float32Array.of(-0), Float32Array.of(0)], 0)).toBe(0);
  });

  it('shares start on block boundaries and cover every path once', () => {
    for (const [paths, threads] of [
      [600, 2],
      [600, 3],
      [100_000, 2],
      [129, 2],
      [64, 4],
    ] as const) {
      const s = shareBounds(paths, threads);
      expect(s.length).toBeLessThanOrEqual(threads);
      expect(s[0]?.p0).toBe(0);
      expect(s.at(-1)?.p1).toBe(paths);
      for (const [i, x] of s.entries()) {
        expect(x.p0 % BAND_BLOCK).toBe(0);
        if (i > 0) expect(x.p0).toBe(s[i - 1]?.p1);
      }
    }
  });

  it('bands are the exact type-1 quantiles of each day, and the mean of each day', async () => {
    const s = { ...defaultScenario(), paths: 700, horizonDays: 20 };
    const raw = await runScenario(s, { threads: 2 });
    const r = await simulate(s, { threads: 2 });
    const n = s.paths;
    for (let t = 0; t < s.horizonDays; t++) {
      const day = Float32Array.from({ length: n }, (_, p) => raw.cash?.[p * s.horizonDays + t] as number);
      const { mean } = meanSd(day);
      const [p5, p50, p95] = quantilesInPlace(day, [0.05, 0.5, 0.95]);
      const b = r.summary.cash[t];
      expect([b?.p5, b?.p50, b?.p95]).toEqual([p5, p50, p95]);
      expect(Math.abs((b?.mean ?? 0) - mean)).toBeLessThan(1e-9 * Math.abs(mean) + 1e-6);
    }
  });

  it('1, 2 and 3 worker threads give the same summary bit for bit (bands included)', async () => {
    const s = { ...defaultScenario(), paths: 1500, horizonDays: 35 };
    const strip = (x: Awaited<ReturnType<typeof simulate>>) => ({ ...x, seconds: 0 });
    const one = strip(await simulate(s, { threads: 1 }));
    const two = strip(await simulate(s, { threads: 2 }));
    const three = strip(await simulate(s, { threads: 3 }));
    expect(two).toEqual(one);
    expect(three).toEqual(one);
    expect(one.summary.cash).toHaveLength(35);
    // And summarising the raw daily values on this thread gives the same figures.
    const raw = await runScenario(s, { threads: 2 });
    const { summarise } = await import('./summary.ts');
    expect(summarise(raw, s.horizonDays, s.cash.floor)).toEqual(one.summary);
  });

  it('the workers hand back sorted shares, not the raw daily values', async () => {
    const s = { ...defaultScenario(), paths: 400, horizonDays: 5 };
    const out = await runScenario(s, { threads: 2, bands: true });
    expect(out.cash).toBeUndefined();
    expect(out.bands?.shares).toEqual(shareBounds(400, 2));
    const { p0, p1 } = out.bands?.shares[1] ?? { p0: 0, p1: 0 };
    const run = out.bands?.cash.subarray(p0 * 5, p0 * 5 + (p1 - p0)) ?? new Float32Array();
    for (let i = 1; i < run.length; i++) expect(run[i] as number).toBeGreaterThanOrEqual(run[i - 1] as number);
  });
});
