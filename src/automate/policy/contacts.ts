/**
 * Contacts that happened (table `contact_log`) and the frequency caps over them: at most
 * `limit` contacts in any rolling window of `period`, per channel and across channels (`all`).
 */
import type { Db } from '../../detect/index.ts';
import { isCustomerChannel } from './channel.ts';
import type { CapRule, CapScope, ContactPolicySettings } from './settings.ts';
import type { ContactRequest } from './types.ts';

/** A contact as the caps see it. */
export interface Contact {
  channel: string;
  purpose: string;
  atMs: number;
}

const CHUNK = 500;

/**
 * Records a contact that happened, in the caller's transaction (the one that enqueues the
 * action). Idempotent by `actionKey`; `ops` and `internal` reach no customer and are not recorded.
 */
export async function recordContact(db: Db, req: ContactRequest & { actionKey: string }): Promise<void> {
  if (!isCustomerChannel(req.channel)) return;
  await db
    .insertInto('contact_log')
    .values({
      action_key: req.actionKey,
      customer_id: req.customerId,
      channel: req.channel,
      purpose: req.purpose.trim().toLowerCase(),
      workflow_id: req.workflowId,
      at_ms: req.atMs,
    })
    .onConflict((oc) => oc.column('action_key').doNothing())
    .execute();
}

/** Contacts of any of `customerIds` with `afterMs < at ≤ untilMs`. */
export async function contactsOf(db: Db, customerIds: readonly string[], afterMs: number, untilMs: number): Promise<Contact[]> {
  const out: Contact[] = [];
  const ids = [...new Set(customerIds)];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('contact_log')
      .select(['channel', 'purpose', 'at_ms'])
      .where('customer_id', 'in', ids.slice(i, i + CHUNK))
      .where('at_ms', '>', afterMs)
      .where('at_ms', '<=', untilMs)
      .execute();
    for (const r of rows) out.push({ channel: r.channel, purpose: r.purpose, atMs: Number(r.at_ms) });
  }
  return out;
}

/** The caps that apply to a contact on `channel`: the channel's own, then `all`. */
export function capsFor(policy: ContactPolicySettings, channel: string): { scope: CapScope; rule: CapRule }[] {
  const scopes: CapScope[] = isCustomerChannel(channel) ? [channel, 'all'] : [];
  return scopes.flatMap((scope) => (policy.caps[scope] ?? []).map((rule) => ({ scope, rule })));
}

export interface CapBlock {
  scope: CapScope;
  rule: CapRule;
  /** Contacts in the window at the time asked. */
  count: number;
  /** When the window has room again (the limit-th most recent contact leaves it). */
  untilMs: number;
}

/**
 * The caps full at `t` for one more contact on `channel`, given the contacts counted
 * (already without exempt purposes); the latest release first. Empty when there is room.
 */
export function fullCaps(
  contacts: readonly Contact[],
  caps: readonly { scope: CapScope; rule: CapRule }[],
  channel: string,
  t: number,
): CapBlock[] {
  const blocks: CapBlock[] = [];
  for (const { scope, rule } of caps) {
    const times = contacts
      .filter((c) => (scope === 'all' || c.channel === channel) && c.atMs > t - rule.periodMs && c.atMs <= t)
      .map((c) => c.atMs)
      .sort((a, b) => b - a);
    const kth = times[rule.limit - 1];
    if (kth !== undefined) blocks.push({ scope, rule, count: times.length, untilMs: kth + rule.periodMs });
  }
  return blocks.sort((a, b) => b.untilMs - a.untilMs);
}
