/**
 * The suppression list: "do not contact" by customer id or by email hash, for every channel
 * (`all`) or one, optionally until a time. Only hashes of email addresses are stored.
 */
import type { Selectable } from 'kysely';
import { AppError, deterministicId } from '../../core/index.ts';
import type { Db } from '../../detect/index.ts';
import { emailHash, parseIdentifier, resolveCustomerId } from '../../state/index.ts';
import type { Database } from '../../store/index.ts';
import { CUSTOMER_CHANNELS, type CustomerChannel, isCustomerChannel } from './channel.ts';

export type SuppressionKind = 'customer' | 'email';

export interface Suppression {
  /** Deterministic from (kind, value, channel). */
  id: string;
  kind: SuppressionKind;
  /** A user or anonymous id (`customer`), or the SHA-256 hex of an address (`email`). */
  value: string;
  channel: CustomerChannel | 'all';
  reason: string;
  untilMs: number | undefined;
  createdMs: number;
  createdBy: string | undefined;
}

export interface NewSuppression {
  kind: SuppressionKind;
  value: string;
  channel?: CustomerChannel | 'all' | undefined;
  reason?: string | undefined;
  untilMs?: number | undefined;
  createdBy?: string | undefined;
}

type Row = Selectable<Database['suppressions']>;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const CHUNK = 500;

function invalid(pointer: string, message: string): never {
  throw new AppError('PW_SUPPRESSION_INVALID', message, { pointer });
}

function fromRow(r: Row): Suppression {
  return {
    id: r.id,
    kind: r.kind as SuppressionKind,
    value: r.value,
    channel: r.channel as CustomerChannel | 'all',
    reason: r.reason,
    untilMs: r.until_ms === null ? undefined : Number(r.until_ms),
    createdMs: Number(r.created_ms),
    createdBy: r.created_by ?? undefined,
  };
}

export function suppressionId(kind: SuppressionKind, value: string, channel: CustomerChannel | 'all' = 'all'): string {
  return deterministicId('pitwall.suppression', kind, value, channel);
}

/** Validates a channel name for a suppression (`all` or a channel that reaches a customer). */
export function suppressionChannel(v: unknown, pointer = '/channel'): CustomerChannel | 'all' {
  if (v === undefined || v === null) return 'all';
  if (typeof v !== 'string' || (v !== 'all' && !isCustomerChannel(v)))
    invalid(pointer, `channel must be all or one of ${CUSTOMER_CHANNELS.join(', ')}`);
  return v;
}

/**
 * What a suppression request names: `customer` (any identifier: a user or anonymous id, or
 * `email:` / `email_sha256:` / `vin:` / `device:` / `serial:` / `order:` — the last four are
 * resolved to their customer now), `email` (an address, hashed here) or `emailSha256`.
 */
export async function suppressionTarget(
  db: Db,
  t: { customer?: unknown; email?: unknown; emailSha256?: unknown },
): Promise<{ kind: SuppressionKind; value: string }> {
  const given = (['customer', 'email', 'emailSha256'] as const).filter((k) => t[k] !== undefined && t[k] !== null);
  if (given.length !== 1) invalid('', 'name exactly one of customer, email, email_sha256');
  if (t.email !== undefined && t.email !== null) {
    if (typeof t.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(t.email.trim())) invalid('/email', 'email must be an email address');
    return { kind: 'email', value: emailHash(t.email) };
  }
  if (t.emailSha256 !== undefined && t.emailSha256 !== null) {
    const h = typeof t.emailSha256 === 'string' ? t.emailSha256.trim().toLowerCase() : '';
    if (!SHA256_HEX.test(h)) invalid('/email_sha256', 'email_sha256 must be 64 hex digits (SHA-256 of the trimmed, lower-cased address)');
    return { kind: 'email', value: h };
  }
  if (typeof t.customer !== 'string' || t.customer.length > 200)
    invalid('/customer', 'customer must be an identifier of at most 200 characters');
  const id = parseIdentifier(t.customer);
  if (id === undefined) invalid('/customer', 'customer is empty or malformed');
  if (id.kind === 'id') return { kind: 'customer', value: id.value };
  if (id.kind === 'email') return { kind: 'email', value: id.value };
  const owner = await resolveCustomerId(db, t.customer);
  if (owner === undefined)
    throw new AppError('PW_CUSTOMER_NOT_FOUND', `no customer has that ${id.kind}`, { status: 404, pointer: '/customer' });
  return { kind: 'customer', value: owner };
}

