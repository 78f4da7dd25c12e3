/** Routes for device state (filled in by its module). */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';

export function deviceStateRoutes(_app: FastifyInstance, _d: HttpDeps): void {}
