/**
 * API keys: random, high-entropy, shown once, stored as SHA-256 hashes (a slow password
 * hash would cap ingestion far below 10,000 requests/s; 256 random bits need no stretching).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import type { SessionStore } from './sessions.ts';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
/**
 * `publishable`: a browser-safe key (`pk_…`) for the storefront routes only, bound to origins
 * and a store (src/storefront). Not in SCOPES: it is made with `--publishable`, never mixed.
 */
export type Scope = (typeof SCOPES)[number] | 'publishable';

export interface ApiKey {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it in lists and logs. */
  prefix: string;
  scopes: Scope[];
  createdAt: number;
  revokedAt: number | null;
  /** Publishable keys: the browser origins allowed to use it (`https://shop.example`). */
  origins?: string[] | undefined;
  /** Publishable keys: the store it serves. */
  store?: string | undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function parseScopes(input: string): Scope[] {
  const scopes = input
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length > 0 || scopes.length === 0) {
    throw new AppError('PW_KEY_SCOPE_INVALID', `unknown scope(s) ${bad.join(', ') || '(none given)'}; choose from ${SCOPES.join(', ')}`);
  }
  return [...new Set(scopes)] as Scope[];
}

/** Creates a key; the plaintext is returned here and never again. */
export async function createKey(
  db: Kysely<Database>,
  clock: Clock,
  opts: { name: string; scopes: Scope[]; origins?: string[]; store?: string },
): Promise<{ key: string; info: ApiKey }> {
  const id = `k_${randomBytes(6).toString('hex')}`;
  const publishable = opts.scopes.includes('publishable');
  if (publishable && (opts.scopes.length !== 1 || !opts.origins || opts.origins.length === 0))
    throw new AppError('PW_KEY_SCOPE_INVALID', 'a publishable key has only the publishable scope and needs at least one origin');
  const key = `${publishable ? 'pk' : 'pw'}_${id.slice(2)}_${randomBytes(32).toString('base64url')}`;
  const info: ApiKey = {
    id,
    name: opts.name,
    prefix: key.slice(0, 18),
    scopes: opts.scopes,
    createdAt: clock.now(),
    revokedAt: null,
    ...(publishable ? { origins: opts.origins, store: opts.store } : {}),
  };
  await db
    .insertInto('api_keys')
    .values({
      id,
      name: info.name,
      prefix: info.prefix,
      hash: hashSecret(key),
      scopes: opts.scopes.join(','),
      origins: publishable ? (opts.origins ?? []).join(' ') : null,
      store: publishable ? (opts.store ?? null) : null,
      created_ms: info.createdAt,
      revoked_ms: null,
    })
    .execute();
  return { key, info };
}

type KeyRow = {
  id: string;
  name: string;
  prefix: string;
  scopes: string;
  created_ms: number;
  revoked_ms: number | null;
  origins: string | null;
  store: string | null;
};
const KEY_COLUMNS = ['id', 'name', 'prefix', 'scopes', 'created_ms', 'revoked_ms', 'origins', 'store'] as const;

function toKey(r: KeyRow): ApiKey {
  return {
    ...(r.origins !== null ? { origins: r.origins.split(' ').filter(Boolean) } : {}),
    ...(r.store !== null ? { store: r.store } : {}),
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes.split(',') as Scope[],
    createdAt: Number(r.created_ms),
    revokedAt: r.revoked_ms === null ? null : Number(r.revoked_ms),
  };
}

export async function listKeys(db: Kysely<Database>): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select([...KEY_COLUMNS])
    .orderBy('created_ms')
    .execute();
  return rows.map(toKey);
}

/** The key with this id (revoked or not), or undefined. */
export async function keyById(db: Kysely<Database>, id: string): Promise<ApiKey | undefined> {
  const r = await db
    .selectFrom('api_keys')
    .select([...KEY_COLUMNS])
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toKey(r) : undefined;
}

/** Revokes by id or by prefix; returns the revoked key. */
export async function revokeKey(db: Kysely<Database>, clock: Clock, idOrPrefix: string): Promise<ApiKey> {
  const rows = await db
    .selectFrom('api_keys')
    .select([...KEY_COLUMNS])
    .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('prefix', '=', idOrPrefix)]))
    .execute();
  const row = rows[0];
  if (!row) throw new AppError('PW_KEY_NOT_FOUND', `no key with id or prefix "${idOrPrefix}"`, { status: 404 });
  const now = clock.now();
  await db.updateTable('api_keys').set({ revoked_ms: now }).where('id', '=', row.id).where('revoked_ms', 'is', null).execute();
  return { ...toKey(row), revokedAt: row.revoked_ms === null ? now : Number(row.revoked_ms) };
}

/**
 * Looks keys up by hash. Hits are cached for a second so a hot ingest path does one
 * lookup per second per key; a key created by another process works on its first use,
 * and a revocation takes effect within the cache time.
 */
export class KeyAuthenticator {
  private readonly cache = new Map<string, { key: ApiKey | undefined; until: number }>();
  /** Dashboard sessions (a cookie instead of a key), when this process serves the dashboard. */
  sessions?: SessionStore;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly ttlMs = 1000,
  ) {}

  async authenticate(secret: string): Promise<ApiKey | undefined> {
    if (!(secret.startsWith('pw_') || secret.startsWith('pk_')) || secret.length > 200) return undefined;
    const h = hashSecret(secret);
    const now = this.clock.now();
    const hit = this.cache.get(h);
    if (hit && hit.until > now) return hit.key;
    const r = await this.db
      .selectFrom('api_keys')
      .select([...KEY_COLUMNS])
      .where('hash', '=', h)
      .executeTakeFirst();
    const key = r && r.revoked_ms === null ? toKey(r) : undefined;
    if (key) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(h, { key, until: now + this.ttlMs });
    }
    return key;
  }
}

/** Every origin of an unrevoked publishable key (CORS preflights are answered for these). */
export async function publishableOrigins(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['origins'])
    .where('origins', 'is not', null)
    .where('revoked_ms', 'is', null)
    .execute();
  return new Set(rows.flatMap((r) => (r.origins ?? '').split(' ').filter(Boolean)));
}
