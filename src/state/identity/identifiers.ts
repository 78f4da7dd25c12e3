/**
 * Identifiers of the identity graph and how a lookup string names one.
 *
 * Words:
 * - **id**: a user id (Segment `userId`, a registration's `customer_id`) or an anonymous id
 *   (Segment `anonymousId`, an alias's `previousId`). Ids merge into customers.
 * - **link**: another identifier an id asserted: an email hash, a VIN, a device, a part serial,
 *   an order. Links attach to customers; they never merge two customers (a car or a device is
 *   resold, a family shares an email), and the latest assertion by event time owns the link.
 * - **customer id**: the canonical id of a merged component of ids.
 */
import { createHash } from 'node:crypto';

export const LINK_KINDS = ['email', 'vin', 'device', 'serial', 'order'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/** What a lookup string names: an id, or a link of some kind (values already normalised). */
export type Identifier = { kind: 'id'; value: string } | { kind: LinkKind; value: string };

/** ISO 3779 VIN, as the catalogue's `VIN_PATTERN`. */
const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * SHA-256 (hex) of the trimmed, lower-cased address. State keeps only this, never the address:
 * state tables are what read APIs, exports and workflow conditions serve, and a hash is enough
 * to look a customer up or to match hashed audiences (the normalisation ad platforms use).
 */
export function emailHash(address: string): string {
  return createHash('sha256').update(address.trim().toLowerCase()).digest('hex');
}

/** An upper-cased VIN, or undefined when it is not one. */
export function normaliseVin(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const vin = v.trim().toUpperCase();
  return VIN.test(vin) ? vin : undefined;
}

/**
 * Parses a lookup string: `email:<address>` (hashed here), `email_sha256:<hex>`, `vin:<VIN>`,
 * `device:<id>`, `serial:<serial>`, `order:<id>`, `id:<user or anonymous id>`; anything else is a
 * user or anonymous id as given. Undefined when a prefixed value is empty or malformed.
 */
export function parseIdentifier(text: string): Identifier | undefined {
  const i = text.indexOf(':');
  const prefix = i === -1 ? '' : text.slice(0, i);
  const rest = text.slice(i + 1);
  switch (prefix) {
    case 'id':
      return rest === '' ? undefined : { kind: 'id', value: rest };
    case 'email':
      return rest.trim() === '' ? undefined : { kind: 'email', value: emailHash(rest) };
    case 'email_sha256': {
      const h = rest.trim().toLowerCase();
      return SHA256_HEX.test(h) ? { kind: 'email', value: h } : undefined;
    }
    case 'vin': {
      const vin = normaliseVin(rest);
      return vin === undefined ? undefined : { kind: 'vin', value: vin };
    }
    case 'device':
    case 'serial':
    case 'order':
      return rest === '' ? undefined : { kind: prefix, value: rest };
    default:
      return text === '' ? undefined : { kind: 'id', value: text };
  }
}
