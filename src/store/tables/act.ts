/** Table shapes for the outbox, storefront directives, secrets and webhook endpoints (src/act). Times are epoch ms; JSON is text. */
import type { Int64 } from '../schema.ts';

/** One action request and its delivery state; `key` is the action's idempotency key. */
export interface OutboxTable {
  key: string;
  run_id: string;
  workflow_id: string;
  workflow_version: number;
  step_path: string;
  type: string;
  params: string;
  customer_id: string | null;
  subject: string | null;
  created_ms: Int64;
  /** pending | done | dead */
  status: string;
  attempts: number;
  /** When a claim may next take it: created / not-before, a retry time, or the lease expiry while claimed. */
  ready_ms: Int64;
  lease_token: string | null;
  last_error: string | null;
  /** JSON `ActionResult` of a completed action. */
  result: string | null;
  updated_ms: Int64;
  /** When it became done or dead. */
  finished_ms: Int64 | null;
}

/** What the storefront should show: a survey, a checkout offer or a message, scoped and with an expiry. */
export interface DirectivesTable {
  key: string;
  type: string;
  customer_id: string | null;
  cart_id: string | null;
  sku: string | null;
  region: string | null;
  payload: string;
  expires_ms: Int64;
  created_ms: Int64;
  consumed_ms: Int64 | null;
}

/** Named secrets (webhook signing keys, …); several versions while one is rotated. */
export interface SecretsTable {
  name: string;
  version: number;
  value: string;
  created_ms: Int64;
}

/** Webhook endpoints Pitwall stopped sending to (a 410 Gone), until re-enabled. */
export interface WebhookEndpointsTable {
  url: string;
  disabled_ms: Int64;
  reason: string;
}

export interface ActTables {
  outbox: OutboxTable;
  directives: DirectivesTable;
  secrets: SecretsTable;
  webhook_endpoints: WebhookEndpointsTable;
}
