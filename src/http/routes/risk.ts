/**
 * Plan: Monte Carlo risk over HTTP. `POST /v1/risk/simulate` (bands, liquidity-at-risk, margin-at-risk,
 * parameters), `POST /v1/risk/scenarios` (what-ifs with common random numbers, tornado,
 * recommendations), `POST /v1/risk/recommendations/apply` (appends `plan.recommendation_applied`).
 * Simulations run on worker threads so the event loop stays free; work is bounded per request
 * and at most RISK_CONCURRENCY run at once (else 503 + Retry-After).
 */
import type { FastifyInstance } from 'fastify';
import { AppError, uuidv7 } from '../../core/index.ts';
import {
  compareScenarios,
  defaultScenario,
  parseScenario,
  type Recommendation,
  recommend,
  recommendationAppliedEvent,
  type Scenario,
  simulate,
  standardWhatIfs,
  tornado,
  withEstimatedCategories,
  withEstimatedDamage,
  withEstimatedDemand,
  withEstimatedLanes,
  withEstimatedPromisePenalty,
  withEstimatedReturns,
  withEstimatedWarehouses,
} from '../../plan/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

/** HTTP bounds (tighter than the domain's): paths per scenario, what-ifs per request. */
export const RISK_HTTP_LIMITS = Object.freeze({ maxPaths: 100_000, maxPathSteps: 20_000_000, maxScenarios: 8, concurrency: 2 });

let running = 0;

async function bounded<T>(f: () => Promise<T>): Promise<T> {
  if (running >= RISK_HTTP_LIMITS.concurrency)
    throw new AppError('PW_RISK_BUSY', 'too many risk simulations are running; retry shortly', {
      status: 503,
      category: 'operational',
      headers: { 'retry-after': '5' },
    });
  running++;
  try {
    return await f();
  } finally {
    running--;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkBounds(s: Scenario, at: string): void {
  if (s.paths > RISK_HTTP_LIMITS.maxPaths)
    throw new AppError('PW_RISK_SCENARIO', `${at}/paths: at most ${RISK_HTTP_LIMITS.maxPaths} paths over HTTP (the CLI allows more)`, {
      pointer: `${at}/paths`,
    });
  if (s.paths * s.horizonDays > RISK_HTTP_LIMITS.maxPathSteps)
    throw new AppError('PW_RISK_SCENARIO', `${at}/paths: paths × horizon_days must be at most ${RISK_HTTP_LIMITS.maxPathSteps} over HTTP`, {
      pointer: `${at}/paths`,
    });
}

/** camelCase keys → snake_case, recursively (the wire format of every Pitwall API). */
export function toWire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toWire);
  if (!isObj(v)) return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), toWire(x)]));
}

const threadsFor = (s: Scenario) => (s.paths >= 1000 ? 2 : 1);

const ESTIMATORS = [
  'estimate_lanes',
  'estimate_demand',
  'estimate_categories',
  'estimate_warehouses',
  'estimate_damage',
  'estimate_returns',
  'estimate_promise',
] as const;

/**
 * The default scenario with the estimates the body asks for (`estimate_*: true`, or
 * `estimate: "all"`), then the body's own values over it. Per-category demand replaces the
 * shop-wide one (`estimate: "all"` uses the shop-wide one only when categories give nothing).
 */
