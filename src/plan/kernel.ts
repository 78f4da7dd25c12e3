/**
 * The hot loop: simulates paths [p0, p1) of a compiled model day by day and writes their
 * results into `out`. Each path draws, from its own stream and always in the same order:
 * one normal per parameter slot (parameter uncertainty), then per day one uniform per lane,
 * per warehouse and per category — a fixed layout, so common random numbers hold across
 * scenarios. Allocation-free inside the loop; typed arrays throughout.
 */

import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { BandParts } from './bands.ts';
import {
  C_AOV,
  C_COST,
  C_DAMAGE,
  C_DISC_EL,
  C_MKT_EL,
  C_ORDERS,
  C_RETURN,
  C_TREND,
  type CompiledModel,
  CP,
  G_FIXED,
  G_LATE_COST,
  G_OPENING,
  G_PENALTY,
  L_DELAY,
  L_RATE,
  LOGNORMAL,
  LP,
  NORMAL,
  paramBase,
  W_HAZARD,
  W_REPAIR,
  W_SPOIL,
  WP,
} from './compile.ts';
import { countQuantile, fastInvNorm, pathGenerator } from './rng.ts';

const TWO_M32 = 2 ** -32;

/** Per-path results (indexed by global path number) and, optionally, day-major daily values. */
export interface PathOutputs {
  /** [p·days + t] (path-major: each path writes one contiguous run): closing cash; cumulative gross margin. Absent when only totals are needed. */
  cash: Float32Array | undefined;
  gm: Float32Array | undefined;
  minCash: Float64Array;
  /** First day with closing cash below the floor, −1 if none. */
  breachDay: Int16Array;
  gmTotal: Float64Array;
  /** Gross margin − marketing. */
  contribTotal: Float64Array;
  revenueTotal: Float64Array;
  maxDrawn: Float64Array;
  endCash: Float64Array;
  /** Set when the daily values were already sorted for the bands (`cash` / `gm` are then undefined). */
  bands?: BandParts;
}

export function allocateOutputs(paths: number, days: number, daily: boolean, shared = false): PathOutputs {
  const f64 = () => new Float64Array(shared ? new SharedArrayBuffer(paths * 8) : new ArrayBuffer(paths * 8));
  const f32 = () => new Float32Array(shared ? new SharedArrayBuffer(paths * days * 4) : new ArrayBuffer(paths * days * 4));
  return {
    cash: daily ? f32() : undefined,
    gm: daily ? f32() : undefined,
    minCash: f64(),
    breachDay: new Int16Array(shared ? new SharedArrayBuffer(paths * 2) : new ArrayBuffer(paths * 2)),
    gmTotal: f64(),
    contribTotal: f64(),
    revenueTotal: f64(),
    maxDrawn: f64(),
    endCash: f64(),
  };
}

const RING = 256;
const MASK = RING - 1;

/** Per slot, once per run: the lognormal's σ and σ²/2 for the slot's mean and sd. */
function lognormalShape(m: CompiledModel): { sigma: Float64Array; half: Float64Array } {
  const n = m.pMean.length;
  const sigma = new Float64Array(n);
  const half = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const mean = m.pMean[i] as number;
    const cv = mean > 0 ? (m.pSd[i] as number) / mean : 0;
    const s2 = Math.log(1 + cv * cv);
    sigma[i] = Math.sqrt(s2);
    half[i] = s2 / 2;
  }
  return { sigma, half };
}

/** Draws one value per parameter slot into `pv` (one uniform each, whatever the sd: CRN). */
function drawParams(m: CompiledModel, shape: { sigma: Float64Array; half: Float64Array }, rng: RandomGenerator, pv: Float64Array): void {
  const n = pv.length;
  for (let i = 0; i < n; i++) {
    const z = fastInvNorm(((rng.next() >>> 0) + 0.5) * TWO_M32);
    const mean = m.pMean[i] as number;
    const sd = m.pSd[i] as number;
    const kind = m.pKind[i] as number;
    if (sd === 0) pv[i] = mean;
    else if (kind === NORMAL) pv[i] = mean + sd * z;
    else if (mean <= 0) pv[i] = 0;
    else {
      const v = mean * Math.exp((shape.sigma[i] as number) * z - (shape.half[i] as number));
      pv[i] = kind === LOGNORMAL ? v : Math.min(v, 1);
    }
  }
}

