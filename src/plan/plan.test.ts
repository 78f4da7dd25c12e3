import { describe, expect, it } from 'vitest';
import { isAppError } from '../core/index.ts';
import {
  compareScenarios,
  countQuantile,
  defaultScenario,
  parseScenario,
  parseScenarioText,
  recommend,
  recommendationAppliedEvent,
  runScenario,
  type Scenario,
  simulate,
  standardWhatIfs,
  tornado,
} from './index.ts';
import { fastInvNorm, invNorm } from './rng.ts';

/** One category, no lanes or warehouses, every parameter known: the closed-form cases. */
function bare(over: Record<string, unknown> = {}, category: Record<string, unknown> = {}): Scenario {
  return parseScenario({
    base: 'none',
    seed: 7,
    paths: 20_000,
    horizon_days: 1,
    promise_penalty_per_day: 0,
    late_order_cost: 0,
    cash: {
      opening: 0,
      floor: -1e9,
      fixed_costs_per_day: 0,
      credit_limit: 0,
      receivables_lag_days: 0,
      payables_lag_days: 0,
      refund_lag_days: 0,
    },
    categories: [
      {
        id: 'only',
        orders_per_day: 10,
        dispersion: 0,
        weekly: [1, 1, 1, 1, 1, 1, 1],
        trend_per_week: 0,
        aov: 50,
        cost_ratio: 0,
        marketing_per_day: 0,
        marketing_elasticity: 0,
        discount_elasticity: 0,
        return_rate: 0,
        damage_rate: 0,
        ...category,
      },
    ],
    ...over,
  });
}

function moments(xs: Float64Array): { mean: number; variance: number } {
  let m = 0;
  for (const x of xs) m += x;
  m /= xs.length;
  let v = 0;
  for (const x of xs) v += (x - m) ** 2;
  return { mean: m, variance: v / (xs.length - 1) };
}

