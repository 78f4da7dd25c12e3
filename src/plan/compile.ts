/**
 * A scenario compiled to flat numbers and typed arrays: what the kernel reads in its hot loop
 * and what is posted to worker threads (structured-clonable, no functions).
 */
import type { Param, Scenario } from './types.ts';

/** How a parameter's uncertainty is drawn. */
export const LOGNORMAL = 0;
export const NORMAL = 1;
/** Lognormal, capped at 1 (rates). */
export const RATE = 2;

/** Per-category parameter slots. */
export const CP = 8;
export const C_ORDERS = 0;
export const C_TREND = 1;
export const C_AOV = 2;
export const C_COST = 3;
export const C_MKT_EL = 4;
export const C_DISC_EL = 5;
export const C_RETURN = 6;
export const C_DAMAGE = 7;
/** Per-lane slots. */
export const LP = 2;
export const L_RATE = 0;
export const L_DELAY = 1;
/** Per-warehouse slots. */
export const WP = 3;
export const W_HAZARD = 0;
export const W_REPAIR = 1;
export const W_SPOIL = 2;
/** Global slots (after categories, lanes, warehouses). */
export const G_PENALTY = 0;
export const G_LATE_COST = 1;
export const G_OPENING = 2;
export const G_FIXED = 3;
export const GP = 4;

export interface CompiledModel {
  C: number;
  L: number;
  W: number;
  T: number;
  /** Parameter table: mean, sd, kind per slot (categories, lanes, warehouses, globals). */
  pMean: Float64Array;
  pSd: Float64Array;
  pKind: Uint8Array;
  /** Per category: NB shape (0 = Poisson), marketing spend, spend / reference, discount. */
  dispersion: Float64Array;
  marketing: Float64Array;
  spendRatio: Float64Array;
  discount: Float64Array;
  /** Normalised shares. */
  laneShare: Float64Array;
  whShare: Float64Array;
  whLoss: Float64Array;
  /** [t·C + c]: weekly seasonality × demand shocks; cost shocks. */
  dayDemand: Float64Array;
  dayCost: Float64Array;
  /** [t·L + l]: forced extra transit days (carrier outage), −1 when none. */
  laneForced: Float64Array;
  /** [t·W + w]: 1 when a forced failure covers the day, 2 on its first day (spoilage). */
  whForced: Uint8Array;
  floor: number;
  recvLag: number;
  payLag: number;
  refundLag: number;
  creditLimit: number;
  creditDailyRate: number;
  marketingTotal: number;
}

export const paramBase = (m: Pick<CompiledModel, 'C' | 'L' | 'W'>) => ({
  lane: m.C * CP,
  wh: m.C * CP + m.L * LP,
  global: m.C * CP + m.L * LP + m.W * WP,
});

function normalise(xs: number[]): Float64Array {
  const sum = xs.reduce((a, b) => a + b, 0);
  return Float64Array.from(xs, (x) => (sum > 0 ? x / sum : 0));
}

