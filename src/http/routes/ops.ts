/** Liveness, readiness and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import { countQuarantine } from '../../ingest/index.ts';
import type { HttpDeps } from '../deps.ts';
import { dashboardRoutes } from './dashboard.ts';

export function opsRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    let storeOk = true;
    let head = 0;
    try {
      head = await d.log.head();
    } catch {
      storeOk = false;
    }
    const problem = d.log.problem();
    const ready = d.isReady() && storeOk && problem === undefined;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      store: storeOk && problem === undefined ? 'ok' : 'unavailable',
      ...(problem ? { problem } : {}),
      log_head: head,
      pending_commits: d.log.pending(),
      quarantined: storeOk ? await countQuarantine(d.store.db) : null,
    });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type(d.metrics.registry.contentType);
    return d.metrics.registry.metrics();
  });

  dashboardRoutes(app, d, () => ({
    name: 'Pitwall',
    dashboard: '/ (open it in a browser)',
    docs: 'https://github.com/pitwall/pitwall#readme',
    endpoints: {
      events: '/v1/events',
      segment: ['/v1/batch', '/v1/track', '/v1/identify', '/v1/page', '/v1/alias'],
      senml: '/v1/senml',
      quarantine: '/v1/quarantine',
      event_types: '/v1/event-types',
      reports: '/v1/reports/overview',
      stream: '/v1/stream',
      health: ['/healthz', '/readyz', '/metrics'],
    },
  }));
}