async function baseScenario(d: HttpDeps, input: unknown, at: string): Promise<{ s: Scenario; estimated: unknown }> {
  const body = isObj(input) ? { ...input } : {};
  const on = new Set<string>();
  for (const k of ESTIMATORS) {
    const v = body[k];
    delete body[k];
    if (v !== undefined && typeof v !== 'boolean')
      throw new AppError('PW_RISK_SCENARIO', `${at}/${k}: must be true or false`, { pointer: `${at}/${k}` });
    if (v === true) on.add(k);
  }
  const all = body.estimate;
  delete body.estimate;
  if (all !== undefined && all !== 'all' && all !== 'none')
    throw new AppError('PW_RISK_SCENARIO', `${at}/estimate: must be "all" or "none"`, { pointer: `${at}/estimate` });
  if (all === 'all') for (const k of ESTIMATORS) if (k !== 'estimate_demand') on.add(k);
  let base = defaultScenario();
  const estimated: Record<string, unknown> = {};
  if (on.has('estimate_lanes')) {
    const r = await withEstimatedLanes(d.store, base);
    base = r.scenario;
    estimated.lanes = r.lanes;
  }
  if (on.has('estimate_demand')) {
    const r = await withEstimatedDemand(d.store, base, { nowMs: d.clock.now() });
    base = r.scenario;
    estimated.demand = r.demand ?? null;
    estimated.orderValue = r.orderValue ?? null;
  }
  if (on.has('estimate_categories')) {
    const r = await withEstimatedCategories(d.store, base, { nowMs: d.clock.now() });
    base = r.scenario;
    estimated.categories = { categories: r.categories, dropped: r.dropped, unknownSkus: r.unknownSkus };
    if (all === 'all' && r.categories.length === 0) {
      const dm = await withEstimatedDemand(d.store, base, { nowMs: d.clock.now() });
      base = dm.scenario;
      estimated.demand = dm.demand ?? null;
      estimated.orderValue = dm.orderValue ?? null;
    }
  }
  if (on.has('estimate_warehouses')) {
    const r = await withEstimatedWarehouses(d.store, base, { nowMs: d.clock.now() });
    base = r.scenario;
    estimated.warehouses = { warehouses: r.warehouses, unassignedDevices: r.unassignedDevices };
  }
  if (on.has('estimate_damage')) {
    const r = await withEstimatedDamage(d.store, base);
    base = r.scenario;
    estimated.damage = r.damage;
  }
  if (on.has('estimate_returns')) {
    const r = await withEstimatedReturns(d.store, base, { nowMs: d.clock.now() });
    base = r.scenario;
    estimated.returns = r.returns;
  }
  if (on.has('estimate_promise')) {
    const r = await withEstimatedPromisePenalty(d.store, base, { nowMs: d.clock.now() });
    base = r.scenario;
    estimated.promise = r.promise ?? null;
  }
  const s = parseScenario(input === undefined || input === null ? {} : isObj(input) ? body : input, base, at);
  checkBounds(s, at);
  return { s, estimated };
}

function parseRecommendation(v: unknown): Recommendation {
  const bad = (p: string, m: string) => new AppError('PW_REQUEST_INVALID', `/recommendation${p}: ${m}`, { pointer: `/recommendation${p}` });
  if (!isObj(v)) throw bad('', 'expected the recommendation object returned by POST /v1/risk/scenarios');
  const str = (k: string) => {
    const x = v[k];
    if (typeof x !== 'string' || x.length === 0 || x.length > 200) throw bad(`/${k}`, 'must be a non-empty string');
    return x;
  };
  const change = (k: string, max: number) => {
    const x = v[k];
    if (!isObj(x) || typeof x.from !== 'number' || typeof x.to !== 'number' || !(x.from >= 0 && x.from <= max && x.to >= 0 && x.to <= max))
      throw bad(`/${k}`, `must be {from, to} with numbers from 0 to ${max}`);
    return { from: x.from, to: x.to };
  };
  const num = (k: string, min: number, max: number) => {
    const x = v[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max) throw bad(`/${k}`, `must be a number from ${min} to ${max}`);
    return x;
  };
  const effect = v.expected_effect;
  return {
    id: str('id'),
    scenario: str('scenario'),
    category: str('category'),
    marketingPerDay: change('marketing_per_day', 1e9),
    discount: change('discount', 0.9),
    expectedEffect:
      isObj(effect) && typeof effect.value === 'number'
        ? { value: effect.value, se: Number(effect.se ?? 0) }
        : { value: num('expected_effect', -1e12, 1e12), se: 0 },
    downsideP5Delta: 0,
    liquidityAtRisk: num('liquidity_at_risk', 0, 1),
    liquidityAtRiskDelta: 0,
  };
}

