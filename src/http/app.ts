/** The Fastify app: content types, the error mapper, CORS for browser SDKs, the routes. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AppError } from '../core/index.ts';
import type { HttpDeps } from './deps.ts';
import { sendProblem } from './problem.ts';
import { actionsRoutes } from './routes/actions.ts';
import { assetsRoutes } from './routes/assets.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { clockRoutes } from './routes/clock.ts';
import { conditionsRoutes } from './routes/conditions.ts';
import { customersRoutes } from './routes/customers.ts';
import { decideRoutes } from './routes/decide.ts';
import { deviceStateRoutes } from './routes/device-state.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { opsRoutes } from './routes/ops.ts';
import { qualityRoutes } from './routes/quality.ts';
import { readRoutes } from './routes/read.ts';
import { reportsRoutes } from './routes/reports.ts';
import { riskRoutes } from './routes/risk.ts';
import { runsRoutes } from './routes/runs.ts';
import { settingsRoutes } from './routes/settings.ts';
import { shipmentsRoutes } from './routes/shipments.ts';
import { suppressionsRoutes } from './routes/suppressions.ts';
import { surveysRoutes } from './routes/surveys.ts';
import { widgetRoutes } from './routes/widget.ts';
import { workflowsRoutes } from './routes/workflows.ts';

const SEGMENT_PATHS = /^\/v1\/(batch|track|identify|page|alias)(\?|$)/;

/** Trust the nearest `n` proxies (a hop count; Fastify's types take it only as a function). */
const hops = (n: number) => (_address: string, hop: number) => hop < n;

export function buildApp(d: HttpDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // Per-request lines are info-level; the server logs warnings and errors only.
    loggerInstance: d.logger.child({ component: 'http' }, { level: d.logger.level === 'silent' ? 'silent' : 'warn' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestTimeout: 30_000,
    return503OnClosing: true,
    // req.ip: the socket's address unless PITWALL_TRUST_PROXY says which proxies' X-Forwarded-For to believe.
    trustProxy: typeof d.trustProxy === 'number' ? hops(d.trustProxy) : (d.trustProxy ?? false),
    ajv: { customOptions: { removeAdditional: false } },
  });

  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    ['application/cloudevents+json', 'application/cloudevents-batch+json', 'application/senml+json'],
    { parseAs: 'string' },
    json,
  );
  // Binary-mode CloudEvents may carry any media type; Segment's browser SDK sends text/plain.
  // Fastify's built-in text/plain parser would hand routes a string; send it through '*' as bytes.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // One value per query parameter: a repeated one (`?kind=a&kind=b`) would reach the queries as
  // an array. No route takes lists that way, so it is a 400 here rather than a 500 later.
  app.addHook('preValidation', async (req) => {
    const q = req.query;
    if (q === null || typeof q !== 'object') return;
    for (const [name, value] of Object.entries(q as Record<string, unknown>)) {
      if (Array.isArray(value))
        throw new AppError('PW_QUERY_INVALID', `query parameter "${name}" is given more than once; give it once`, { pointer: `/${name}` });
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    if (SEGMENT_PATHS.test(req.url)) {
      reply.header('access-control-allow-origin', req.headers.origin ?? '*');
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('access-control-allow-headers', 'Content-Type, Authorization, Pitwall-History');
      reply.header('access-control-max-age', '600');
      reply.header('vary', 'Origin');
    }
  });

  // Draining: answers to requests in flight close their connection; an idle keep-alive
  // socket would otherwise hold close() (and so SIGTERM) for the whole keepAliveTimeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.setErrorHandler((err, req, reply) => sendProblem(reply, req, err));
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, req, new AppError('PW_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, { status: 404 })),
  );

  ingestRoutes(app, d);
  readRoutes(app, d);
  catalogRoutes(app, d);
  customersRoutes(app, d);
  shipmentsRoutes(app, d);
  assetsRoutes(app, d);
  deviceStateRoutes(app, d);
  qualityRoutes(app, d);
  conditionsRoutes(app, d);
  suppressionsRoutes(app, d);
  settingsRoutes(app, d);
  actionsRoutes(app, d);
  runsRoutes(app, d);
  workflowsRoutes(app, d);
  decideRoutes(app, d);
  surveysRoutes(app, d);
  widgetRoutes(app, d);
  clockRoutes(app, d);
  riskRoutes(app, d);
  reportsRoutes(app, d);
  opsRoutes(app, d);
  return app;
}
