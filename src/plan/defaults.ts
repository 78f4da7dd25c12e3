/**
 * The default scenario: a mid-sized online automotive-parts retailer with 8 categories, 4
 * carriers' lanes and 3 warehouses (one with a cold room), every risk factor switched on.
 * Values are assumptions (source "assumed") until estimated from Pitwall's own tables.
 */
import type { Category, Lane, Param, Scenario, Warehouse } from './types.ts';

export const assumed = (value: number, sd = 0): Param => ({ value, sd, source: 'assumed', n: 0 });

const WEEKLY = [1.12, 1.06, 1.02, 1.0, 1.04, 0.92, 0.84];

function category(
  id: string,
  orders: number,
  aov: number,
  costRatio: number,
  returns: number,
  damage: number,
  marketing: number,
): Category {
  return {
    id,
    ordersPerDay: assumed(orders, orders * 0.08),
    dispersion: 12,
    weekly: [...WEEKLY],
    trendPerWeek: assumed(0.002, 0.003),
    aov: assumed(aov, aov * 0.03),
    costRatio: assumed(costRatio, 0.015),
    marketingPerDay: marketing,
    marketingReference: marketing,
    marketingElasticity: assumed(0.12, 0.04),
    discount: 0,
    discountElasticity: assumed(2.5, 0.6),
    returnRate: assumed(returns, returns * 0.15),
    damageRate: assumed(damage, damage * 0.25),
  };
}

export const DEFAULT_CATEGORIES: readonly Category[] = [
  category('brakes', 70, 96, 0.58, 0.05, 0.006, 420),
  category('filters', 90, 38, 0.52, 0.03, 0.003, 260),
  category('suspension', 28, 184, 0.61, 0.07, 0.008, 300),
  category('engine', 34, 142, 0.6, 0.06, 0.007, 280),
  category('lighting', 40, 54, 0.5, 0.08, 0.012, 220),
  category('batteries', 22, 128, 0.66, 0.04, 0.01, 200),
  category('fluids', 55, 31, 0.48, 0.02, 0.015, 180),
  category('tyres', 30, 236, 0.72, 0.05, 0.004, 340),
];

function lane(id: string, carrier: string, share: number, rate: number, delay: number): Lane {
  return { id, carrier, share, disruptionRate: assumed(rate, rate * 0.3), meanDelayDays: assumed(delay, delay * 0.2) };
}

export const DEFAULT_LANES: readonly Lane[] = [
  lane('dhl:de-national', 'dhl', 0.38, 0.04, 1.2),
  lane('dpd:de-national', 'dpd', 0.27, 0.06, 1.5),
  lane('ups:eu-cross-border', 'ups', 0.2, 0.05, 2.0),
  lane('gls:de-bulky', 'gls', 0.15, 0.08, 1.8),
];

function warehouse(id: string, share: number, hazard: number, repair: number, loss: number, spoilage: number): Warehouse {
  return {
    id,
    share,
    hazardPerDay: assumed(hazard, hazard * 0.35),
    repairDays: assumed(repair, repair * 0.25),
    capacityLoss: loss,
    spoilageOnFailure: assumed(spoilage, spoilage * 0.3),
  };
}

export const DEFAULT_WAREHOUSES: readonly Warehouse[] = [
  warehouse('leipzig', 0.5, 0.004, 2, 0.6, 0),
  warehouse('dortmund', 0.35, 0.006, 1.5, 0.5, 0),
  warehouse('munich-cold', 0.15, 0.01, 3, 0.8, 18_000),
];

export function defaultScenario(): Scenario {
  return {
    name: 'default',
    seed: 1,
    paths: 10_000,
    horizonDays: 91,
    startWeekday: 0,
    promisePenaltyPerDay: assumed(0.06, 0.02),
    lateOrderCost: assumed(4, 1),
    categories: DEFAULT_CATEGORIES.map((c) => structuredClone(c)),
    lanes: DEFAULT_LANES.map((l) => structuredClone(l)),
    warehouses: DEFAULT_WAREHOUSES.map((w) => structuredClone(w)),
    cash: {
      opening: assumed(180_000),
      floor: 60_000,
      receivablesLagDays: 2,
      payablesLagDays: 30,
      refundLagDays: 12,
      fixedCostsPerDay: assumed(10_000, 300),
      creditLimit: 60_000,
      creditRateApr: 0.11,
    },
    shocks: [],
  };
}

/** A new category, lane or warehouse named in a scenario file starts from these values. */
export const blankCategory = (id: string): Category => category(id, 10, 50, 0.6, 0.05, 0.005, 0);
export const blankLane = (id: string): Lane => lane(id, id.split(':')[0] ?? id, 0, 0.05, 1.5);
export const blankWarehouse = (id: string): Warehouse => warehouse(id, 0, 0.005, 2, 0.5, 0);
