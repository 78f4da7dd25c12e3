import { describe, expect, it } from 'vitest';
import { binomial, bootstrapMeanDifference, newcombe, seededUniform, wilson, Z95 } from './stats.ts';

describe('wilson', () => {
  it('matches Newcombe 1998 (Table I) for 81/263: 0.2553 to 0.3662', () => {
    const w = wilson(81, 263);
    expect(w.lower).toBeCloseTo(0.2553, 4);
    expect(w.upper).toBeCloseTo(0.3662, 4);
  });
  it('gives a non-degenerate interval for 0/10: 0 to 0.2775', () => {
    const w = wilson(0, 10);
    expect(w.lower).toBe(0);
    expect(w.upper).toBeCloseTo(0.2775, 4);
  });
  it('gives [0, 1] for an empty sample', () => {
    expect(wilson(0, 0)).toEqual({ lower: 0, upper: 1 });
  });
});

describe('newcombe (method 10)', () => {
  // Newcombe RG (1998), Statistics in Medicine 17:873–890, Table II, method 10.
  const cases: [number, number, number, number, number, number][] = [
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [6, 7, 2, 7, 0.0582, 0.8062],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
  ];
  for (const [x1, n1, x2, n2, lo, hi] of cases) {
    it(`${x1}/${n1} − ${x2}/${n2} → ${lo} to ${hi}`, () => {
      const d = newcombe(x1, n1, x2, n2);
      expect(d.estimate).toBeCloseTo(x1 / n1 - x2 / n2, 12);
      expect(d.lower).toBeCloseTo(lo, 4);
      expect(d.upper).toBeCloseTo(hi, 4);
    });
  }
  it('hand-computed 30/100 − 20/100: Wilson (0.21895, 0.39585) and (0.13337, 0.28883) → −0.0202 to 0.2167', () => {
    // Wilson by hand (z = 1.96): 30/100 → centre 0.30728, half 0.08845; 20/100 → centre 0.21110, half 0.07773.
    const L = 0.1 - Math.sqrt((0.3 - 0.21895) ** 2 + (0.28883 - 0.2) ** 2);
    const U = 0.1 + Math.sqrt((0.39585 - 0.3) ** 2 + (0.2 - 0.13337) ** 2);
    const d = newcombe(30, 100, 20, 100);
    expect(d.lower).toBeCloseTo(L, 4);
    expect(d.upper).toBeCloseTo(U, 4);
    expect(d.lower).toBeCloseTo(-0.0202, 4);
    expect(d.upper).toBeCloseTo(0.2167, 4);
  });
  it('says nothing (−1 to 1) when a group is empty', () => {
    expect(newcombe(3, 10, 0, 0)).toMatchObject({ lower: -1, upper: 1 });
  });
});

describe('bootstrapMeanDifference', () => {
  const a = [10, 12, 9, 14, 11, 13, 10, 12];
  const b = [8, 9, 7, 10, 8, 9, 11, 7];
  it('is deterministic for a seed and brackets the estimate', () => {
    const x = bootstrapMeanDifference(a, b, { seed: 'w1' });
    const y = bootstrapMeanDifference(a, b, { seed: 'w1' });
    expect(x).toEqual(y);
    expect(x?.estimate).toBeCloseTo(11.375 - 8.625, 12);
    expect(x?.lower).toBeLessThan(2.75);
    expect(x?.upper).toBeGreaterThan(2.75);
    expect(x?.lower).toBeGreaterThan(0);
  });
  it('collapses to the estimate when every value is the same', () => {
    const x = bootstrapMeanDifference([5, 5, 5], [2, 2], { seed: 1 });
    expect(x).toEqual({ estimate: 3, lower: 3, upper: 3 });
  });
  it('agrees with the normal-theory (Welch) interval on large zero-heavy samples', () => {
    // 2,000 customers each; 10 % vs 5 % buy, for 80 each: difference 4 per customer.
    const a = Array.from({ length: 2000 }, (_, i) => (i < 200 ? 80 : 0));
    const b = Array.from({ length: 2000 }, (_, i) => (i < 100 ? 80 : 0));
    const se = Math.sqrt((80 ** 2 * 0.1 * 0.9) / 2000 + (80 ** 2 * 0.05 * 0.95) / 2000);
    const x = bootstrapMeanDifference(a, b, { seed: 'big', reps: 4000 });
    expect(x?.estimate).toBeCloseTo(4, 12);
    expect(Math.abs((x?.lower ?? 0) - (4 - Z95 * se))).toBeLessThan(0.15);
    expect(Math.abs((x?.upper ?? 0) - (4 + Z95 * se))).toBeLessThan(0.15);
  });
  it('is undefined for an empty group', () => {
    expect(bootstrapMeanDifference([], [1], { seed: 1 })).toBeUndefined();
  });
});

describe('binomial', () => {
  it('has mean n·p and variance n·p·(1 − p) over many draws, for p below and above one half', () => {
    for (const p of [0.03, 0.3, 0.8]) {
      const next = seededUniform(`p${p}`);
      const n = 500;
      const draws = Array.from({ length: 20_000 }, () => binomial(n, p, next));
      const m = draws.reduce((s, x) => s + x, 0) / draws.length;
      const v = draws.reduce((s, x) => s + (x - m) ** 2, 0) / (draws.length - 1);
      expect(Math.abs(m - n * p)).toBeLessThan(4 * Math.sqrt((n * p * (1 - p)) / draws.length));
      expect(v / (n * p * (1 - p))).toBeGreaterThan(0.95);
      expect(v / (n * p * (1 - p))).toBeLessThan(1.05);
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThanOrEqual(n);
    }
  });
  it('is exact at the edges', () => {
    const next = seededUniform(1);
    expect(binomial(10, 0, next)).toBe(0);
    expect(binomial(10, 1, next)).toBe(10);
    expect(binomial(0, 0.5, next)).toBe(0);
  });
});