export function compile(s: Scenario): CompiledModel {
  const C = s.categories.length;
  const L = s.lanes.length;
  const W = s.warehouses.length;
  const T = s.horizonDays;
  const P = C * CP + L * LP + W * WP + GP;
  const pMean = new Float64Array(P);
  const pSd = new Float64Array(P);
  const pKind = new Uint8Array(P);
  const set = (i: number, p: Param, kind: number) => {
    pMean[i] = p.value;
    pSd[i] = p.sd;
    pKind[i] = kind;
  };
  s.categories.forEach((c, i) => {
    const b = i * CP;
    set(b + C_ORDERS, c.ordersPerDay, LOGNORMAL);
    set(b + C_TREND, c.trendPerWeek, NORMAL);
    set(b + C_AOV, c.aov, LOGNORMAL);
    set(b + C_COST, c.costRatio, LOGNORMAL);
    set(b + C_MKT_EL, c.marketingElasticity, NORMAL);
    set(b + C_DISC_EL, c.discountElasticity, NORMAL);
    set(b + C_RETURN, c.returnRate, RATE);
    set(b + C_DAMAGE, c.damageRate, RATE);
  });
  const base = paramBase({ C, L, W });
  s.lanes.forEach((l, i) => {
    set(base.lane + i * LP + L_RATE, l.disruptionRate, RATE);
    set(base.lane + i * LP + L_DELAY, l.meanDelayDays, LOGNORMAL);
  });
  s.warehouses.forEach((w, i) => {
    set(base.wh + i * WP + W_HAZARD, w.hazardPerDay, RATE);
    set(base.wh + i * WP + W_REPAIR, w.repairDays, LOGNORMAL);
    set(base.wh + i * WP + W_SPOIL, w.spoilageOnFailure, LOGNORMAL);
  });
  set(base.global + G_PENALTY, s.promisePenaltyPerDay, LOGNORMAL);
  set(base.global + G_LATE_COST, s.lateOrderCost, LOGNORMAL);
  set(base.global + G_OPENING, s.cash.opening, NORMAL);
  set(base.global + G_FIXED, s.cash.fixedCostsPerDay, LOGNORMAL);

  const dayDemand = new Float64Array(T * C);
  const dayCost = new Float64Array(T * C).fill(1);
  const laneForced = new Float64Array(T * L).fill(-1);
  const whForced = new Uint8Array(T * W);
  const weekly = s.categories.map((c) => {
    const mean = c.weekly.reduce((a, b) => a + b, 0) / 7;
    return c.weekly.map((w) => w / mean);
  });
  for (let t = 0; t < T; t++) {
    const dow = (s.startWeekday + t) % 7;
    for (let c = 0; c < C; c++) dayDemand[t * C + c] = weekly[c]?.[dow] ?? 1;
  }
  const catIdx = (ids: string[]) =>
    ids.length === 0 ? s.categories.map((_, i) => i) : ids.map((id) => s.categories.findIndex((c) => c.id === id));
  for (const sh of s.shocks) {
    const end = Math.min(T, sh.startDay + sh.days);
    for (let t = sh.startDay; t < end; t++) {
      if (sh.kind === 'demand') for (const c of catIdx(sh.target)) dayDemand[t * C + c] = (dayDemand[t * C + c] ?? 0) * sh.factor;
      else if (sh.kind === 'cost') for (const c of catIdx(sh.target)) dayCost[t * C + c] = (dayCost[t * C + c] ?? 1) * sh.factor;
      else if (sh.kind === 'carrier_outage') {
        s.lanes.forEach((l, i) => {
          if (l.carrier === sh.target[0]) laneForced[t * L + i] = Math.max(laneForced[t * L + i] ?? -1, sh.factor);
        });
      } else {
        const w = s.warehouses.findIndex((x) => x.id === sh.target[0]);
        if (w >= 0) whForced[t * W + w] = t === sh.startDay ? 2 : Math.max(1, whForced[t * W + w] ?? 0);
      }
    }
  }
  return {
    C,
    L,
    W,
    T,
    pMean,
    pSd,
    pKind,
    dispersion: Float64Array.from(s.categories, (c) => c.dispersion),
    marketing: Float64Array.from(s.categories, (c) => c.marketingPerDay),
    spendRatio: Float64Array.from(s.categories, (c) => (c.marketingReference > 0 ? c.marketingPerDay / c.marketingReference : 1)),
    discount: Float64Array.from(s.categories, (c) => c.discount),
    laneShare: normalise(s.lanes.map((l) => l.share)),
    whShare: normalise(s.warehouses.map((w) => w.share)),
    whLoss: Float64Array.from(s.warehouses, (w) => w.capacityLoss),
    dayDemand,
    dayCost,
    laneForced,
    whForced,
    floor: s.cash.floor,
    recvLag: s.cash.receivablesLagDays,
    payLag: s.cash.payablesLagDays,
    refundLag: s.cash.refundLagDays,
    creditLimit: s.cash.creditLimit,
    creditDailyRate: s.cash.creditRateApr / 365,
    marketingTotal: s.categories.reduce((a, c) => a + c.marketingPerDay, 0),
  };
}
