/**
 * Plan: Monte Carlo cash flow and margin driven by IoT risk.
 *
 * Words:
 * - **parameter**: one input with a value, its source, its sample size and its uncertainty (sd);
 *   uncertain parameters are drawn once per path (parameter uncertainty), not fixed.
 * - **path**: one simulated future of the whole business over the horizon, day by day.
 * - **path-step**: one simulated day of one path (the benchmark's unit).
 * - **shock**: a what-if applied to a scenario (carrier outage, demand factor, warehouse failure,
 *   supplier cost rise), on given days.
 * - **scenario**: the base parameters plus shocks, paths, horizon and seed.
 * - **floor**: the cash level under which the business is short of liquidity; a **breach** is a
 *   day whose closing cash is below it (after drawing on the credit line).
 * - **CRN** (common random numbers): path i of every scenario run with one seed uses the same
 *   random stream in the same order, so differences between scenarios are not noise.
 */

/** A number with where it came from and how sure we are of it. */
export interface Param {
  value: number;
  /** Standard deviation of the value (parameter uncertainty); 0 = known. */
  sd: number;
  source: string;
  /** Observations the value was estimated from (0 when assumed). */
  n: number;
}

export interface Category {
  id: string;
  /** Mean orders per day before seasonality, trend, marketing and discounts. */
  ordersPerDay: Param;
  /** Over-dispersion of daily orders: negative binomial shape k (variance μ + μ²/k); 0 = Poisson. */
  dispersion: number;
  /** Demand multipliers Monday..Sunday (normalised to mean 1). */
  weekly: number[];
  /** Demand growth per week (0.01 = +1 %/week). */
  trendPerWeek: Param;
  aov: Param;
  /** Unit cost as a share of the list price (so gross margin per order = aov·(1 − discount − ratio)). */
  costRatio: Param;
  marketingPerDay: number;
  /** Reference spend the demand level was measured at; demand × (spend / reference)^elasticity. */
  marketingReference: number;
  marketingElasticity: Param;
  /** Discount as a share of the price (0..0.9). */
  discount: number;
  /** Demand × (1 + elasticity · discount). */
  discountElasticity: Param;
  returnRate: Param;
  /** Damaged in transit or spoiled: refunded and written off. */
  damageRate: Param;
}

export interface Lane {
  id: string;
  carrier: string;
  /** Share of orders shipped on this lane (shares are normalised to 1). */
  share: number;
  /** Probability per day that the lane is disrupted (shipments late). */
  disruptionRate: Param;
  /** Mean extra transit days when disrupted (exponential). */
  meanDelayDays: Param;
}

export interface Warehouse {
  id: string;
  /** Share of orders fulfilled here (normalised to 1). */
  share: number;
  /** Failure hazard per day (equipment). */
  hazardPerDay: Param;
  /** Mean days a failure lasts. */
  repairDays: Param;
  /** Share of this warehouse's capacity lost while failed (0..1). */
  capacityLoss: number;
  /** Stock written off when it fails (cold room: spoilage). */
  spoilageOnFailure: Param;
}

export interface Cash {
  opening: Param;
  floor: number;
  /** Days from sale to cash received (card payouts, marketplaces). */
  receivablesLagDays: number;
  /** Days from sale to paying the supplier for the goods. */
  payablesLagDays: number;
  /** Days from sale to a refund being paid. */
  refundLagDays: number;
  fixedCostsPerDay: Param;
  creditLimit: number;
  creditRateApr: number;
}

export interface Shock {
  kind: 'carrier_outage' | 'demand' | 'warehouse_failure' | 'cost';
  /** Carrier id (carrier_outage), warehouse id (warehouse_failure), category ids (demand, cost; empty = all). */
  target: string[];
  startDay: number;
  days: number;
  /** demand / cost factor; carrier_outage: extra transit days. */
  factor: number;
}

export interface Scenario {
  name: string;
  seed: number;
  paths: number;
  horizonDays: number;
  /** 0 = the first simulated day is a Monday. */
  startWeekday: number;
  /** Conversion × exp(−penalty · extra promised days), per extra day. */
  promisePenaltyPerDay: Param;
  /** Cost per late order (vouchers, contacts). */
  lateOrderCost: Param;
  categories: Category[];
  lanes: Lane[];
  warehouses: Warehouse[];
  cash: Cash;
  shocks: Shock[];
}

/** Bounds on the work one request may ask for. */
export const LIMITS = Object.freeze({
  maxPaths: 1_000_000,
  maxHorizonDays: 366,
  maxPathSteps: 100_000_000,
  maxLagDays: 180,
  maxCategories: 64,
  maxLanes: 64,
  maxWarehouses: 32,
  maxShocks: 64,
});
