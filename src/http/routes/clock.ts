/** `GET /v1/clock`: the server's current (simulated) time and clock speed, for clients that run on it (the demo world). */
import type { FastifyInstance } from 'fastify';
import { isoTime } from '../../core/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

export function clockRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/clock', async (req) => {
    await requireScope(d.keys, req, 'read');
    const now = d.clock.now();
    return { now: isoTime(now), now_ms: now, speed: d.clockSpeed ?? 1 };
  });
}
