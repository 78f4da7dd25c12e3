/** Routes for assets (filled in by its module). */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';

export function assetsRoutes(_app: FastifyInstance, _d: HttpDeps): void {}
