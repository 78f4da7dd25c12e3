/** Routes for shipments (filled in by its module). */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';

export function shipmentsRoutes(_app: FastifyInstance, _d: HttpDeps): void {}
