/**
 * Browser access to the storefront routes: publishable keys bound to origins, CORS, and rate
 * limits per IP and per key (token buckets on the injected clock).
 */
import ipaddr from 'ipaddr.js';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import { type ApiKey, publishableOrigins } from '../govern/index.ts';
import type { Database } from '../store/index.ts';

/** `https://shop.example[,https://…]` → normalised origins; throws PW_ORIGIN_INVALID with the bad one. */
export function parseOrigins(input: string | undefined): string[] {
  const parts = (input ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new AppError('PW_ORIGIN_INVALID', 'a publishable key needs --origins, e.g. https://shop.example');
  return [
    ...new Set(
      parts.map((p) => {
        let u: URL;
        try {
          u = new URL(p);
        } catch {
          throw new AppError('PW_ORIGIN_INVALID', `"${p}" is not an origin like https://shop.example`);
        }
        if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== p.replace(/\/$/, '').toLowerCase())
          throw new AppError('PW_ORIGIN_INVALID', `"${p}" is not an origin (scheme://host[:port], no path) like https://shop.example`);
        return u.origin;
      }),
    ),
  ];
}

export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size (the largest burst). */
  burst: number;
}

export interface AccessSettings {
  perIp: RateLimit;
  perKey: RateLimit;
  /** Survey responses and impressions per IP (spam). */
  responsesPerIp: RateLimit;
  /** How long the set of allowed origins is cached (ms). */
  originsTtlMs: number;
  /** Addresses (or keys) each bucket set remembers; the least recently seen is forgotten beyond it. */
  maxTracked: number;
}

export const DEFAULT_ACCESS_SETTINGS: AccessSettings = {
  perIp: { perSecond: 20, burst: 100 },
  perKey: { perSecond: 2000, burst: 5000 },
  responsesPerIp: { perSecond: 0.2, burst: 10 },
  originsTtlMs: 5000,
  maxTracked: 100_000,
};

/**
 * The rate-limit bucket of a client address: IPv4 as is (an IPv4-mapped IPv6 address too), IPv6
 * by its /64 — one subscriber usually holds a whole /64, so per-address buckets would let one
 * client spray 2^64 addresses. Anything unparseable is its own bucket.
 */
export function addressBucket(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const a = ipaddr.parse(ip);
  if (a.kind() === 'ipv4') return a.toString();
  const v6 = a as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const p = v6.parts;
  return `${[p[0], p[1], p[2], p[3]].map((x) => (x ?? 0).toString(16)).join(':')}::/64`;
}

/**
 * Token buckets by name, refilled from the clock. A bounded LRU: a Map kept in recency order (a
 * hit moves its name to the end), so a spray of new names evicts the least recently seen, never
 * grows past `maxNames`, and a busy client's bucket stays.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: RateLimit,
    private readonly maxNames = 100_000,
  ) {}

  /** Takes one token; undefined when allowed, else the seconds until one is available. */
  take(name: string): number | undefined {
    const now = this.clock.now();
    let b = this.buckets.get(name);
    if (b === undefined) {
      if (this.buckets.size >= this.maxNames) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      b = { tokens: this.limit.burst, atMs: now };
      this.buckets.set(name, b);
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + (Math.max(0, now - b.atMs) / 1000) * this.limit.perSecond);
      b.atMs = now;
      this.buckets.delete(name);
      this.buckets.set(name, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return this.limit.perSecond > 0 ? Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond)) : 3600;
  }

  /** How many names are remembered now. */
  get size(): number {
    return this.buckets.size;
  }
}

function limited(what: string, retryAfterS: number): AppError {
  return new AppError('PW_RATE_LIMITED', `too many requests ${what}; retry in ${retryAfterS} s`, {
    status: 429,
    category: 'operational',
    headers: { 'retry-after': String(retryAfterS) },
    extra: { retry_after_s: retryAfterS },
  });
}

/** The origins CORS answers for and the rate limits, for one process. */
export class StorefrontAccess {
  readonly settings: AccessSettings;
  private readonly ipBuckets: TokenBuckets;
  private readonly keyBuckets: TokenBuckets;
  private readonly responseBuckets: TokenBuckets;
  private origins: { set: Set<string>; untilMs: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    settings: Partial<AccessSettings> = {},
  ) {
    this.settings = { ...DEFAULT_ACCESS_SETTINGS, ...settings };
    const max = this.settings.maxTracked;
    this.ipBuckets = new TokenBuckets(clock, this.settings.perIp, max);
    this.keyBuckets = new TokenBuckets(clock, this.settings.perKey, max);
    this.responseBuckets = new TokenBuckets(clock, this.settings.responsesPerIp, max);
  }

  /** Whether some publishable key allows `origin` (for preflights, where the key is unknown). */
  async knownOrigin(origin: string): Promise<boolean> {
    const now = this.clock.now();
    if (this.origins === undefined || this.origins.untilMs <= now)
      this.origins = { set: await publishableOrigins(this.db), untilMs: now + this.settings.originsTtlMs };
    return this.origins.set.has(origin);
  }

  /** Forgets the cached origins (after a key is created or revoked in this process). */
  invalidateOrigins(): void {
    this.origins = undefined;
  }

  /** The per-IP limit, before the key is looked up; `ip` is Fastify's `req.ip` (which `trustProxy` decides). */
  limitIp(ip: string): void {
    const wait = this.ipBuckets.take(addressBucket(ip));
    if (wait !== undefined) throw limited('from this address', wait);
  }

  /** The per-key limit and, for a publishable key, its origin; `origin` undefined for server-side callers. */
  checkKey(key: ApiKey, origin: string | undefined): void {
    if (key.scopes.includes('publishable') && origin !== undefined && !(key.origins ?? []).includes(origin))
      throw new AppError('PW_ORIGIN_NOT_ALLOWED', `origin ${origin} is not allowed for this key; add it with --origins`, {
        status: 403,
        extra: { origin },
      });
    const wait = this.keyBuckets.take(key.id);
    if (wait !== undefined) throw limited('with this key', wait);
  }

  /** The spam limit on survey responses and impressions per IP. */
  limitResponses(ip: string): void {
    const wait = this.responseBuckets.take(addressBucket(ip));
    if (wait !== undefined) throw limited('sending survey responses from this address', wait);
  }
}
