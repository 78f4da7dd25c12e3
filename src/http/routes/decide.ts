/**
 * The storefront decision API (docs/storefront.md): `POST /v1/decide/product` and
 * `/v1/decide/checkout`, for publishable keys from allowed origins (and server-side read keys),
 * with CORS for the storefront routes and rate limits per IP and per key.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/index.ts';
import type { ApiKey } from '../../govern/index.ts';
import {
  type CustomerRef,
  DEFAULT_STORE,
  parseCheckoutRequest,
  parseProductRequest,
  SERVER_VIEWER,
  type Storefront,
  type Viewer,
} from '../../storefront/index.ts';
import type { HttpDeps } from '../deps.ts';

/** The routes a publishable key may call (besides GET /widget.js, which needs no key). */
export const STOREFRONT_PATHS = /^\/v1\/(decide\/(product|checkout)|surveys\/[^/?]+(\/(responses|impressions))?)\/?(\?|$)/;

/** Parses a body that arrived as bytes (a content type other than JSON) as JSON. */
export function jsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body)) return body;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new AppError('PW_BODY_MALFORMED', `the body is not valid JSON: ${(e as Error).message}`, { status: 400 });
  }
}

/**
 * Authenticates a storefront call: the per-IP limit (browser calls), then the key (publishable,
 * or `read` / `admin` for server-side callers), its origin and the per-key limit.
 */
export async function storefrontKey(d: HttpDeps, sf: Storefront, req: FastifyRequest): Promise<ApiKey> {
  const h = req.headers.authorization;
  const secret = h?.toLowerCase().startsWith('bearer ') ? h.slice(7).trim() : undefined;
  // Browsers (publishable keys, or no key) are limited per address before the key is looked up;
  // a server-side key is secret, so only its per-key bucket applies — once it is known to be one
  // (a made-up `pw_…` is limited per address like a browser).
  const serverSide = secret?.startsWith('pw_') === true;
  if (!serverSide) sf.access.limitIp(req.ip);
  if (!secret) throw new AppError('PW_AUTH_MISSING', 'an API key is required: send "Authorization: Bearer pk_…"', { status: 401 });
  const key = await d.keys.authenticate(secret);
  if (!key) {
    if (serverSide) sf.access.limitIp(req.ip);
    throw new AppError('PW_AUTH_INVALID', 'the API key is unknown or revoked', { status: 401 });
  }
  const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
  if (!key.scopes.some((s) => s === 'publishable' || s === 'read' || s === 'admin'))
    throw new AppError('PW_AUTH_SCOPE', 'this key lacks the "read" scope (or use a publishable key)', {
      status: 403,
      extra: { required_scope: 'read' },
    });
  sf.access.checkKey(key, origin);
  req.apiKey = key;
  return key;
}

function corsHeaders(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
  reply.header('access-control-allow-headers', 'Content-Type, Authorization');
  reply.header('access-control-max-age', '600');
  reply.header('vary', 'Origin');
}

/** CORS for the storefront routes: answered for any origin some publishable key allows. */
function storefrontCors(app: FastifyInstance, sf: Storefront): void {
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !STOREFRONT_PATHS.test(req.url)) return;
    if (await sf.access.knownOrigin(origin)) corsHeaders(reply, origin);
  });
  const preflight = async (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !(await sf.access.knownOrigin(origin)))
      throw new AppError('PW_ORIGIN_NOT_ALLOWED', `origin ${String(origin ?? '(none)')} is not allowed by any publishable key`, {
        status: 403,
      });
    return reply.code(204).send();
  };
  for (const path of [
    '/v1/decide/product',
    '/v1/decide/checkout',
    '/v1/surveys/:id',
    '/v1/surveys/:id/responses',
    '/v1/surveys/:id/impressions',
  ])
    app.options(path, preflight);
}

export function decideRoutes(app: FastifyInstance, d: HttpDeps): void {
  const sf = d.storefront;
  if (sf === undefined) return;
  storefrontCors(app, sf);
  app.post('/v1/decide/product', async (req) => {
    const key = await storefrontKey(d, sf, req);
    const r = withKeyStore(key, parseProductRequest(jsonBody(req.body)));
    return sf.decider.decideProduct(r, await viewerOf(sf, key, r.customer));
  });
  app.post('/v1/decide/checkout', async (req) => {
    const key = await storefrontKey(d, sf, req);
    const r = withKeyStore(key, parseCheckoutRequest(jsonBody(req.body)));
    return sf.decider.decideCheckout(r, await viewerOf(sf, key, r.customer));
  });
}

/**
 * Who asks: a server-side key is trusted as it names its customer; a publishable key's userId
 * counts only with a valid userHash for the key's store (ADR 0018).
 */
async function viewerOf(sf: Storefront, key: ApiKey, customer: CustomerRef | undefined): Promise<Viewer> {
  if (!key.scopes.includes('publishable')) return SERVER_VIEWER;
  const identity = await sf.identity.check(key.store ?? DEFAULT_STORE, customer?.userId, customer?.userHash);
  return { kind: 'browser', identity, anonymousId: customer?.anonymousId };
}

/**
 * A key's store: a publishable key serves only its own (a browser cannot choose another store's
 * audiences); for a server-side key it is the default when the request names none.
 */
function withKeyStore<R extends { store?: string | undefined }>(key: ApiKey, r: R): R {
  // A publishable key made without a store serves the default store, whatever the browser names.
  if (key.scopes.includes('publishable')) return { ...r, store: key.store ?? DEFAULT_STORE };
  if (key.store === undefined || r.store !== undefined) return r;
  return { ...r, store: key.store };
}