export function runPaths(m: CompiledModel, seed: number, p0: number, p1: number, out: PathOutputs): void {
  const { C, L, W, T } = m;
  const base = paramBase(m);
  const pv = new Float64Array(m.pMean.length);
  const shape = lognormalShape(m);
  const catBase = new Float64Array(C);
  const growth = new Float64Array(C);
  const gcur = new Float64Array(C);
  const price = new Float64Array(C);
  const unitCost = new Float64Array(C);
  const refundRate = new Float64Array(C);
  const returnRate = new Float64Array(C);
  const down = new Int32Array(W);
  const recv = new Float64Array(RING);
  const pay = new Float64Array(RING);
  const refund = new Float64Array(RING);
  const { dispersion, laneShare, whShare, whLoss, dayDemand, dayCost, laneForced, whForced, floor } = m;
  const cashOut = out.cash;
  const gmOut = out.gm;
  const laneRate = new Float64Array(L);
  const laneDelay = new Float64Array(L);
  const whHazard = new Float64Array(W);
  const whRepair = new Float64Array(W);
  const whSpoil = new Float64Array(W);
  const { recvLag, payLag, refundLag, creditLimit, creditDailyRate, marketingTotal } = m;

  for (let p = p0; p < p1; p++) {
    const rng = pathGenerator(seed, p);
    drawParams(m, shape, rng, pv);
    const penalty = pv[base.global + G_PENALTY] as number;
    const lateCost = pv[base.global + G_LATE_COST] as number;
    const fixed = pv[base.global + G_FIXED] as number;
    let cash = pv[base.global + G_OPENING] as number;
    for (let l = 0; l < L; l++) {
      laneRate[l] = pv[base.lane + l * LP + L_RATE] as number;
      laneDelay[l] = pv[base.lane + l * LP + L_DELAY] as number;
    }
    for (let w = 0; w < W; w++) {
      whHazard[w] = pv[base.wh + w * WP + W_HAZARD] as number;
      whRepair[w] = pv[base.wh + w * WP + W_REPAIR] as number;
      whSpoil[w] = pv[base.wh + w * WP + W_SPOIL] as number;
    }
    let expRecv = 0;
    let expPay = 0;
    let expRefund = 0;
    for (let c = 0; c < C; c++) {
      const b = c * CP;
      const disc = m.discount[c] as number;
      const mkt = (m.spendRatio[c] as number) ** (pv[b + C_MKT_EL] as number);
      const dm = 1 + (pv[b + C_DISC_EL] as number) * disc;
      catBase[c] = (pv[b + C_ORDERS] as number) * mkt * Math.max(dm, 0);
      growth[c] = Math.exp(Math.log1p(pv[b + C_TREND] as number) / 7);
      gcur[c] = 1;
      const aov = pv[b + C_AOV] as number;
      price[c] = aov * (1 - disc);
      unitCost[c] = aov * (pv[b + C_COST] as number);
      returnRate[c] = pv[b + C_RETURN] as number;
      refundRate[c] = (pv[b + C_RETURN] as number) + (pv[b + C_DAMAGE] as number);
      expRecv += (catBase[c] as number) * (price[c] as number);
      expPay += (catBase[c] as number) * (unitCost[c] as number) * (1 - (returnRate[c] as number));
      expRefund += (catBase[c] as number) * (price[c] as number) * (refundRate[c] as number);
    }
    // Steady state before day 0: sales made before the horizon are still being paid in and out.
    recv.fill(0);
    pay.fill(0);
    refund.fill(0);
    for (let t = 0; t < recvLag; t++) recv[t & MASK] = expRecv;
    for (let t = 0; t < payLag; t++) pay[t & MASK] = expPay;
    for (let t = 0; t < refundLag; t++) refund[t & MASK] = expRefund;
    down.fill(0);
    let drawn = 0;
    let maxDrawn = 0;
    let minCash = Number.POSITIVE_INFINITY;
    let breach = -1;
    let cumGm = 0;
    let cumContrib = 0;
    let cumRev = 0;
    const rowT = p * T;

    for (let t = 0; t < T; t++) {
      const rowC = t * C;
      // Lanes: a disrupted lane lengthens the promise (lower conversion) and makes orders late.
      let conv = L === 0 ? 1 : 0;
      let late = 0;
      for (let l = 0; l < L; l++) {
        const u = ((rng.next() >>> 0) + 0.5) * TWO_M32;
        const share = laneShare[l] as number;
        const forced = laneForced[t * L + l] as number;
        const rate = laneRate[l] as number;
        const extra = forced >= 0 ? forced : u < rate ? -(laneDelay[l] as number) * Math.log(u / rate) : 0;
        if (extra > 0) {
          conv += share * Math.exp(-penalty * extra);
          late += share;
        } else conv += share;
      }
      // Warehouses: a failure removes part of their capacity for its duration; a cold room spoils.
      let cap = 1;
      let spoil = 0;
      for (let w = 0; w < W; w++) {
        const u = ((rng.next() >>> 0) + 0.5) * TWO_M32;
        const forced = whForced[t * W + w] as number;
        let isDown = false;
        if ((down[w] as number) > 0) {
          isDown = true;
          down[w] = (down[w] as number) - 1;
        } else if (forced > 0) {
          isDown = true;
          if (forced === 2) spoil += whSpoil[w] as number;
        } else {
          const h = whHazard[w] as number;
          if (u < h) {
            isDown = true;
            const d = Math.round(-(whRepair[w] as number) * Math.log(u / h));
            down[w] = d > 1 ? d - 1 : 0;
            spoil += whSpoil[w] as number;
          }
        }
        if (isDown) cap -= (whShare[w] as number) * (whLoss[w] as number);
      }
      // Categories: orders, revenue, cost of goods, refunds.
      let rev = 0;
      let cogs = 0;
      let refunds = 0;
      let restock = 0;
      let orders = 0;
      for (let c = 0; c < C; c++) {
        const u = ((rng.next() >>> 0) + 0.5) * TWO_M32;
        const g = gcur[c] as number;
        gcur[c] = g * (growth[c] as number);
        const mu = (catBase[c] as number) * g * (dayDemand[rowC + c] as number) * conv;
        const shipped = countQuantile(u, mu, dispersion[c] as number) * cap;
        const r = shipped * (price[c] as number);
        const k = shipped * (unitCost[c] as number) * (dayCost[rowC + c] as number);
        rev += r;
        cogs += k;
        refunds += r * (refundRate[c] as number);
        restock += k * (returnRate[c] as number);
        orders += shipped;
      }
      const lateCosts = lateCost * orders * late;
      const gmDay = rev - cogs - refunds + restock - spoil - lateCosts;
      cumGm += gmDay;
      cumContrib += gmDay - marketingTotal;
      cumRev += rev;
      // Cash: flows land after their lags; the credit line defends the floor, surplus repays it.
      recv[(t + recvLag) & MASK] = (recv[(t + recvLag) & MASK] as number) + rev;
      pay[(t + payLag) & MASK] = (pay[(t + payLag) & MASK] as number) + cogs - restock + spoil;
      refund[(t + refundLag) & MASK] = (refund[(t + refundLag) & MASK] as number) + refunds;
      const i = t & MASK;
      cash += (recv[i] as number) - (pay[i] as number) - (refund[i] as number) - fixed - marketingTotal - lateCosts;
      recv[i] = 0;
      pay[i] = 0;
      refund[i] = 0;
      cash -= drawn * creditDailyRate;
      if (cash < floor) {
        const take = Math.min(creditLimit - drawn, floor - cash);
        if (take > 0) {
          drawn += take;
          cash += take;
          if (drawn > maxDrawn) maxDrawn = drawn;
        }
      } else if (drawn > 0) {
        const give = Math.min(drawn, cash - floor);
        drawn -= give;
        cash -= give;
      }
      if (cash < minCash) minCash = cash;
      if (breach < 0 && cash < floor) breach = t;
      if (cashOut !== undefined && gmOut !== undefined) {
        cashOut[rowT + t] = cash;
        gmOut[rowT + t] = cumGm;
      }
    }
    out.minCash[p] = minCash;
    out.breachDay[p] = breach;
    out.gmTotal[p] = cumGm;
    out.contribTotal[p] = cumContrib;
    out.revenueTotal[p] = cumRev;
    out.maxDrawn[p] = maxDrawn;
    out.endCash[p] = cash;
  }
}
