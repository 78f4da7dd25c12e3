/**
 * Resolving any identifier to its canonical customer, and the customer list.
 *
 * A link (email hash, VIN, device, serial, order) belongs to the customer whose id asserted it
 * last by event time (ties: event id, detail, then the smaller id), so after a resale a VIN
 * resolves to the new owner, and the profiles (profile.ts) agree with every lookup.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import { chunks } from './graph.ts';
import { type Identifier, normaliseVin, parseIdentifier } from './identifiers.ts';
import { isLater, type Stamp } from './latest.ts';

type IdRow = Selectable<Database['identity_ids']>;
type LinkRow = Selectable<Database['identity_links']>;

export interface CustomerSummary {
  customerId: string;
  userIds: string[];
  anonymousIds: string[];
  firstSeen: number;
  lastSeen: number;
}

const linkStamp = (r: Pick<LinkRow, 'last_ms' | 'event_id' | 'detail'>): Stamp => ({
  at: Number(r.last_ms),
  eventId: r.event_id,
  payload: r.detail,
});

/**
 * The canonical customer id for any identifier: a user or anonymous id, `email:<address>`,
 * `email_sha256:<hex>`, `vin:<VIN>`, `device:<id>`, `serial:<serial>`, `order:<id>`, `id:<id>`.
 * Undefined when unknown or malformed.
 */
export async function resolveCustomerId(db: Db, identifier: string): Promise<string | undefined> {
  const parsed = parseIdentifier(identifier);
  return parsed === undefined ? undefined : resolve(db, parsed);
}

/** The customer a registered device belongs to (its latest registration naming a customer). */
export function customerOfDevice(db: Db, deviceId: string): Promise<string | undefined> {
  return resolve(db, { kind: 'device', value: deviceId });
}

/** The customer a vehicle belongs to (the latest registration or garage trait naming the VIN). */
export async function customerOfVin(db: Db, vin: string): Promise<string | undefined> {
  const v = normaliseVin(vin);
  return v === undefined ? undefined : resolve(db, { kind: 'vin', value: v });
}

async function resolve(db: Db, id: Identifier): Promise<string | undefined> {
  let owner = id.value;
  if (id.kind !== 'id') {
    const rows = await db
      .selectFrom('identity_links')
      .select(['id', 'last_ms', 'event_id', 'detail'])
      .where('kind', '=', id.kind)
      .where('value', '=', id.value)
      .execute();
    let best: (typeof rows)[number] | undefined;
    for (const r of rows) if (!best || linkWins(r, best)) best = r;
    if (!best) return undefined;
    owner = best.id;
  }
  const row = await db.selectFrom('identity_ids').select('customer_id').where('id', '=', owner).executeTakeFirst();
  return row?.customer_id;
}

export type Assertion = Pick<LinkRow, 'id' | 'last_ms' | 'event_id' | 'detail'>;

/** Who owns a link: the later assertion; on an equal stamp, the smaller asserting id. */
export function linkWins(a: Assertion, b: Assertion): boolean {
  if (isLater(linkStamp(a), linkStamp(b))) return true;
  return !isLater(linkStamp(b), linkStamp(a)) && a.id < b.id;
}

/** Canonical customers in `customer_id` order, after the cursor `after` (a customer id). */
export async function listCustomers(db: Db, q: { after?: string | undefined; limit: number }): Promise<CustomerSummary[]> {
  const after = q.after;
  const page = await db
    .selectFrom('identity_ids')
    .select('customer_id')
    .distinct()
    .$if(after !== undefined, (qb) => qb.where('customer_id', '>', after as string))
    .orderBy('customer_id')
    .limit(q.limit)
    .execute();
  const wanted = page.map((r) => r.customer_id);
  const members = new Map<string, IdRow[]>(wanted.map((c) => [c, []]));
  for (const part of chunks(wanted))
    for (const r of await db.selectFrom('identity_ids').selectAll().where('customer_id', 'in', part).execute())
      members.get(r.customer_id)?.push(r);
  return wanted.map((c) => summarise(c, members.get(c) ?? []));
}

/** The ids of a customer (by canonical id). */
export function membersOf(db: Db, customerId: string): Promise<IdRow[]> {
  return db.selectFrom('identity_ids').selectAll().where('customer_id', '=', customerId).execute();
}

/** Ids and first / last seen of a customer; `members` is not empty. */
export function summarise(customerId: string, members: readonly IdRow[]): CustomerSummary {
  const sorted = [...members].sort((a, b) => Number(a.first_seen_ms) - Number(b.first_seen_ms) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    customerId,
    userIds: sorted.filter((m) => m.is_user === 1).map((m) => m.id),
    anonymousIds: sorted.filter((m) => m.is_user !== 1).map((m) => m.id),
    firstSeen: Math.min(...members.map((m) => Number(m.first_seen_ms))),
    lastSeen: Math.max(...members.map((m) => Number(m.last_seen_ms))),
  };
}
