/** The contact policy's request and verdict (the contract the runner codes against). */
import type { Channel } from './channel.ts';

export interface ContactRequest {
  /** The canonical customer id (any of the customer's ids works: the policy looks at all of them). */
  customerId: string;
  channel: Channel;
  /** Consent purpose, e.g. `marketing`, `service`, `transactional` (case-insensitive). */
  purpose: string;
  workflowId: string;
  atMs: number;
}

/**
 * `skip`: not now and not later (suppressed, no consent). `defer`: not now, but the rules
 * that block it lift at `untilMs` (quiet hours end, a cap window rolls on): ask again then.
 * A workflow with `onPolicyBlock: skip` treats a `defer` as a skip.
 */
export type PolicyVerdict =
  | { verdict: 'allow' }
  | { verdict: 'skip'; code: string; reason: string }
  | { verdict: 'defer'; untilMs: number; code: string; reason: string };
