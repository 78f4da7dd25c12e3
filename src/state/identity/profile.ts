/**
 * The canonical customer profile: ids, traits and consent (latest per name / purpose over all
 * of the customer's ids), and the links the customer owns (see resolve.ts) as vehicles,
 * devices, parts, orders and email hashes.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import { chunks } from './graph.ts';
import type { LinkKind } from './identifiers.ts';
import { isLater, type Stamp } from './latest.ts';
import { type CustomerSummary, linkWins, membersOf, resolveCustomerId, summarise } from './resolve.ts';

type LinkRow = Selectable<Database['identity_links']>;
type TraitRow = Selectable<Database['identity_traits']>;
type ConsentRow = Selectable<Database['identity_consent']>;

export interface ConsentState {
  granted: boolean;
  /** Event time of the statement that decided it (epoch ms). */
  at: number;
}

export interface CustomerVehicle {
  vin: string;
  /** The customer's devices registered on this VIN. */
  devices: string[];
  parts: { sku: string | undefined; serial: string }[];
  firstLinkedAt: number;
  lastLinkedAt: number;
}

export interface CustomerDevice {
  deviceId: string;
  kind: string | undefined;
  vin: string | undefined;
  partSku: string | undefined;
  partSerial: string | undefined;
  firmware: string | undefined;
  registeredAt: number;
}

export interface CustomerPart {
  sku: string | undefined;
  serial: string;
  vin: string | undefined;
  deviceId: string | undefined;
  linkedAt: number;
}

export interface CustomerOrder {
  orderId: string;
  at: number;
  total: number | undefined;
  currency: string | undefined;
}

/** The canonical profile; times are epoch ms. */
export interface Customer extends CustomerSummary {
  /** SHA-256 of the trimmed, lower-cased addresses (never the addresses). */
  emailHashes: string[];
  traits: Record<string, unknown>;
  vehicles: CustomerVehicle[];
  devices: CustomerDevice[];
  parts: CustomerPart[];
  orders: CustomerOrder[];
  consent: Record<string, ConsentState>;
}

/** True / false as the customer's latest statement for `purpose` says; undefined when it never said (or is unknown). */
export async function hasConsent(db: Db, customerId: string, purpose: string): Promise<boolean | undefined> {
  const id = await resolveCustomerId(db, customerId);
  if (id === undefined) return undefined;
  const members = await membersOf(db, id);
  const rows: ConsentRow[] = [];
  for (const part of chunks(members.map((m) => m.id)))
    rows.push(
      ...(await db
        .selectFrom('identity_consent')
        .selectAll()
        .where('id', 'in', part)
        .where('purpose', '=', purpose.trim().toLowerCase())
        .execute()),
    );
  return latestConsent(rows)[purpose.trim().toLowerCase()]?.granted;
}

/** The vehicles of a customer (any identifier), with the devices and parts registered on each. */
export async function vehiclesOf(db: Db, customerId: string): Promise<CustomerVehicle[]> {
  return (await getCustomer(db, customerId))?.vehicles ?? [];
}

/** The canonical profile of the customer any identifier names; undefined when unknown. */
export async function getCustomer(db: Db, identifier: string): Promise<Customer | undefined> {
  const customerId = await resolveCustomerId(db, identifier);
  if (customerId === undefined) return undefined;
  const members = await membersOf(db, customerId);
  if (members.length === 0) return undefined;
  const ids = members.map((m) => m.id);
  const traitRows: TraitRow[] = [];
  const consentRows: ConsentRow[] = [];
  const linkRows: LinkRow[] = [];
  for (const part of chunks(ids)) {
    traitRows.push(...(await db.selectFrom('identity_traits').selectAll().where('id', 'in', part).execute()));
    consentRows.push(...(await db.selectFrom('identity_consent').selectAll().where('id', 'in', part).execute()));
    linkRows.push(...(await db.selectFrom('identity_links').selectAll().where('id', 'in', part).execute()));
  }
  const links = await ownedLinks(db, customerId, linkRows);
  return {
    ...summarise(customerId, members),
    emailHashes: links
      .filter((l) => l.kind === 'email')
      .map((l) => l.value)
      .sort(),
    traits: latestTraits(traitRows),
    ...assets(links),
    consent: latestConsent(consentRows),
  };
}

function latestTraits(rows: readonly TraitRow[]): Record<string, unknown> {
  const best = new Map<string, TraitRow>();
  for (const r of rows) {
    const b = best.get(r.name);
    if (
      !b ||
      isLater(
        { at: Number(r.at_ms), eventId: r.event_id, payload: r.value },
        { at: Number(b.at_ms), eventId: b.event_id, payload: b.value },
      )
    )
      best.set(r.name, r);
  }
  return Object.fromEntries([...best].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, r]) => [name, JSON.parse(r.value) as unknown]));
}