/** ∫ q(u) du and ∫ q(u)² du on a fine midpoint grid: the exact moments of the sampler, no randomness. */
function samplerMoments(mu: number, k: number): { mean: number; variance: number } {
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = countQuantile((i + 0.5) / n, mu, k);
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe('count sampler', () => {
  it('the table normal quantile is monotone, within 2e-6 of the exact one in the centre and exact in the tails', () => {
    // Plain comparisons in the loop (400k expect() calls took 5–30 s on a loaded machine); the first failure is reported.
    let last = Number.NEGATIVE_INFINITY;
    const bad: string[] = [];
    for (let i = 1; i < 200_000 && bad.length === 0; i++) {
      const u = i / 200_000;
      const z = fastInvNorm(u);
      if (!(z >= last)) bad.push(`not monotone at u = ${u}: ${z} < ${last}`);
      last = z;
      const err = Math.abs(z - invNorm(u));
      if (!(err < (u < 0.02425 || u > 0.97575 ? 1e-15 : 2e-6))) bad.push(`u = ${u}: off by ${err}`);
    }
    expect(bad).toEqual([]);
  });

  it('is exactly Poisson below the exact threshold (mean and variance = μ)', () => {
    const { mean, variance } = samplerMoments(6, 0);
    expect(mean).toBeCloseTo(6, 2);
    expect(variance).toBeCloseTo(6, 1);
  });

  it('is negative binomial: variance μ + μ²/k, exact and Cornish–Fisher branches', () => {
    for (const [mu, k] of [
      [8, 4],
      [40, 0],
      [60, 12],
      [150, 5],
    ] as const) {
      const { mean, variance } = samplerMoments(mu, k);
      const v = mu + (k > 0 ? (mu * mu) / k : 0);
      expect(Math.abs(mean - mu) / mu).toBeLessThan(0.01);
      expect(Math.abs(variance - v) / v).toBeLessThan(0.03);
    }
  });

  it('is monotone in u (what common random numbers rely on)', () => {
    let last = -1;
    for (let i = 1; i < 10_000; i++) {
      const x = countQuantile(i / 10_000, 60, 12);
      expect(x).toBeGreaterThanOrEqual(last);
      last = x;
    }
  });
});

describe('closed-form cases', () => {
  it('Poisson demand with a fixed order value: revenue mean λ·v and variance λ·v²', async () => {
    for (const lambda of [10, 40]) {
      const out = await runScenario(bare({}, { orders_per_day: lambda }), { daily: false });
      const { mean, variance } = moments(out.revenueTotal);
      const se = Math.sqrt((lambda * 2500) / out.revenueTotal.length);
      expect(Math.abs(mean - lambda * 50)).toBeLessThan(4 * se);
      expect(Math.abs(variance - lambda * 2500) / (lambda * 2500)).toBeLessThan(0.05);
    }
  });

  it('over 30 days the revenue variance adds up (independent days)', async () => {
    const out = await runScenario(bare({ horizon_days: 30, paths: 10_000 }), { daily: false });
    const { mean, variance } = moments(out.revenueTotal);
    expect(Math.abs(mean - 30 * 500) / (30 * 500)).toBeLessThan(0.005);
    expect(Math.abs(variance - 30 * 25_000) / (30 * 25_000)).toBeLessThan(0.06);
  });

  it('a deterministic cash path equals the hand calculation', async () => {
    // Horizon shorter than every lag: only the steady-state flows from before day 0 land —
    // +10·50 received, −10·50·0.6·(1 − 0.1) paid to suppliers, −10·50·0.1 refunded, −300 fixed.
    const s = bare(
      {
        horizon_days: 5,
        paths: 3,
        cash: {
          opening: 1000,
          floor: 450,
          fixed_costs_per_day: 300,
          credit_limit: 30,
          credit_rate_apr: 0,
          receivables_lag_days: 10,
          payables_lag_days: 10,
          refund_lag_days: 10,
        },
      },
      { cost_ratio: 0.6, return_rate: 0.1 },
    );
    const out = await runScenario(s);
    const daily = Array.from({ length: 5 }, (_, t) => out.cash?.[t] as number); // path 0, path-major
    // 500 − 270 − 50 − 300 = −120 a day; on day 4 cash would be 400 < 450: the line gives its 30.
    expect(daily).toEqual([880, 760, 640, 520, 430]);
    expect(out.breachDay[0]).toBe(4);
    expect(out.maxDrawn[0]).toBe(30);
    expect(out.minCash[0]).toBe(430);
  });

  it('gross margin per path is the hand-calculated share of revenue', async () => {
    const s = bare({ horizon_days: 10, paths: 200 }, { cost_ratio: 0.55, return_rate: 0.08, damage_rate: 0.02, discount: 0.1 });
    const out = await runScenario(s, { daily: false });
    // Revenue is at the discounted price; cost is on the list price; returns restock their cost.
    const share = 1 - 0.08 - 0.02 - (0.55 * (1 - 0.08)) / 0.9;
    for (let p = 0; p < 200; p++) expect(out.gmTotal[p]).toBeCloseTo((out.revenueTotal[p] as number) * share, 6);
  });
});

describe('reproducibility and convergence', () => {
  it('the same seed gives the same result; another seed another', async () => {
    const s = { ...defaultScenario(), paths: 400 };
    const a = await simulate(s);
    const b = await simulate(s);
    const c = await simulate({ ...s, seed: 2 });
    expect(b.summary).toEqual(a.summary);
    expect(c.summary.grossMarginTotal.value).not.toBe(a.summary.grossMarginTotal.value);
  });

  it('worker threads give exactly the single-thread result', async () => {
    const s = { ...defaultScenario(), paths: 600 };
    const one = await runScenario(s);
    const two = await runScenario(s, { threads: 2 });
    expect(Array.from(two.gmTotal)).toEqual(Array.from(one.gmTotal));
    expect(Array.from(two.cash ?? [])).toEqual(Array.from(one.cash ?? []));
  });

  it('the standard error shrinks as 1/√n and matches the spread across seeds', async () => {
    const base = { ...defaultScenario(), horizonDays: 28 };
    const small = await simulate({ ...base, paths: 500 }, { daily: false });
    const large = await simulate({ ...base, paths: 8000 }, { daily: false });
    const ratio = small.summary.grossMarginTotal.se / large.summary.grossMarginTotal.se;
    expect(ratio).toBeGreaterThan(4 * 0.85);
    expect(ratio).toBeLessThan(4 * 1.15);
    const means: number[] = [];
    for (let seed = 100; seed < 116; seed++)
      means.push((await simulate({ ...base, paths: 500, seed }, { daily: false })).summary.grossMarginTotal.value);
    const m = means.reduce((a, b) => a + b, 0) / means.length;
    const sd = Math.sqrt(means.reduce((a, b) => a + (b - m) ** 2, 0) / (means.length - 1));
    // 16 seeds: the sample sd of the means is within ±45 % of the reported se with high probability.
    expect(sd / small.summary.grossMarginTotal.se).toBeGreaterThan(0.55);
    expect(sd / small.summary.grossMarginTotal.se).toBeLessThan(1.45);
  });

  it('bands are ordered and the day-0 cash band starts near the opening balance', async () => {
    const r = await simulate({ ...defaultScenario(), paths: 1000 });
    for (const b of [...r.summary.cash, ...r.summary.grossMargin]) {
      expect(b.p5).toBeLessThanOrEqual(b.p50);
      expect(b.p50).toBeLessThanOrEqual(b.p95);
    }
    expect(r.summary.cash).toHaveLength(91);
    expect(Math.abs((r.summary.cash[0]?.p50 ?? 0) - 180_000)).toBeLessThan(5_000);
    expect(r.summary.expectedShortfall95.value).toBeLessThan(r.summary.grossMarginTotal.p5);
    expect(r.summary.marginAtRisk95).toBeGreaterThan(0);
    expect(r.parameters.find((p) => p.pointer === '/categories/0/aov')).toMatchObject({ value: 96, source: 'assumed' });
  });
});

describe('scenarios with common random numbers', () => {
  it('an identical what-if differs by exactly 0; demand +30 % raises margin with a small paired error', async () => {
    const base = { ...defaultScenario(), paths: 800 };
    const same = { ...base, name: 'same' };
    const more = { ...base, name: 'more', shocks: [{ kind: 'demand' as const, target: [], startDay: 0, days: 91, factor: 1.3 }] };
    const c = await compareScenarios(base, [same, more], { daily: false });
    expect(c.scenarios[0]?.grossMarginDelta).toEqual({ value: 0, se: 0 });
    const d = c.scenarios[1]?.grossMarginDelta;
    expect(d?.value).toBeGreaterThan(0.2 * c.base.summary.grossMarginTotal.value);
    // Paired (CRN) error far below the unpaired one.
    expect(d?.se).toBeLessThan(0.5 * Math.SQRT2 * c.base.summary.grossMarginTotal.se);
  });

  it('the standard what-ifs move the results the expected way', async () => {
    const base = { ...defaultScenario(), paths: 500 };
    const whatIfs = standardWhatIfs(base);
    expect(whatIfs.map((w) => w.name)).toEqual(['dhl outage 7 days', 'demand +30 %', 'munich-cold failure 5 days', 'supplier price +8 %']);
    const c = await compareScenarios(base, whatIfs, { daily: false });
    const [outage, demand, cold, price] = c.scenarios;
    expect(outage?.grossMarginDelta.value).toBeLessThan(0);
    expect(demand?.grossMarginDelta.value).toBeGreaterThan(0);
    // At least the spoilage written off when the cold room fails.
    expect(cold?.grossMarginDelta.value).toBeLessThan(-15_000);
    expect(price?.grossMarginDelta.value).toBeLessThan(0);
    expect(price?.liquidityAtRiskDelta.value).toBeGreaterThanOrEqual(0);
  });

  it('a forced total warehouse failure stops revenue on its days', async () => {
    const s = parseScenario({
      ...{ base: 'none', seed: 3, paths: 50, horizon_days: 10 },
      categories: [{ id: 'a', orders_per_day: 20 }],
      warehouses: [{ id: 'w', share: 1, capacity_loss: 1, hazard_per_day: 0 }],
      shocks: [{ kind: 'warehouse_failure', warehouse: 'w', start_day: 0, days: 10 }],
    });
    const out = await runScenario(s, { daily: false });
    expect(Array.from(out.revenueTotal).every((r) => r === 0)).toBe(true);
  });
});

describe('tornado and recommendations', () => {
  it('tornado bars are sorted by swing and fixed costs move liquidity, not contribution', async () => {
    const t = await tornado({ ...defaultScenario(), horizonDays: 42 }, { paths: 300 });
    const swings = t.bars.map((b) => b.swing);
    expect(swings).toEqual([...swings].sort((a, b) => b - a));
    const fixed = t.bars.find((b) => b.input === 'fixed costs');
    expect(fixed?.swing).toBe(0);
    expect(fixed?.high.liquidityAtRisk).toBeGreaterThanOrEqual(fixed?.low.liquidityAtRisk ?? 1);
    expect(t.bars[0]?.input).toMatch(/orders per day|average order value|unit cost ratio/);
  });

  // Discounts do not raise demand here (elasticity 0), so they only cost margin.
  it('recommends more spend where it pays and less where it does not', async () => {
    const s = parseScenario({
      base: 'none',
      paths: 400,
      horizon_days: 28,
      cash: { opening: 1e6, floor: 0 },
      categories: [
        {
          id: 'elastic',
          orders_per_day: 50,
          aov: 100,
          cost_ratio: 0.4,
          marketing_per_day: 200,
          marketing_elasticity: 0.6,
          discount_elasticity: 0,
        },
        {
          id: 'flat',
          orders_per_day: 50,
          aov: 100,
          cost_ratio: 0.4,
          marketing_per_day: 400,
          marketing_elasticity: 0,
          discount_elasticity: 0,
        },
      ],
    });
    const r = await recommend(s, { paths: 400 });
    const elastic = r.recommendations.find((x) => x.category === 'elastic');
    const flat = r.recommendations.find((x) => x.category === 'flat');
    expect(elastic?.marketingPerDay.to).toBeGreaterThan(200);
    expect(flat?.marketingPerDay.to).toBe(200);
    expect(flat?.discount.to).toBe(0);
    expect(flat?.expectedEffect.value).toBeCloseTo(200 * 28, 0);
    expect(r.proposed.contribution).toBeGreaterThan(r.current.contribution);
    expect(r.proposed.feasible).toBe(true);
    const ev = recommendationAppliedEvent(flat ?? (elastic as never), 'key_1', 0, 'evt_1');
    expect(ev).toMatchObject({
      type: 'plan.recommendation_applied',
      data: { category: 'flat', marketing_per_day: { from: 400, to: 200 } },
    });
  });
});

describe('bad input gets a clear error and bounded work', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return isAppError(e) ? `${e.code} ${e.pointer}` : String(e);
    }
    return 'no error';
  };
  it.each([
    [{ horizon_days: -3 }, 'PW_RISK_SCENARIO /horizon_days'],
    [{ horizon_days: 10_000 }, 'PW_RISK_SCENARIO /horizon_days'],
    [{ paths: 1e12 }, 'PW_RISK_SCENARIO /paths'],
    [{ paths: 1_000_000, horizon_days: 366 }, 'PW_RISK_SCENARIO /paths'],
    [{ colour: 'red' }, 'PW_RISK_SCENARIO /colour'],
    [{ categories: [{ id: 'brakes', aov: 'lots' }] }, 'PW_RISK_SCENARIO /categories/0/aov'],
    [{ categories: [{ id: 'brakes', weekly: [1, 2] }] }, 'PW_RISK_SCENARIO /categories/0/weekly'],
    [{ shocks: [{ kind: 'carrier_outage', carrier: 'pigeon' }] }, 'PW_RISK_SCENARIO /shocks/0/carrier'],
    [{ shocks: [{ kind: 'meteor' }] }, 'PW_RISK_SCENARIO /shocks/0/kind'],
    [{ cash: { payables_lag_days: 400 } }, 'PW_RISK_SCENARIO /cash/payables_lag_days'],
    [{ base: 'none' }, 'PW_RISK_SCENARIO /categories'],
    [[1, 2], 'PW_RISK_SCENARIO /'],
  ])('%j → %s', (input, expected) => {
    expect(code(() => parseScenario(input))).toBe(expected);
  });

  it('rejects YAML that does not parse, and reads a good file', () => {
    expect(code(() => parseScenarioText('paths: [1,'))).toMatch(/^PW_RISK_SCENARIO/);
    const s = parseScenarioText(
      'name: tight\npaths: 100\ncategories:\n  - id: brakes\n    aov: {value: 90, sd: 4, source: orders 2026, n: 5000}\n',
    );
    expect(s.categories.find((c) => c.id === 'brakes')?.aov).toEqual({ value: 90, sd: 4, source: 'orders 2026', n: 5000 });
    expect(s.categories).toHaveLength(8);
  });
});
