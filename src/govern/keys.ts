/**
 * API keys: random, high-entropy, shown once, stored as SHA-256 hashes (a slow password
 * hash would cap ingestion far below 10,000 requests/s; 256 random bits need no stretching).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { Database } from '../store/index.ts';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it in lists and logs. */
  prefix: string;
  scopes: Scope[];
  createdAt: number;
  revokedAt: number | null;
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
  opts: { name: string; scopes: Scope[] },
): Promise<{ key: string; info: ApiKey }> {
  const id = `k_${randomBytes(6).toString('hex')}`;
  const key = `pw_${id.slice(2)}_${randomBytes(32).toString('base64url')}`;
  const info: ApiKey = { id, name: opts.name, prefix: key.slice(0, 18), scopes: opts.scopes, createdAt: clock.now(), revokedAt: null };
  await db
    .insertInto('api_keys')
    .values({
      id,
      name: info.name,
      prefix: info.prefix,
      hash: hashSecret(key),
      scopes: opts.scopes.join(','),
      origins: null,
      created_ms: info.createdAt,
      revoked_ms: null,
    })
    .execute();
  return { key, info };
}

function toKey(r: { id: string; name: string; prefix: string; scopes: string; created_ms: number; revoked_ms: number | null }): ApiKey {
  return {
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
    .select(['id', 'name', 'prefix', 'scopes', 'created_ms', 'revoked_ms'])
    .orderBy('created_ms')
    .execute();
  return rows.map(toKey);
}

/** Revokes by id or by prefix; returns the revoked key. */
export async function revokeKey(db: Kysely<Database>, clock: Clock, idOrPrefix: string): Promise<ApiKey> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'prefix', 'scopes', 'created_ms', 'revoked_ms'])
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

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly ttlMs = 1000,
  ) {}

  async authenticate(secret: string): Promise<ApiKey | undefined> {
    if (!secret.startsWith('pw_') || secret.length > 200) return undefined;
    const h = hashSecret(secret);
    const now = this.clock.now();
    const hit = this.cache.get(h);
    if (hit && hit.until > now) return hit.key;
    const r = await this.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'prefix', 'scopes', 'created_ms', 'revoked_ms'])
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
