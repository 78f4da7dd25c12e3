/** Routes for customers (filled in by its module). */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';

export function customersRoutes(_app: FastifyInstance, _d: HttpDeps): void {}