function latestConsent(rows: readonly ConsentRow[]): Record<string, ConsentState> {
  const best = new Map<string, ConsentRow>();
  const stamp = (r: ConsentRow): Stamp => ({ at: Number(r.at_ms), eventId: r.event_id, payload: String(r.granted) });
  for (const r of rows) {
    const b = best.get(r.purpose);
    if (!b || isLater(stamp(r), stamp(b))) best.set(r.purpose, r);
  }
  return Object.fromEntries(
    [...best].sort(([a], [b]) => (a < b ? -1 : 1)).map(([purpose, r]) => [purpose, { granted: r.granted === 1, at: Number(r.at_ms) }]),
  );
}

interface OwnedLink {
  kind: LinkKind;
  value: string;
  firstMs: number;
  lastMs: number;
  detail: Record<string, unknown>;
}

/**
 * The customer's links, merged over its ids (earliest first, latest detail), without the ones
 * another customer asserted later.
 */
async function ownedLinks(db: Db, customerId: string, rows: readonly LinkRow[]): Promise<OwnedLink[]> {
  const mine = new Map<string, { kind: LinkKind; value: string; first: number; latest: LinkRow }>();
  for (const r of rows) {
    const k = `${r.kind}\u0000${r.value}`;
    const m = mine.get(k);
    if (!m) mine.set(k, { kind: r.kind as LinkKind, value: r.value, first: Number(r.first_ms), latest: r });
    else {
      m.first = Math.min(m.first, Number(r.first_ms));
      if (linkWins(r, m.latest)) m.latest = r;
    }
  }
  const byKind = new Map<string, string[]>();
  for (const m of mine.values()) {
    const list = byKind.get(m.kind);
    if (list) list.push(m.value);
    else byKind.set(m.kind, [m.value]);
  }
  for (const [kind, values] of byKind)
    for (const part of chunks(values)) {
      const others = await db
        .selectFrom('identity_links as l')
        .innerJoin('identity_ids as i', 'i.id', 'l.id')
        .select(['l.id', 'l.value', 'l.last_ms', 'l.event_id', 'l.detail'])
        .where('l.kind', '=', kind)
        .where('l.value', 'in', part)
        .where('i.customer_id', '<>', customerId)
        .execute();
      for (const o of others) {
        const k = `${kind}\u0000${o.value}`;
        const m = mine.get(k);
        if (m && linkWins(o, m.latest)) mine.delete(k);
      }
    }
  return [...mine.values()].map((m) => ({
    kind: m.kind,
    value: m.value,
    firstMs: m.first,
    lastMs: Number(m.latest.last_ms),
    detail: JSON.parse(m.latest.detail) as Record<string, unknown>,
  }));
}

function assets(links: readonly OwnedLink[]): Pick<Customer, 'vehicles' | 'devices' | 'parts' | 'orders'> {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const byTime =
    <T>(at: (t: T) => number, id: (t: T) => string) =>
    (a: T, b: T) =>
      at(a) - at(b) || (id(a) < id(b) ? -1 : 1);
  const devices: CustomerDevice[] = links
    .filter((l) => l.kind === 'device')
    .map((l) => ({
      deviceId: l.value,
      kind: str(l.detail.kind),
      vin: str(l.detail.vin),
      partSku: str(l.detail.part_sku),
      partSerial: str(l.detail.part_serial),
      firmware: str(l.detail.firmware),
      registeredAt: l.firstMs,
    }))
    .sort(
      byTime(
        (d) => d.registeredAt,
        (d) => d.deviceId,
      ),
    );
  const parts: CustomerPart[] = links
    .filter((l) => l.kind === 'serial')
    .map((l) => ({
      sku: str(l.detail.sku),
      serial: l.value,
      vin: str(l.detail.vin),
      deviceId: str(l.detail.device_id),
      linkedAt: l.firstMs,
    }))
    .sort(
      byTime(
        (p) => p.linkedAt,
        (p) => p.serial,
      ),
    );
  const vehicles: CustomerVehicle[] = links
    .filter((l) => l.kind === 'vin')
    .map((l) => ({
      vin: l.value,
      devices: devices.filter((d) => d.vin === l.value).map((d) => d.deviceId),
      parts: parts.filter((p) => p.vin === l.value).map((p) => ({ sku: p.sku, serial: p.serial })),
      firstLinkedAt: l.firstMs,
      lastLinkedAt: l.lastMs,
    }))
    .sort(
      byTime(
        (v) => v.firstLinkedAt,
        (v) => v.vin,
      ),
    );
  const orders: CustomerOrder[] = links
    .filter((l) => l.kind === 'order')
    .map((l) => ({
      orderId: l.value,
      at: l.firstMs,
      total: typeof l.detail.total === 'number' ? l.detail.total : undefined,
      currency: str(l.detail.currency),
    }))
    .sort(
      byTime(
        (o) => o.at,
        (o) => o.orderId,
      ),
    );
  return { vehicles, devices, parts, orders };
}
