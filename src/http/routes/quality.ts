/** Routes for quality (filled in by its module). */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';

export function qualityRoutes(_app: FastifyInstance, _d: HttpDeps): void {}
