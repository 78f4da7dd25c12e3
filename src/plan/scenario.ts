/**
 * Scenario input (YAML file or API body, snake_case) → a validated `Scenario`. Input overrides
 * the default scenario: categories, lanes and warehouses merge by `id` (a new id starts from
 * blank values), `base: none` starts from empty lists. Every error names its JSON pointer.
 */
import { parse as parseYaml } from 'yaml';
import { AppError } from '../core/index.ts';
import { blankCategory, blankLane, blankWarehouse, defaultScenario } from './defaults.ts';
import { type Cash, type Category, type Lane, LIMITS, type Param, type Scenario, type Shock, type Warehouse } from './types.ts';

type Obj = Record<string, unknown>;

const bad = (pointer: string, message: string) =>
  new AppError('PW_RISK_SCENARIO', `${pointer || '/'}: ${message}`, { pointer: pointer || '/', status: 400 });

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Obj, allowed: readonly string[], at: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(`${at}/${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
}

function num(v: unknown, at: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(at, 'must be a finite number');
  if (v < min || v > max) throw bad(at, `must be between ${min} and ${max} (got ${v})`);
  return v;
}

function int(v: unknown, at: string, min: number, max: number): number {
  const n = num(v, at, min, max);
  if (!Number.isInteger(n)) throw bad(at, 'must be an integer');
  return n;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 120) throw bad(at, 'must be a non-empty string (≤ 120 characters)');
  return v;
}

/** A parameter: a bare number (known, source "override") or `{value, sd, source, n}` merged over the current one. */
function param(v: unknown, at: string, cur: Param, min: number, max: number): Param {
  if (v === undefined) return cur;
  if (typeof v === 'number') return { value: num(v, at, min, max), sd: 0, source: 'override', n: 0 };
  if (!isObj(v)) throw bad(at, 'must be a number or {value, sd, source, n}');
  checkKeys(v, ['value', 'sd', 'source', 'n'], at);
  const value = v.value === undefined ? cur.value : num(v.value, `${at}/value`, min, max);
  const sd = v.sd === undefined ? (v.value === undefined ? cur.sd : 0) : num(v.sd, `${at}/sd`, 0, Math.max(1, Math.abs(max - min)));
  return {
    value,
    sd,
    source: v.source === undefined ? 'override' : str(v.source, `${at}/source`),
    n: v.n === undefined ? 0 : int(v.n, `${at}/n`, 0, 1e12),
  };
}

function opt<T>(o: Obj, key: string, at: string, f: (v: unknown, at: string) => T, cur: T): T {
  return o[key] === undefined ? cur : f(o[key], `${at}/${key}`);
}

const CATEGORY_KEYS = [
  'id',
  'orders_per_day',
  'dispersion',
  'weekly',
  'trend_per_week',
  'aov',
  'cost_ratio',
  'marketing_per_day',
  'marketing_reference',
  'marketing_elasticity',
  'discount',
  'discount_elasticity',
  'return_rate',
  'damage_rate',
];

function parseCategory(o: Obj, at: string, cur: Category): Category {
  checkKeys(o, CATEGORY_KEYS, at);
  let weekly = cur.weekly;
  if (o.weekly !== undefined) {
    if (!Array.isArray(o.weekly) || o.weekly.length !== 7) throw bad(`${at}/weekly`, 'must be 7 multipliers, Monday to Sunday');
    weekly = o.weekly.map((w, i) => num(w, `${at}/weekly/${i}`, 0, 100));
    if (weekly.every((w) => w === 0)) throw bad(`${at}/weekly`, 'must not be all zero');
  }
  const c: Category = {
    id: cur.id,
    ordersPerDay: param(o.orders_per_day, `${at}/orders_per_day`, cur.ordersPerDay, 0, 1e6),
    dispersion: opt(o, 'dispersion', at, (v, p) => num(v, p, 0, 1e9), cur.dispersion),
    weekly,
    trendPerWeek: param(o.trend_per_week, `${at}/trend_per_week`, cur.trendPerWeek, -0.5, 1),
    aov: param(o.aov, `${at}/aov`, cur.aov, 0, 1e7),
    costRatio: param(o.cost_ratio, `${at}/cost_ratio`, cur.costRatio, 0, 5),
    marketingPerDay: opt(o, 'marketing_per_day', at, (v, p) => num(v, p, 0, 1e9), cur.marketingPerDay),
    marketingReference: opt(o, 'marketing_reference', at, (v, p) => num(v, p, 0, 1e9), cur.marketingReference),
    marketingElasticity: param(o.marketing_elasticity, `${at}/marketing_elasticity`, cur.marketingElasticity, -2, 2),
    discount: opt(o, 'discount', at, (v, p) => num(v, p, 0, 0.9), cur.discount),
    discountElasticity: param(o.discount_elasticity, `${at}/discount_elasticity`, cur.discountElasticity, -10, 50),
    returnRate: param(o.return_rate, `${at}/return_rate`, cur.returnRate, 0, 1),
    damageRate: param(o.damage_rate, `${at}/damage_rate`, cur.damageRate, 0, 1),
  };
  // A reference of 0 with spend > 0 would make (spend / reference)^e infinite.
  if (c.marketingReference === 0 && c.marketingPerDay > 0) c.marketingReference = c.marketingPerDay;
  return c;
}

function parseLane(o: Obj, at: string, cur: Lane): Lane {
  checkKeys(o, ['id', 'carrier', 'share', 'disruption_rate', 'mean_delay_days'], at);
  return {
    id: cur.id,
    carrier: opt(o, 'carrier', at, str, cur.carrier),
    share: opt(o, 'share', at, (v, p) => num(v, p, 0, 1e6), cur.share),
    disruptionRate: param(o.disruption_rate, `${at}/disruption_rate`, cur.disruptionRate, 0, 1),
    meanDelayDays: param(o.mean_delay_days, `${at}/mean_delay_days`, cur.meanDelayDays, 0, 60),
  };
}

function parseWarehouse(o: Obj, at: string, cur: Warehouse): Warehouse {
  checkKeys(o, ['id', 'share', 'hazard_per_day', 'repair_days', 'capacity_loss', 'spoilage_on_failure'], at);
  return {
    id: cur.id,
    share: opt(o, 'share', at, (v, p) => num(v, p, 0, 1e6), cur.share),
    hazardPerDay: param(o.hazard_per_day, `${at}/hazard_per_day`, cur.hazardPerDay, 0, 1),
    repairDays: param(o.repair_days, `${at}/repair_days`, cur.repairDays, 0, 365),
    capacityLoss: opt(o, 'capacity_loss', at, (v, p) => num(v, p, 0, 1), cur.capacityLoss),
    spoilageOnFailure: param(o.spoilage_on_failure, `${at}/spoilage_on_failure`, cur.spoilageOnFailure, 0, 1e9),
  };
}

function parseCash(o: unknown, at: string, cur: Cash): Cash {
  if (o === undefined) return cur;
  if (!isObj(o)) throw bad(at, 'must be an object');
  checkKeys(
    o,
    [
      'opening',
      'floor',
      'receivables_lag_days',
      'payables_lag_days',
      'refund_lag_days',
      'fixed_costs_per_day',
      'credit_limit',
      'credit_rate_apr',
    ],
    at,
  );
  const lag = (v: unknown, p: string) => int(v, p, 0, LIMITS.maxLagDays);
  return {
    opening: param(o.opening, `${at}/opening`, cur.opening, -1e12, 1e12),
    floor: opt(o, 'floor', at, (v, p) => num(v, p, -1e12, 1e12), cur.floor),
    receivablesLagDays: opt(o, 'receivables_lag_days', at, lag, cur.receivablesLagDays),
    payablesLagDays: opt(o, 'payables_lag_days', at, lag, cur.payablesLagDays),
    refundLagDays: opt(o, 'refund_lag_days', at, lag, cur.refundLagDays),
    fixedCostsPerDay: param(o.fixed_costs_per_day, `${at}/fixed_costs_per_day`, cur.fixedCostsPerDay, 0, 1e10),
    creditLimit: opt(o, 'credit_limit', at, (v, p) => num(v, p, 0, 1e12), cur.creditLimit),
    creditRateApr: opt(o, 'credit_rate_apr', at, (v, p) => num(v, p, 0, 1), cur.creditRateApr),
  };
}

const SHOCK_KINDS = ['carrier_outage', 'demand', 'warehouse_failure', 'cost'] as const;

function parseShock(o: unknown, at: string, s: Scenario): Shock {
  if (!isObj(o)) throw bad(at, 'must be an object');
  const kind = o.kind;
  if (typeof kind !== 'string' || !(SHOCK_KINDS as readonly string[]).includes(kind))
    throw bad(`${at}/kind`, `must be one of ${SHOCK_KINDS.join(', ')}`);
  const k = kind as Shock['kind'];
  checkKeys(o, ['kind', 'carrier', 'warehouse', 'categories', 'start_day', 'days', 'factor', 'extra_days'], at);
  const startDay = opt(o, 'start_day', at, (v, p) => int(v, p, 0, LIMITS.maxHorizonDays), 0);
  const days = opt(
    o,
    'days',
    at,
    (v, p) => int(v, p, 1, LIMITS.maxHorizonDays),
    k === 'demand' || k === 'cost' ? LIMITS.maxHorizonDays : 7,
  );
  let target: string[] = [];
  let factor = 1;
  if (k === 'carrier_outage') {
    const carrier = str(o.carrier, `${at}/carrier`);
    if (!s.lanes.some((l) => l.carrier === carrier)) throw bad(`${at}/carrier`, `no lane has carrier "${carrier}"`);
    target = [carrier];
    factor = opt(o, 'extra_days', at, (v, p) => num(v, p, 0, 60), 5);
  } else if (k === 'warehouse_failure') {
    const w = str(o.warehouse, `${at}/warehouse`);
    if (!s.warehouses.some((x) => x.id === w)) throw bad(`${at}/warehouse`, `no warehouse "${w}"`);
    target = [w];
  } else {
    if (o.categories !== undefined) {
      if (!Array.isArray(o.categories)) throw bad(`${at}/categories`, 'must be a list of category ids');
      target = o.categories.map((c, i) => {
        const id = str(c, `${at}/categories/${i}`);
        if (!s.categories.some((x) => x.id === id)) throw bad(`${at}/categories/${i}`, `no category "${id}"`);
        return id;
      });
    }
    factor = num(o.factor, `${at}/factor`, 0, 100);
  }
  return { kind: k, target, startDay, days, factor };
}

function mergeList<T extends { id: string }>(
  input: unknown,
  at: string,
  base: T[],
  max: number,
  blank: (id: string) => T,
  parseOne: (o: Obj, at: string, cur: T) => T,
): T[] {
  if (input === undefined) return base;
  if (!Array.isArray(input)) throw bad(at, 'must be a list');
  if (input.length > max) throw bad(at, `at most ${max} entries`);
  const out = [...base];
  const seen = new Set<string>();
  input.forEach((o, i) => {
    const p = `${at}/${i}`;
    if (!isObj(o)) throw bad(p, 'must be an object');
    const id = str(o.id, `${p}/id`);
    if (seen.has(id)) throw bad(`${p}/id`, `"${id}" is given twice`);
    seen.add(id);
    const idx = out.findIndex((x) => x.id === id);
    const cur = idx >= 0 ? (out[idx] as T) : blank(id);
    const next = parseOne(o, p, cur);
    if (idx >= 0) out[idx] = next;
    else out.push(next);
  });
  if (out.length > max) throw bad(at, `at most ${max} entries`);
  return out;
}

const TOP_KEYS = [
  'name',
  'base',
  'seed',
  'paths',
  'horizon_days',
  'start_weekday',
  'promise_penalty_per_day',
  'late_order_cost',
  'categories',
  'lanes',
  'warehouses',
  'cash',
  'shocks',
];

/** Parses scenario input over `base` (the default scenario unless `base: none`). */
export function parseScenario(input: unknown, base: Scenario = defaultScenario(), at = ''): Scenario {
  if (input === undefined || input === null) return base;
  if (!isObj(input)) throw bad(at, 'a scenario must be an object');
  checkKeys(input, TOP_KEYS, at);
  let s = base;
  if (input.base !== undefined) {
    if (input.base !== 'default' && input.base !== 'none') throw bad(`${at}/base`, 'must be "default" or "none"');
    if (input.base === 'none') s = { ...s, categories: [], lanes: [], warehouses: [], shocks: [] };
  }
  s = {
    ...s,
    name: opt(input, 'name', at, str, s.name),
    seed: opt(input, 'seed', at, (v, p) => int(v, p, 0, 2 ** 53 - 1), s.seed),
    paths: opt(input, 'paths', at, (v, p) => int(v, p, 1, LIMITS.maxPaths), s.paths),
    horizonDays: opt(input, 'horizon_days', at, (v, p) => int(v, p, 1, LIMITS.maxHorizonDays), s.horizonDays),
    startWeekday: opt(input, 'start_weekday', at, (v, p) => int(v, p, 0, 6), s.startWeekday),
    promisePenaltyPerDay: param(input.promise_penalty_per_day, `${at}/promise_penalty_per_day`, s.promisePenaltyPerDay, 0, 5),
    lateOrderCost: param(input.late_order_cost, `${at}/late_order_cost`, s.lateOrderCost, 0, 1e6),
  };
  s.categories = mergeList(input.categories, `${at}/categories`, s.categories, LIMITS.maxCategories, blankCategory, parseCategory);
  s.lanes = mergeList(input.lanes, `${at}/lanes`, s.lanes, LIMITS.maxLanes, blankLane, parseLane);
  s.warehouses = mergeList(input.warehouses, `${at}/warehouses`, s.warehouses, LIMITS.maxWarehouses, blankWarehouse, parseWarehouse);
  s.cash = parseCash(input.cash, `${at}/cash`, s.cash);
  if (input.shocks !== undefined) {
    if (!Array.isArray(input.shocks)) throw bad(`${at}/shocks`, 'must be a list');
    if (input.shocks.length > LIMITS.maxShocks) throw bad(`${at}/shocks`, `at most ${LIMITS.maxShocks} shocks`);
    s.shocks = [...s.shocks, ...input.shocks.map((o, i) => parseShock(o, `${at}/shocks/${i}`, s))];
  }
  validateScenario(s, at);
  return s;
}

/** Checks the whole scenario (also after programmatic edits): bounded work, something to simulate. */
export function validateScenario(s: Scenario, at = ''): void {
  if (s.paths * s.horizonDays > LIMITS.maxPathSteps)
    throw bad(`${at}/paths`, `paths × horizon_days must be at most ${LIMITS.maxPathSteps} (got ${s.paths * s.horizonDays})`);
  if (s.categories.length === 0) throw bad(`${at}/categories`, 'at least one category is needed');
  if (s.lanes.length > 0 && s.lanes.every((l) => l.share === 0)) throw bad(`${at}/lanes`, 'lane shares must not all be 0');
  if (s.warehouses.length > 0 && s.warehouses.every((w) => w.share === 0))
    throw bad(`${at}/warehouses`, 'warehouse shares must not all be 0');
}

/** Parses a scenario file's text (YAML or JSON). */
export function parseScenarioText(text: string, base?: Scenario): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new AppError('PW_RISK_SCENARIO', `the scenario is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  return parseScenario(doc ?? {}, base);
}
