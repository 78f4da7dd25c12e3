/**
 * Parameter recovery: synthetic data generated from known parameters (seeded), estimated back;
 * each estimate must be within 10 % of the truth or have the truth inside its 95 % interval.
 */
import { describe, expect, it } from 'vitest';
import {
  countQuantile,
  type Estimated,
  estimateDemand,
  estimateHazard,
  estimateLanes,
  estimateMean,
  estimatePromisePenalty,
  estimateRate,
  t975,
} from './index.ts';
import { pathGenerator, uniform } from './rng.ts';

function recovered(e: Estimated, truth: number): boolean {
  return Math.abs(e.value - truth) <= 0.1 * Math.abs(truth) || (e.ci95[0] <= truth && truth <= e.ci95[1]);
}

const rng = (seed: number) => pathGenerator(seed, 0);

describe('parameter estimation recovers known parameters', () => {
  it('demand: level, weekly seasonality and negative-binomial shape', () => {
    const weekly = [1.2, 1.1, 1, 1, 1.05, 0.9, 0.75];
    const wMean = weekly.reduce((a, b) => a + b, 0) / 7;
    const g = rng(11);
    const days = Array.from({ length: 364 }, (_, i) => {
      const weekday = i % 7;
      return { weekday, orders: countQuantile(uniform(g), (40 * (weekly[weekday] as number)) / wMean, 12) };
    });
    const d = estimateDemand(days, 'synthetic');
    expect(recovered(d.ordersPerDay, 40)).toBe(true);
    expect(recovered(d.dispersion, 12)).toBe(true);
    for (const [i, w] of d.weekly.entries()) expect(Math.abs(w - (weekly[i] as number) / wMean)).toBeLessThan(0.1);
    expect(d.ordersPerDay.n).toBe(364);
    expect(d.dispersion.ci95[0]).toBeLessThan(d.dispersion.ci95[1]);
  });

  it('demand: Poisson counts give a large or unbounded shape, not a spurious small one', () => {
    const g = rng(12);
    const days = Array.from({ length: 364 }, (_, i) => ({ weekday: i % 7, orders: countQuantile(uniform(g), 30, 0) }));
    const d = estimateDemand(days, 'synthetic');
    expect(d.dispersion.value === 0 || d.dispersion.ci95[1] > 100).toBe(true);
  });

  it('demand: a Poisson shape stays inside the interval ~95 % of the time on four weeks of few orders', () => {
    // 1/k = 0 is inside the interval when its upper end is unbounded. The residuals around 7 fitted
    // weekday means shrink by (n − 7)/n; their fourth moment unscaled gave ≈ 88 % coverage here.
    const g = rng(17);
    let covered = 0;
    const runs = 1000;
    for (let r = 0; r < runs; r++) {
      const days = Array.from({ length: 28 }, (_, i) => ({ weekday: i % 7, orders: countQuantile(uniform(g), 3, 0) }));
      if (estimateDemand(days, 'synthetic').dispersion.ci95[1] === Number.POSITIVE_INFINITY) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.92);
  });

  it('lanes: the mean delay interval covers ~95 % with only 1–5 late deliveries (exact gamma, not normal)', () => {
    const g = rng(18);
    let covered = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      const late = 1 + (r % 5);
      const obs = Array.from({ length: late }, () => ({ lane: 'x', lateDays: -0.5 * Math.log(uniform(g)) }));
      const e = estimateLanes(obs, 'synthetic')[0];
      if (e && e.meanDelayDays.ci95[0] <= 0.5 && 0.5 <= e.meanDelayDays.ci95[1]) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.97);
    // One late delivery of 1 day: Gamma(1) quantiles 0.0253 and 3.689.
    const one = estimateLanes([{ lane: 'y', lateDays: 1 }], 'synthetic')[0];
    expect(one?.meanDelayDays.ci95[0]).toBeCloseTo(1 / 3.6889, 3);
    expect(one?.meanDelayDays.ci95[1]).toBeCloseTo(1 / 0.025318, 1);
  });

  it('lanes: disruption rate and mean delay per carrier × lane', () => {
    const g = rng(13);
    const truth = { 'dhl:a-b': [0.05, 1.2], 'ups:a-c': [0.12, 2.5] } as const;
    const obs = Object.entries(truth).flatMap(([lane, [rate, mean]]) =>
      Array.from({ length: 4000 }, () => {
        const u = uniform(g);
        // Late with probability `rate`, by an exponential number of days; else up to a day early.
        return { lane, lateDays: u < rate ? -mean * Math.log(uniform(g)) : -uniform(g) };
      }),
    );
    const est = estimateLanes(obs, 'synthetic');
    for (const e of est) {
      const [rate, mean] = truth[e.lane as keyof typeof truth];
      expect(recovered(e.disruptionRate, rate)).toBe(true);
      expect(recovered(e.meanDelayDays, mean)).toBe(true);
    }
  });

  it('funnel: the conversion penalty of a longer promise', () => {
    const g = rng(14);
    const beta = 0.08;
    const cells = [1, 2, 3, 4, 5, 7].map((promiseDays) => {
      const sessions = 20_000;
      const p = 0.03 * Math.exp(-beta * promiseDays);
      let orders = 0;
      for (let i = 0; i < sessions; i++) if (uniform(g) < p) orders++;
      return { promiseDays, sessions, orders };
    });
    const e = estimatePromisePenalty(cells, 'synthetic');
    expect(recovered(e, beta)).toBe(true);
    expect(e.sd).toBeGreaterThan(0);
  });

  it('equipment: failure hazard per day and repair days', () => {
    const g = rng(15);
    const hazard = 0.006;
    let failures = 0;
    const repairs: number[] = [];
    const exposure = 3 * 1000;
    for (let d = 0; d < exposure; d++)
      if (uniform(g) < hazard) {
        failures++;
        repairs.push(-2 * Math.log(uniform(g)));
      }
    expect(recovered(estimateHazard(failures, exposure, 'synthetic'), hazard)).toBe(true);
    expect(recovered(estimateMean(repairs, 'synthetic'), 2)).toBe(true);
  });

  it('means: a Student-t interval that covers 95 % of the time with five values (the normal one: ≈ 88 %)', () => {
    expect(t975(1)).toBe(12.706);
    expect(t975(4)).toBe(2.776);
    expect(t975(30)).toBe(2.042);
    expect(Math.abs(t975(60) - 2.0003)).toBeLessThan(0.002);
    expect(Math.abs(t975(1000) - 1.96234)).toBeLessThan(0.001);
    const g = rng(41);
    const normal = () => Math.sqrt(-2 * Math.log(uniform(g))) * Math.cos(2 * Math.PI * uniform(g));
    const reps = 4000;
    let covered = 0;
    let coveredByNormal = 0;
    for (let r = 0; r < reps; r++) {
      const xs = Array.from({ length: 5 }, () => 4 + normal());
      const e = estimateMean(xs, 'synthetic');
      if (e.ci95[0] <= 4 && 4 <= e.ci95[1]) covered++;
      if (Math.abs(e.value - 4) <= 1.959964 * e.sd) coveredByNormal++;
    }
    expect(covered / reps).toBeGreaterThan(0.935);
    expect(covered / reps).toBeLessThan(0.965);
    expect(coveredByNormal / reps).toBeLessThan(0.9);
    expect(estimateMean([3], 'one').ci95).toEqual([0, Number.POSITIVE_INFINITY]);
  });

  it('rates: damage and returns with Wilson intervals', () => {
    const g = rng(16);
    let k = 0;
    for (let i = 0; i < 5000; i++) if (uniform(g) < 0.012) k++;
    const e = estimateRate(k, 5000, 'synthetic');
    expect(recovered(e, 0.012)).toBe(true);
    expect(e.ci95[0]).toBeGreaterThanOrEqual(0);
    expect(estimateRate(0, 0, 'none').ci95).toEqual([0, 1]);
  });
});
