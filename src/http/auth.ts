/**
 * Authentication for HTTP routes. A key arrives as `Authorization: Bearer <key>`, as
 * Segment's write key (`Authorization: Basic base64(<key>:)`), or as `writeKey` in a
 * Segment body (browser SDKs).
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/index.ts';
import { type ApiKey, CSRF_HEADER, csrfMatches, type KeyAuthenticator, type Scope, SESSION_COOKIE } from '../govern/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
}

function credential(req: FastifyRequest, allowBodyKey: boolean): string | undefined {
  const h = req.headers.authorization;
  if (h) {
    const [scheme, value = ''] = h.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer') return value.trim();
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      return i === -1 ? decoded : decoded.slice(0, i) || decoded.slice(i + 1);
    }
    return undefined;
  }
  if (allowBodyKey && req.body && typeof req.body === 'object' && typeof (req.body as { writeKey?: unknown }).writeKey === 'string') {
    return (req.body as { writeKey: string }).writeKey;
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The dashboard's session token from the `pw_session` cookie, if the request carries one. */
export function sessionToken(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i !== -1 && part.slice(0, i).trim() === SESSION_COOKIE) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined; // a mangled cookie is no session: the caller answers 401, not 500
      }
    }
  }
  return undefined;
}

/**
 * The caller's key: from the request's credential, or — with none — from a dashboard session
 * cookie. A session is CSRF-checked on every state-changing method: the dashboard sends its
 * session's token in the `x-pitwall-csrf` header, which a cross-site form or image cannot.
 */
async function callerKey(keys: KeyAuthenticator, req: FastifyRequest, allowBodyKey: boolean): Promise<{ key: ApiKey; session: boolean }> {
  const secret = credential(req, allowBodyKey);
  if (secret) {
    const key = await keys.authenticate(secret);
    if (!key) throw new AppError('PW_AUTH_INVALID', 'the API key is unknown or revoked', { status: 401 });
    return { key, session: false };
  }
  const token = keys.sessions ? sessionToken(req) : undefined;
  if (token && keys.sessions) {
    const session = await keys.sessions.resolve(token);
    if (!session) throw new AppError('PW_SESSION_EXPIRED', 'the dashboard session has ended: sign in again', { status: 401 });
    if (!SAFE_METHODS.has(req.method)) {
      const given = req.headers[CSRF_HEADER];
      if (!csrfMatches(session, typeof given === 'string' ? given : undefined))
        throw new AppError('PW_SESSION_CSRF', `a signed-in change needs the session's CSRF token in the ${CSRF_HEADER} header`, {
          status: 403,
        });
    }
    return { key: session.key, session: true };
  }
  throw new AppError('PW_AUTH_MISSING', 'an API key is required: send "Authorization: Bearer <key>"', { status: 401 });
}

/** Resolves the caller's key and checks it has `scope` (admin implies every scope). */
export async function requireScope(keys: KeyAuthenticator, req: FastifyRequest, scope: Scope, allowBodyKey = false): Promise<ApiKey> {
  const { key, session } = await callerKey(keys, req, allowBodyKey);
  // Senders use keys: a signed-in person's cookie never ingests events on their behalf.
  if (session && scope === 'ingest')
    throw new AppError('PW_SESSION_SCOPE', 'the ingest routes take an API key (Authorization: Bearer), not a dashboard session', {
      status: 403,
      extra: { required_scope: scope },
    });
  if (key.scopes.includes('publishable') && scope !== 'publishable')
    throw new AppError('PW_KEY_SCOPE', 'a publishable key may call only the storefront routes (decide, surveys, widget)', {
      status: 403,
      extra: { required_scope: scope },
    });
  if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) {
    throw new AppError('PW_AUTH_SCOPE', `this key lacks the "${scope}" scope`, { status: 403, extra: { required_scope: scope } });
  }
  req.apiKey = key;
  return key;
}

/** The canonical source of events sent with a key (Segment sources are keys). */
export function keySource(key: ApiKey): string {
  return `pitwall:key/${key.id}`;
}
