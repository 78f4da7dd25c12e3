/**
 * Learn's reports (docs/learn.md): `GET /v1/reports/funnel|uplift|work-saved|experience|impact|maturity|overview`,
 * scope `read`. Query parameters are checked (unknown ones too) and fail with `PW_QUERY_INVALID`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  dayRange,
  experienceReport,
  FUNNEL_DIMENSIONS,
  funnelReport,
  impactReport,
  maturityReport,
  minutesDefaultsOf,
  oneOf,
  optionalText,
  overviewReport,
  positiveNumber,
  queryInvalid,
  toWire,
  UPLIFT_DEFAULTS,
  type UpliftOptions,
  upliftReport,
  workSavedReport,
} from '../../learn/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

type Query = Record<string, string | undefined>;

const RANGE = ['from', 'to', 'days'];
const UPLIFT = [...RANGE, 'workflow', 'window_days', 'min_per_group'];

/** Rejects parameters the report does not take (a typo would otherwise be silently ignored). */
function known(q: Query, allowed: readonly string[]): Query {
  for (const name of Object.keys(q))
    if (!allowed.includes(name))
      throw queryInvalid(name, `unknown query parameter "${name}" (this report takes: ${allowed.join(', ') || 'none'})`);
  return q;
}

function upliftOptions(q: Query, nowMs: number): UpliftOptions {
  return {
    ...UPLIFT_DEFAULTS,
    windowDays: positiveNumber('window_days', q.window_days, UPLIFT_DEFAULTS.windowDays, 365),
    minPerGroup: Math.ceil(positiveNumber('min_per_group', q.min_per_group, UPLIFT_DEFAULTS.minPerGroup, 1_000_000)),
    workflow: optionalText('workflow', q.workflow),
    nowMs,
  };
}

export function reportsRoutes(app: FastifyInstance, d: HttpDeps): void {
  const db = d.store.db;
  const defaults = () => minutesDefaultsOf(d.executors as ReadonlyMap<string, unknown> | undefined);
  const query = (req: FastifyRequest) => (req.query ?? {}) as Query;

  app.get('/v1/reports/funnel', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = known(query(req), [...RANGE, 'by', 'store', 'category', 'device', 'segment']);
    const range = dayRange(q, d.clock.now());
    const by = oneOf('by', q.by, FUNNEL_DIMENSIONS, 'day');
    const filter = {
      store: optionalText('store', q.store),
      category: optionalText('category', q.category),
      device: optionalText('device', q.device),
      segment: optionalText('segment', q.segment),
    };
    return toWire(await funnelReport(db, range, by, filter));
  });

  app.get('/v1/reports/uplift', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = known(query(req), UPLIFT);
    const now = d.clock.now();
    return toWire(await upliftReport(db, dayRange(q, now), upliftOptions(q, now)));
  });

  app.get('/v1/reports/work-saved', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = known(query(req), [...RANGE, 'workflow']);
    return toWire(await workSavedReport(db, dayRange(q, d.clock.now()), defaults(), optionalText('workflow', q.workflow)));
  });

  app.get('/v1/reports/experience', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = known(query(req), [...RANGE, 'placement']);
    return toWire(await experienceReport(db, dayRange(q, d.clock.now()), optionalText('placement', q.placement)));
  });

  app.get('/v1/reports/impact', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = known(query(req), UPLIFT);
    const now = d.clock.now();
    return toWire(await impactReport(db, dayRange(q, now), upliftOptions(q, now), defaults()));
  });

  app.get('/v1/reports/maturity', async (req) => {
    await requireScope(d.keys, req, 'read');
    known(query(req), []);
    return toWire(await maturityReport(db, d.clock.now()));
  });

  app.get('/v1/reports/overview', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = known(query(req), [...RANGE, 'window_days', 'min_per_group']);
    const now = d.clock.now();
    return toWire(await overviewReport(db, dayRange(q, now), upliftOptions(q, now), defaults()));
  });
}