/** Adds a suppression, or updates the reason and expiry of the same one; `created` says which. */
export async function addSuppression(db: Db, s: NewSuppression, nowMs: number): Promise<{ suppression: Suppression; created: boolean }> {
  if (s.kind === 'email' && !SHA256_HEX.test(s.value)) invalid('/email_sha256', 'an email suppression holds a SHA-256 hex');
  if (s.kind === 'customer' && (s.value === '' || s.value.length > 200)) invalid('/customer', 'customer must be 1 to 200 characters');
  const channel = suppressionChannel(s.channel);
  const reason = s.reason ?? 'manual';
  if (reason === '' || reason.length > 500) invalid('/reason', 'reason must be 1 to 500 characters');
  if (s.untilMs !== undefined && !Number.isSafeInteger(s.untilMs)) invalid('/until', 'until must be a time');
  const id = suppressionId(s.kind, s.value, channel);
  const existing = await getSuppression(db, id);
  const row = {
    id,
    kind: s.kind,
    value: s.value,
    channel,
    reason,
    until_ms: s.untilMs ?? null,
    created_ms: nowMs,
    created_by: s.createdBy ?? null,
  };
  await db
    .insertInto('suppressions')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet({ reason: row.reason, until_ms: row.until_ms, created_by: row.created_by }))
    .execute();
  const stored = await getSuppression(db, id);
  if (stored === undefined) throw new AppError('PW_INTERNAL', 'a suppression just written cannot be read back', { status: 500 });
  return { suppression: stored, created: existing === undefined };
}

export async function getSuppression(db: Db, id: string): Promise<Suppression | undefined> {
  const r = await db.selectFrom('suppressions').selectAll().where('id', '=', id).executeTakeFirst();
  return r === undefined ? undefined : fromRow(r);
}

/** Removes a suppression; false when there was none. */
export async function removeSuppression(db: Db, id: string): Promise<boolean> {
  const res = await db.deleteFrom('suppressions').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Suppressions newest first (expired ones included), after the cursor `before`. */
export async function listSuppressions(
  db: Db,
  q: { before?: { createdMs: number; id: string } | undefined; limit: number },
): Promise<Suppression[]> {
  const before = q.before;
  const rows = await db
    .selectFrom('suppressions')
    .selectAll()
    .$if(before !== undefined, (qb) =>
      qb.where((eb) =>
        eb.or([
          eb('created_ms', '<', (before as { createdMs: number }).createdMs),
          eb.and([eb('created_ms', '=', (before as { createdMs: number }).createdMs), eb('id', '<', (before as { id: string }).id)]),
        ]),
      ),
    )
    .orderBy('created_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit)
    .execute();
  return rows.map(fromRow);
}

/** Every suppression (expired ones included) naming one of these ids or email hashes. */
export async function suppressionsOf(db: Db, who: { ids: readonly string[]; emailHashes: readonly string[] }): Promise<Suppression[]> {
  const out: Suppression[] = [];
  for (const [kind, values] of [
    ['customer', [...new Set(who.ids)]],
    ['email', [...new Set(who.emailHashes)]],
  ] as const) {
    for (let i = 0; i < values.length; i += CHUNK) {
      const rows = await db
        .selectFrom('suppressions')
        .selectAll()
        .where('kind', '=', kind)
        .where('value', 'in', values.slice(i, i + CHUNK))
        .execute();
      out.push(...rows.map(fromRow));
    }
  }
  return out.sort((a, b) => b.createdMs - a.createdMs || (a.id < b.id ? 1 : -1));
}

/** The suppression that blocks a contact on `channel` at `atMs`, if any. */
export function activeSuppression(list: readonly Suppression[], channel: string, atMs: number): Suppression | undefined {
  return list.find((s) => (s.channel === 'all' || s.channel === channel) && (s.untilMs === undefined || s.untilMs > atMs));
}
