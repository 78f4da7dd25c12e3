/** Table shapes for customers and the identity graph (src/state/identity). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/**
 * One row per user id or anonymous id ("an id"). `customer_id` is the canonical id of the
 * id's merged component (see src/state/identity/graph.ts); `is_user` is 0/1.
 */
export interface IdentityIdsTable {
  id: string;
  is_user: number;
  first_seen_ms: Int64;
  last_seen_ms: Int64;
  customer_id: string;
}

/**
 * What an id asserted about an identifier of another kind (`email` hash, `vin`, `device`,
 * `serial`, `order`): one row per (id, kind, value). `detail` is the JSON of the latest
 * assertion (`last_ms`, then `event_id`).
 */
export interface IdentityLinksTable {
  id: string;
  kind: string;
  value: string;
  first_ms: Int64;
  last_ms: Int64;
  event_id: string;
  detail: string;
}

/** The latest value (JSON) of each identify trait per id; never the raw `email` (see links). */
export interface IdentityTraitsTable {
  id: string;
  name: string;
  value: string;
  at_ms: Int64;
  event_id: string;
}

/** The latest consent per id and purpose (lower-cased); `granted` is 0/1. */
export interface IdentityConsentTable {
  id: string;
  purpose: string;
  granted: number;
  at_ms: Int64;
  event_id: string;
}

export interface IdentityTables {
  identity_ids: IdentityIdsTable;
  identity_links: IdentityLinksTable;
  identity_traits: IdentityTraitsTable;
  identity_consent: IdentityConsentTable;
}