export function riskRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.post('/v1/risk/simulate', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { s, estimated } = await baseScenario(d, req.body, '');
    const r = await bounded(() => simulate(s, { threads: threadsFor(s) }));
    return toWire({
      scenario: r.scenario,
      seed: r.seed,
      seconds: r.seconds,
      estimated,
      summary: r.summary,
      parameters: r.parameters,
    });
  });

  app.post('/v1/risk/scenarios', async (req) => {
    await requireScope(d.keys, req, 'read');
    const body = req.body ?? {};
    if (!isObj(body))
      throw new AppError('PW_RISK_SCENARIO', '/: expected {"base": {…}, "scenarios": [{…}], "tornado": true, "recommend": true}', {
        pointer: '/',
      });
    for (const k of Object.keys(body))
      if (!['base', 'scenarios', 'tornado', 'recommend', 'max_liquidity_at_risk'].includes(k))
        throw new AppError(
          'PW_RISK_SCENARIO',
          `/${k}: unknown field (allowed: base, scenarios, tornado, recommend, max_liquidity_at_risk)`,
          { pointer: `/${k}` },
        );
    const { s: base, estimated } = await baseScenario(d, body.base, '/base');
    let whatIfs: Scenario[];
    if (body.scenarios === undefined) whatIfs = standardWhatIfs(base);
    else {
      if (!Array.isArray(body.scenarios) || body.scenarios.length > RISK_HTTP_LIMITS.maxScenarios)
        throw new AppError('PW_RISK_SCENARIO', `/scenarios: must be a list of at most ${RISK_HTTP_LIMITS.maxScenarios} scenarios`, {
          pointer: '/scenarios',
        });
      whatIfs = body.scenarios.map((x, i) => {
        const w = parseScenario(x, base, `/scenarios/${i}`);
        checkBounds(w, `/scenarios/${i}`);
        return w;
      });
    }
    for (const k of ['tornado', 'recommend'] as const)
      if (body[k] !== undefined && typeof body[k] !== 'boolean')
        throw new AppError('PW_RISK_SCENARIO', `/${k}: must be true or false`, { pointer: `/${k}` });
    const maxLar = body.max_liquidity_at_risk ?? 0.05;
    if (typeof maxLar !== 'number' || !(maxLar >= 0 && maxLar <= 1))
      throw new AppError('PW_RISK_SCENARIO', '/max_liquidity_at_risk: must be a probability from 0 to 1', {
        pointer: '/max_liquidity_at_risk',
      });
    return bounded(async () => {
      const threads = threadsFor(base);
      const c = await compareScenarios(base, whatIfs, { threads });
      const t = body.tornado === true ? await tornado(base, { threads }) : undefined;
      const r = body.recommend === true ? await recommend(base, { threads, maxLiquidityAtRisk: maxLar }) : undefined;
      return toWire({
        base: { scenario: c.base.scenario, seed: c.base.seed, summary: c.base.summary, parameters: c.base.parameters },
        estimated,
        scenarios: c.scenarios.map((x) => ({
          scenario: x.result.scenario,
          summary: x.result.summary,
          grossMarginDelta: x.grossMarginDelta,
          contributionDelta: x.contributionDelta,
          liquidityAtRiskDelta: x.liquidityAtRiskDelta,
        })),
        tornado: t ?? null,
        recommendations: r ?? null,
      });
    });
  });

  app.post('/v1/risk/recommendations/apply', async (req, reply) => {
    const key = await requireScope(d.keys, req, 'admin');
    const body = req.body;
    if (!isObj(body)) throw new AppError('PW_REQUEST_INVALID', 'expected {"recommendation": {…}, "by": "…"}', { pointer: '' });
    const rec = parseRecommendation(body.recommendation);
    if (body.by !== undefined && (typeof body.by !== 'string' || body.by === '' || body.by.length > 200))
      throw new AppError('PW_REQUEST_INVALID', 'by must be a non-empty string of at most 200 characters', { pointer: '/by' });
    const by = typeof body.by === 'string' ? body.by : `key:${key.id}`;
    const event = recommendationAppliedEvent(rec, by, d.clock.now(), uuidv7(d.clock));
    await d.log.append([{ event, receivedAt: d.clock.now() }]);
    return reply.code(202).send({ event_id: event.id, type: event.type, data: event.data });
  });
}
