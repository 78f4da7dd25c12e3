/**
 * Identity verification for publishable keys (ADR 0018): a publishable key is public, so the ids a
 * browser sends are unproven. Each store has a server-side **identity secret**; the shop's server
 * computes `userHash = hex(HMAC-SHA256(secret, userId))` and hands it to the widget. A `userId`
 * whose hash does not verify is treated as anonymous.
 *
 * The secrets live in `storefront_secrets`, one row per store (`identity:<store>`), as JSON
 * `{ current: {secret, createdMs}, previous?: {secret, untilMs} }`: a rotation keeps the previous
 * secret valid for a grace period so pages rendered before it still verify. Made on first use,
 * shared by every process, cached here for `ttlMs` (a rotation elsewhere takes effect within it).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError, type Clock } from '../core/index.ts';
import type { Database } from '../store/index.ts';

/** The store a publishable key without `--store` serves, for its identity secret. */
export const DEFAULT_STORE = 'default';
const STORE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

interface SecretRow {
  current: { secret: string; createdMs: number };
  previous?: { secret: string; untilMs: number };
}

/** `hex(HMAC-SHA256(secret, userId))`: what a shop's server computes for its signed-in customer. */
export function userHash(secret: string, userId: string): string {
  return createHmac('sha256', secret).update(userId, 'utf8').digest('hex');
}

/** Whether `given` is `userHash(secret, userId)`; compared in constant time (no early exit on the first differing byte). */
export function hashMatches(secret: string, userId: string, given: string): boolean {
  const want = Buffer.from(userHash(secret, userId), 'hex');
  // A hex string of the wrong length or with other characters decodes to another length.
  const got = /^[0-9a-fA-F]{64}$/.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0);
  if (got.length !== want.length) {
    timingSafeEqual(want, want); // the same work either way
    return false;
  }
  return timingSafeEqual(got, want);
}

const newSecret = () => `pwid_${randomBytes(32).toString('base64url')}`;
const rowName = (store: string) => `identity:${store}`;

function checkStore(store: string): void {
  if (!STORE_NAME.test(store))
    throw new AppError('PW_REQUEST_INVALID', `a store name is 1–100 letters, digits, ".", "_", ":" or "-"`, { pointer: '/store' });
}

function parseRow(value: string): SecretRow {
  const o = JSON.parse(value) as SecretRow;
  if (typeof o?.current?.secret !== 'string') throw new AppError('PW_INTERNAL', 'a storefront identity secret row is malformed');
  return o;
}

/** The result of checking a request's `userId` / `userHash` (publishable keys only). */
export type IdentityCheck = { status: 'verified'; userId: string } | { status: 'unverified'; reason: string } | { status: 'anonymous' };

export class IdentitySecrets {
  private readonly cache = new Map<string, { row: SecretRow; untilMs: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly ttlMs = 5000,
  ) {}

  private async load(store: string): Promise<SecretRow> {
    const now = this.clock.now();
    const hit = this.cache.get(store);
    if (hit && hit.untilMs > now) return hit.row;
    const read = () => this.db.selectFrom('storefront_secrets').select(['value']).where('name', '=', rowName(store)).executeTakeFirst();
    let r = await read();
    if (r === undefined) {
      // First use: whichever process inserts first wins; everyone reads the winner.
      await this.db
        .insertInto('storefront_secrets')
        .values({ name: rowName(store), value: JSON.stringify({ current: { secret: newSecret(), createdMs: now } }), created_ms: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      r = await read();
    }
    if (r === undefined) throw new AppError('PW_INTERNAL', `the identity secret of store "${store}" could not be stored`);
    const row = parseRow(r.value);
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(store, { row, untilMs: now + this.ttlMs });
    return row;
  }

  /** The store's current secret (made on first use) and, during a rotation's grace, the previous one's end. */
  async show(store: string): Promise<{ store: string; secret: string; createdAt: number; previousUntil: number | undefined }> {
    checkStore(store);
    this.cache.delete(store);
    const row = await this.load(store);
    const prev = row.previous !== undefined && row.previous.untilMs > this.clock.now() ? row.previous.untilMs : undefined;
    return { store, secret: row.current.secret, createdAt: row.current.createdMs, previousUntil: prev };
  }

  /** `userHash` of `userId` with the store's current secret: what the shop's server computes (demo shop, tests). */
  async sign(store: string, userId: string): Promise<string> {
    return userHash((await this.load(store)).current.secret, userId);
  }

  /** A new secret for the store; the old one keeps verifying for `graceMs` (0: at once invalid). */
  async rotate(store: string, graceMs: number): Promise<{ store: string; secret: string; previousUntil: number | undefined }> {
    checkStore(store);
    if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > 30 * 86_400_000)
      throw new AppError('PW_REQUEST_INVALID', 'the grace period is 0 to 720 hours', { pointer: '/grace' });
    this.cache.delete(store);
    const old = await this.load(store);
    const now = this.clock.now();
    const row: SecretRow = {
      current: { secret: newSecret(), createdMs: now },
      ...(graceMs > 0 ? { previous: { secret: old.current.secret, untilMs: now + graceMs } } : {}),
    };
    await this.db
      .updateTable('storefront_secrets')
      .set({ value: JSON.stringify(row), created_ms: now })
      .where('name', '=', rowName(store))
      .execute();
    this.cache.delete(store);
    return { store, secret: row.current.secret, previousUntil: row.previous?.untilMs };
  }

  /** Checks a publishable request's identity against the store's secret (and the previous one during its grace). */
  async check(store: string, userId: string | undefined, hash: string | undefined): Promise<IdentityCheck> {
    if (userId === undefined) return { status: 'anonymous' };
    if (hash === undefined)
      return { status: 'unverified', reason: 'customer.userHash is missing: a userId from a browser needs its HMAC (docs/storefront.md)' };
    const row = await this.load(store);
    const ok =
      hashMatches(row.current.secret, userId, hash) ||
      (row.previous !== undefined && row.previous.untilMs > this.clock.now() && hashMatches(row.previous.secret, userId, hash));
    return ok
      ? { status: 'verified', userId }
      : { status: 'unverified', reason: "customer.userHash does not match the userId with this store's identity secret" };
  }
}
