/**
 * Dashboard sessions: a person signs in once with an API key (read or admin scope) and the
 * browser then carries an opaque session token in an HttpOnly, SameSite=Strict cookie. Only the
 * token's SHA-256 is stored. Each session has a CSRF token the dashboard sends back in a header on
 * every state-changing request (`src/http/auth.ts`). A session ends when it expires (idle or
 * absolute), when the person signs out, or when its key is revoked.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import { type ApiKey, hashSecret, keyById } from './keys.ts';

export const SESSION_COOKIE = 'pw_session';
export const CSRF_HEADER = 'x-pitwall-csrf';

export interface SessionOptions {
  /** A session unused this long ends (default 12 h). */
  idleMs?: number;
  /** A session ends this long after sign-in whatever its use (default 7 days). */
  absoluteMs?: number;
}

export interface Session {
  key: ApiKey;
  csrf: string;
  expiresAt: number;
}

const TOKEN_PREFIX = 'pws_';
const TOUCH_EVERY_MS = 60_000;

export class SessionStore {
  private readonly idleMs: number;
  private readonly absoluteMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    opts: SessionOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 12 * 3_600_000;
    this.absoluteMs = opts.absoluteMs ?? 7 * 86_400_000;
  }

  /** The longest a session can live (its absolute limit): the cookie's Max-Age. */
  get lifetimeMs(): number {
    return this.absoluteMs;
  }

  /** Opens a session for `key`; the token is returned here and never again. */
  async create(key: ApiKey): Promise<{ token: string; session: Session }> {
    if (key.revokedAt !== null) throw new AppError('PW_AUTH_INVALID', 'the API key is unknown or revoked', { status: 401 });
    if (!key.scopes.includes('read') && !key.scopes.includes('admin'))
      throw new AppError('PW_SESSION_SCOPE', 'signing in to the dashboard needs a key with the "read" or "admin" scope', {
        status: 403,
        extra: { required_scope: 'read' },
      });
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const csrf = randomBytes(24).toString('base64url');
    const now = this.clock.now();
    const expires = now + Math.min(this.idleMs, this.absoluteMs);
    await this.db
      .insertInto('dashboard_sessions')
      .values({ id_hash: hashSecret(token), key_id: key.id, csrf, created_ms: now, seen_ms: now, expires_ms: expires })
      .execute();
    // Sessions that ended are removed as new ones start: the table never grows without bound.
    await this.db.deleteFrom('dashboard_sessions').where('expires_ms', '<=', now).execute();
    return { token, session: { key, csrf, expiresAt: expires } };
  }

  /** The live session of `token`, or undefined (unknown, expired, or its key revoked). */
  async resolve(token: string): Promise<Session | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return undefined;
    const h = hashSecret(token);
    const row = await this.db.selectFrom('dashboard_sessions').selectAll().where('id_hash', '=', h).executeTakeFirst();
    if (!row) return undefined;
    const now = this.clock.now();
    if (Number(row.expires_ms) <= now) return undefined;
    const key = await keyById(this.db, row.key_id);
    if (!key || key.revokedAt !== null) return undefined;
    let expiresAt = Number(row.expires_ms);
    if (now - Number(row.seen_ms) >= TOUCH_EVERY_MS) {
      expiresAt = Math.min(now + this.idleMs, Number(row.created_ms) + this.absoluteMs);
      await this.db.updateTable('dashboard_sessions').set({ seen_ms: now, expires_ms: expiresAt }).where('id_hash', '=', h).execute();
    }
    return { key, csrf: row.csrf, expiresAt };
  }

  /** Ends the session of `token` (signing out); unknown tokens are ignored. */
  async destroy(token: string): Promise<void> {
    await this.db.deleteFrom('dashboard_sessions').where('id_hash', '=', hashSecret(token)).execute();
  }
}

/** Whether `given` is the session's CSRF token, compared in constant time. */
export function csrfMatches(session: Session, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
