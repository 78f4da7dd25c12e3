/**
 * What one event says about identity, as plain facts (pure; no I/O): which ids it names,
 * which of them it merges, and what its subject id asserts (links, traits, consent).
 *
 * - Every event naming both `userid` and `anonymousid` merges them (Segment identify, and
 *   track/page after login). `customer.aliased` merges `previousId` into the envelope's id.
 * - The **subject** (who asserts) is `userid`, else `anonymousid`; for `device.registered`
 *   the registration's `customer_id` when it names one.
 * - `customer.identified` traits: `email` becomes an email-hash link (never stored raw), the
 *   configured VIN traits become vehicle links, every other top-level trait is kept.
 * - `device.registered` links the device, its VIN and its part serial (with the SKU).
 * - `commerce.order_completed` links `properties.order_id`.
 * - Consent: Segment `context.consent.categoryPreferences` on any event, and
 *   `customer.consent_updated` `purposes` (`{ "<purpose>": true|false }`); purposes lower-cased.
 */
import { dataOf, eventTimeMs } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { emailHash, type LinkKind, normaliseVin } from './identifiers.ts';
import type { IdentitySettings } from './settings.ts';

export const CUSTOMER_IDENTIFIED = 'customer.identified';
export const CUSTOMER_ALIASED = 'customer.aliased';
/** Explicit consent change; not in the built-in catalogue yet (register it, or see docs/decide/identity.md). */
export const CONSENT_UPDATED = 'customer.consent_updated';
export const DEVICE_REGISTERED = 'device.registered';
export const ORDER_COMPLETED = 'commerce.order_completed';

export interface IdMention {
  id: string;
  /** Named as a user id (`userid`, alias target, registration `customer_id`). */
  user: boolean;
}

export interface LinkFact {
  kind: LinkKind;
  value: string;
  detail: Record<string, unknown>;
}

export interface Facts {
  at: number;
  eventId: string;
  ids: IdMention[];
  merges: [string, string][];
  subject: string | undefined;
  links: LinkFact[];
  traits: [string, unknown][];
  consent: [string, boolean][];
}

/** True for events the identity projection folds. */
export function isIdentityEvent(e: CloudEvent): boolean {
  return text(e.userid) !== undefined || text(e.anonymousid) !== undefined || e.type === DEVICE_REGISTERED;
}

export function extractFacts(e: CloudEvent, settings: IdentitySettings): Facts {
  const user = text(e.userid);
  const anon = text(e.anonymousid);
  const d = dataOf(e);
  const facts: Facts = {
    at: eventTimeMs(e),
    eventId: e.id,
    ids: [],
    merges: [],
    subject: user ?? anon,
    links: [],
    traits: [],
    consent: [],
  };
  if (user !== undefined) facts.ids.push({ id: user, user: true });
  if (anon !== undefined) facts.ids.push({ id: anon, user: false });
  if (user !== undefined && anon !== undefined && user !== anon) facts.merges.push([user, anon]);

  switch (e.type) {
    case CUSTOMER_ALIASED: {
      const previous = text(d.previousId);
      const target = user ?? anon;
      if (previous !== undefined && target !== undefined) {
        facts.ids.push({ id: previous, user: false });
        if (previous !== target) facts.merges.push([target, previous]);
      }
      break;
    }
    case CUSTOMER_IDENTIFIED:
      identifyTraits(facts, d.traits, settings);
      break;
    case DEVICE_REGISTERED:
      registration(facts, d);
      break;
    case ORDER_COMPLETED: {
      const p = objectOf(d.properties);
      const orderId = text(p.order_id);
      if (orderId === undefined) break;
      const total = num(p.total) ?? num(p.revenue);
      const currency = text(p.currency)?.toUpperCase();
      facts.links.push({ kind: 'order', value: orderId, detail: defined({ total, currency }) });
      break;
    }
  }

  const preferences = objectOf(objectOf(objectOf(d.context).consent).categoryPreferences);
  const consent = new Map<string, boolean>(); // an explicit event's purposes win over its own context
  for (const [k, v] of Object.entries(preferences)) if (typeof v === 'boolean' && k.trim() !== '') consent.set(k.trim().toLowerCase(), v);
  if (e.type === CONSENT_UPDATED)
    for (const [k, v] of Object.entries(objectOf(d.purposes)))
      if (typeof v === 'boolean' && k.trim() !== '') consent.set(k.trim().toLowerCase(), v);
  facts.consent = [...consent];

  if (facts.subject === undefined) {
    facts.links = [];
    facts.traits = [];
    facts.consent = [];
  }
  return facts;
}

function identifyTraits(facts: Facts, raw: unknown, settings: IdentitySettings): void {
  const traits = objectOf(raw);
  for (const [name, value] of Object.entries(traits)) {
    if (name === 'email') {
      if (typeof value === 'string' && value.trim() !== '') facts.links.push({ kind: 'email', value: emailHash(value), detail: {} });
      continue; // never kept raw
    }
    facts.traits.push([name, value]);
    if (!settings.vinTraits.includes(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      const vin = normaliseVin(v);
      if (vin !== undefined) facts.links.push({ kind: 'vin', value: vin, detail: { via: 'trait', trait: name } });
    }
  }
}

function registration(facts: Facts, d: Record<string, unknown>): void {
  const owner = text(d.customer_id);
  if (owner !== undefined) {
    facts.ids.push({ id: owner, user: true });
    facts.subject = owner;
  }
  const deviceId = text(d.device_id);
  if (deviceId === undefined) return;
  const vin = normaliseVin(d.vin);
  const sku = text(d.part_sku);
  const serial = text(d.part_serial);
  facts.links.push({
    kind: 'device',
    value: deviceId,
    detail: defined({ kind: text(d.kind), vin, part_sku: sku, part_serial: serial, firmware: text(d.firmware) }),
  });
  if (vin !== undefined) facts.links.push({ kind: 'vin', value: vin, detail: { via: 'device', device_id: deviceId } });
  if (serial !== undefined) facts.links.push({ kind: 'serial', value: serial, detail: defined({ sku, vin, device_id: deviceId }) });
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function objectOf(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
