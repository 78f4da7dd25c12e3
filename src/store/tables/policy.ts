/** Table shapes for the contact policy and holdouts (src/automate/policy, src/automate/holdouts). Times are epoch ms. */
import type { Int64 } from '../schema.ts';

/**
 * A contact that happened: one row per action that reached a customer, keyed by the action's
 * idempotency key (so recording it again changes nothing). `customer_id` is the id the runner
 * resolved at the time; caps count the rows of every id of the customer.
 */
export interface ContactLogTable {
  action_key: string;
  customer_id: string;
  channel: string;
  purpose: string;
  workflow_id: string;
  at_ms: Int64;
}

/**
 * "Do not contact": `kind` `customer` (a user or anonymous id, `value` as given) or `email`
 * (`value` = SHA-256 hex of the address); `channel` a channel name or `all`. `id` is
 * deterministic from (kind, value, channel), so adding the same suppression again updates it.
 */
export interface SuppressionsTable {
  id: string;
  kind: string;
  value: string;
  channel: string;
  reason: string;
  until_ms: Int64 | null;
  created_ms: Int64;
  created_by: string | null;
}

/**
 * A customer's group in one workflow's holdout, stored at first use and never recomputed.
 * `grp` is `treatment` | `holdout`; `via_customer_id` names the alias whose row this one was
 * copied from (null when it was hashed for this id).
 */
export interface HoldoutAssignmentsTable {
  workflow_id: string;
  customer_id: string;
  grp: string;
  bucket: number;
  percent: number;
  via_customer_id: string | null;
  assigned_ms: Int64;
}

export interface PolicyTables {
  contact_log: ContactLogTable;
  suppressions: SuppressionsTable;
  holdout_assignments: HoldoutAssignmentsTable;
}
