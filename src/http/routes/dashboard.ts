/**
 * The dashboard: its pages and assets (built in memory from `src/dashboard/app`), sign-in
 * (`/v1/session`: an API key in, an HttpOnly SameSite=Strict session cookie out, plus the CSRF
 * token the page sends back on changes) and the live feed (`GET /v1/stream`, Server-Sent Events).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/index.ts';
import { dashboardBuild, StreamHub } from '../../dashboard/index.ts';
import { CSRF_HEADER, csrfMatches, SESSION_COOKIE } from '../../govern/index.ts';
import { requireScope, sessionToken } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

/** Client-side routes of the single-page app: each serves index.html. */
export const DASHBOARD_PAGES = ['overview', 'workflows', 'signals', 'surveys', 'settings', 'risk', 'signin'];

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

async function sendFile(reply: FastifyReply, path: string): Promise<FastifyReply> {
  const build = await dashboardBuild().catch((err: unknown) => {
    throw new AppError('PW_DASHBOARD_BUILD', `the dashboard could not be built: ${(err as Error).message}`, { status: 503 });
  });
  const file = build.files.get(path);
  if (!file) throw new AppError('PW_NOT_FOUND', `no dashboard file ${path}`, { status: 404 });
  reply.header('content-type', file.type);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (path === '/index.html') {
    reply.header('content-security-policy', CSP);
    reply.header('referrer-policy', 'same-origin');
  }
  return reply.send(file.body);
}

/** Live-feed bounds: streams per key and per process, a slow reader's buffer, how often a stream re-checks its credential. */
export const STREAM_LIMITS = { perKey: 20, perProcess: 200, bufferBytes: 1 << 20, recheckMs: 15_000 };

const wantsHtml = (req: FastifyRequest) => (req.headers.accept ?? '').includes('text/html');

function cookie(req: FastifyRequest, d: HttpDeps, value: string, maxAgeS: number): string {
  const secure = req.protocol === 'https' || d.publicUrl?.startsWith('https:') ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

const keyWire = (k: { id: string; name: string; prefix: string; scopes: string[] }) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
});

export function dashboardRoutes(app: FastifyInstance, d: HttpDeps, index: () => Record<string, unknown>): void {
  // `/` is the dashboard for a browser and the endpoint list for an API client.
  app.get('/', async (req, reply) => (wantsHtml(req) ? sendFile(reply, '/index.html') : index()));
  for (const page of DASHBOARD_PAGES) {
    app.get(`/${page}`, async (_req, reply) => sendFile(reply, '/index.html'));
    app.get(`/${page}/*`, async (_req, reply) => sendFile(reply, '/index.html'));
  }
  app.get('/assets/*', async (req, reply) => sendFile(reply, req.url.split('?')[0] ?? ''));

  const sessions = d.keys.sessions;
  if (!sessions) return;

  app.post(
    '/v1/session',
    { schema: { body: Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }) } },
    async (req, reply) => {
      const { key: secret } = req.body as { key: string };
      const key = await d.keys.authenticate(secret.trim());
      if (!key) throw new AppError('PW_AUTH_INVALID', 'the API key is unknown or revoked', { status: 401 });
      const { token, session } = await sessions.create(key);
      // The cookie lives as long as the session can (its absolute limit); the server ends it sooner when unused.
      reply.header('set-cookie', cookie(req, d, token, Math.ceil(sessions.lifetimeMs / 1000)));
      return reply.code(201).send({
        csrf_token: session.csrf,
        key: keyWire(key),
        expires_at: new Date(session.expiresAt).toISOString(),
      });
    },
  );

  app.get('/v1/session', async (req) => {
    const token = sessionToken(req);
    const session = token ? await sessions.resolve(token) : undefined;
    // Not signed in is an answer, not an error: the page asks this on every load.
    if (!session) return { signed_in: false };
    return {
      signed_in: true,
      csrf_token: session.csrf,
      key: keyWire(session.key),
      expires_at: new Date(session.expiresAt).toISOString(),
    };
  });

  app.delete('/v1/session', async (req, reply) => {
    const token = sessionToken(req);
    const session = token ? await sessions.resolve(token) : undefined;
    if (token && session) {
      const given = req.headers[CSRF_HEADER];
      if (!csrfMatches(session, typeof given === 'string' ? given : undefined))
        throw new AppError('PW_SESSION_CSRF', `signing out needs the session's CSRF token in the ${CSRF_HEADER} header`, { status: 403 });
      await sessions.destroy(token);
    }
    reply.header('set-cookie', cookie(req, d, '', 0));
    return reply.code(204).send();
  });

  const hub = new StreamHub(d.log, d.clock);
  // Open streams end when the server starts to close, or they would hold the shutdown open.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
    hub.close();
  });

  // One JSON text per batch, however many streams send it.
  const texts = new WeakMap<object, string>();
  const frame = (event: string, data: object) => {
    let json = texts.get(data);
    if (json === undefined) {
      json = JSON.stringify(data);
      texts.set(data, json);
    }
    return `event: ${event}\ndata: ${json}\n\n`;
  };
  const perKey = new Map<string, number>();

  app.get('/v1/stream', async (req, reply) => {
    const key = await requireScope(d.keys, req, 'read');
    if (open.size >= STREAM_LIMITS.perProcess || (perKey.get(key.id) ?? 0) >= STREAM_LIMITS.perKey)
      throw new AppError(
        'PW_STREAM_LIMIT',
        `too many live streams (at most ${STREAM_LIMITS.perKey} per key and ${STREAM_LIMITS.perProcess} per process): close a dashboard tab`,
        { status: 429, headers: { 'retry-after': '30' } },
      );
    perKey.set(key.id, (perKey.get(key.id) ?? 0) + 1);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // A reader that stops reading is dropped rather than buffered for without bound.
    const write = (chunk: string) => {
      if (!res.write(chunk) && res.writableLength > STREAM_LIMITS.bufferBytes) end();
    };
    write('retry: 3000\n\n');
    write(frame('history', { batches: hub.past() }));
    const stop = hub.subscribe((batch) => write(frame('batch', batch)));
    // Every ping re-checks the credential: a sign-out, an expired session or a revoked key ends the stream.
    const ping = setInterval(() => {
      requireScope(d.keys, req, 'read').then(
        () => write(': ping\n\n'),
        () => end(),
      );
    }, STREAM_LIMITS.recheckMs);
    const end = () => {
      if (!open.delete(end)) return;
      clearInterval(ping);
      stop();
      const n = (perKey.get(key.id) ?? 1) - 1;
      if (n > 0) perKey.set(key.id, n);
      else perKey.delete(key.id);
      res.end();
    };
    open.add(end);
    req.raw.on('close', end);
  });
}
