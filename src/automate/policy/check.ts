/**
 * `checkContact`: the one contact policy every customer-reaching action passes, in this order —
 * channel (`ops` / `internal` always pass), suppression (skip), consent (skip), then the rules
 * that lift with time: quiet hours and frequency caps (defer until all of them have lifted).
 */
import type { Db } from '../../detect/index.ts';
import { getCustomer } from '../../state/index.ts';
import { isCustomerChannel } from './channel.ts';
import { capsFor, contactsOf, fullCaps } from './contacts.ts';
import type { ContactPolicySettings } from './settings.ts';
import { activeSuppression, suppressionsOf } from './suppressions.ts';
import type { ContactRequest, PolicyVerdict } from './types.ts';
import { isTimeZone, quietPeriodEnd } from './zone.ts';

const ALLOW: PolicyVerdict = { verdict: 'allow' };
/** Quiet periods and cap windows alternate at most this often before an answer is given anyway. */
const MAX_ROUNDS = 16;

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** Who the request is about: every id of the customer, their email hashes, time zone and consent. */
async function facts(db: Db, customerId: string, policy: ContactPolicySettings, purpose: string) {
  const c = await getCustomer(db, customerId);
  const tz = c?.traits.timezone;
  return {
    ids: c === undefined ? [customerId] : [customerId, ...c.userIds, ...c.anonymousIds],
    emailHashes: c?.emailHashes ?? [],
    zone: typeof tz === 'string' && isTimeZone(tz) ? tz : policy.defaultTimezone,
    /** The customer's latest statement for the purpose (as `hasConsent` answers); undefined when never stated. */
    consent: c?.consent[purpose]?.granted,
  };
}

/** Whether a contact may happen now, later (`defer` with `untilMs`) or not at all (`skip`); each with its reason. */
export async function checkContact(db: Db, policy: ContactPolicySettings, req: ContactRequest): Promise<PolicyVerdict> {
  if (!isCustomerChannel(req.channel)) return ALLOW;
  const purpose = req.purpose.trim().toLowerCase();
  const who = await facts(db, req.customerId, policy, purpose);

  const suppressed = activeSuppression(await suppressionsOf(db, who), req.channel, req.atMs);
  if (suppressed !== undefined)
    return {
      verdict: 'skip',
      code: 'PW_POLICY_SUPPRESSED',
      reason: `suppressed (${suppressed.kind === 'email' ? 'email hash' : 'customer id'}, ${suppressed.channel === 'all' ? 'all channels' : suppressed.channel}${suppressed.untilMs === undefined ? '' : ` until ${iso(suppressed.untilMs)}`}): ${suppressed.reason}`,
    };
  if (who.consent === false)
    return { verdict: 'skip', code: 'PW_POLICY_CONSENT_DENIED', reason: `the customer refused consent for ${purpose}` };
  if (who.consent === undefined && policy.consentDefaults[purpose] !== true)
    return { verdict: 'skip', code: 'PW_POLICY_CONSENT_MISSING', reason: `${purpose} needs consent and the customer never gave it` };
  if (policy.exemptPurposes.includes(purpose)) return ALLOW;

  const caps = capsFor(policy, req.channel);
  const longest = Math.max(0, ...caps.map((c) => c.rule.periodMs));
  const exempt = new Set(policy.exemptPurposes);
  const contacts =
    caps.length === 0 ? [] : (await contactsOf(db, who.ids, req.atMs - longest, req.atMs)).filter((c) => !exempt.has(c.purpose));
  const quiet = policy.quietHours?.channels.includes(req.channel) ? policy.quietHours : undefined;

  /** What blocks a contact at `t`, and the earliest time after `t` each lifts. */
  const blockers = (t: number) => {
    const out: { code: string; reason: string; untilMs: number }[] = [];
    const quietEnd = quiet === undefined ? undefined : quietPeriodEnd(t, quiet, who.zone);
    if (quiet !== undefined && quietEnd !== undefined)
      out.push({
        code: 'PW_POLICY_QUIET_HOURS',
        reason: `quiet hours ${hhmm(quiet.startMinute)}–${hhmm(quiet.endMinute)} in ${who.zone} for ${req.channel}`,
        untilMs: quietEnd,
      });
    for (const b of fullCaps(contacts, caps, req.channel, t))
      out.push({
        code: 'PW_POLICY_CAP',
        reason: `${b.scope === 'all' ? 'all channels' : b.scope} cap ${b.rule.text} reached (${b.count} in the window)`,
        untilMs: b.untilMs,
      });
    return out;
  };

  const first = blockers(req.atMs);
  if (first.length === 0) return ALLOW;
  // Lifting one rule may land in another (a cap frees up at 23:00, inside quiet hours): move on until none blocks.
  let t = Math.max(...first.map((b) => b.untilMs));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = blockers(t);
    if (now.length === 0) break;
    t = Math.max(...now.map((b) => b.untilMs));
  }
  const head = first[0] as (typeof first)[number];
  return { verdict: 'defer', untilMs: t, code: head.code, reason: `${first.map((b) => b.reason).join('; ')}; allowed again at ${iso(t)}` };
}
