/**
 * The contact policy: one set of rules every action that reaches a customer passes, whatever
 * its channel or workflow (docs/act/policy.md).
 *
 * Terminology:
 * - **contact**: an action that reached a customer on a channel for a purpose; recorded
 *   (`recordContact`, table `contact_log`) in the transaction that enqueues the action.
 * - **channel**: survey, onsite, email, webhook, reminder reach a customer; `ops` and
 *   `internal` never do and always pass.
 * - **purpose**: what a contact is for, as consent is stated (`marketing`, `service`,
 *   `transactional`, …).
 * - **cap**: at most n contacts in any rolling window, per channel and across channels (`all`).
 * - **quiet hours**: a daily local-time period, in the customer's time zone, with no contact.
 * - **suppression**: "do not contact" for a customer id or an email hash, all or one channel.
 * - **consent default**: whether a purpose is allowed when the customer never said.
 * - **verdict**: `allow`, `skip` (not now, not later) or `defer` (allowed at `untilMs`), with a
 *   code and a reason; the workflow's `onPolicyBlock` says whether a defer waits or skips.
 */
export { type Channel, CUSTOMER_CHANNELS, type CustomerChannel, isCustomerChannel } from './channel.ts';
export { checkContact } from './check.ts';
export { type CapBlock, type Contact, capsFor, contactsOf, fullCaps, recordContact } from './contacts.ts';
export {
  type CapRule,
  type CapScope,
  type ContactPolicySettings,
  capRule,
  DEFAULT_POLICY_SETTINGS,
  parseDuration,
  parsePolicySettings,
  policyPurposes,
  type QuietHours,
} from './settings.ts';
export {
  activeSuppression,
  addSuppression,
  getSuppression,
  listSuppressions,
  type NewSuppression,
  removeSuppression,
  type Suppression,
  type SuppressionKind,
  suppressionChannel,
  suppressionId,
  suppressionsOf,
  suppressionTarget,
} from './suppressions.ts';
export type { ContactRequest, PolicyVerdict } from './types.ts';
export { firstInstantAt, isTimeZone, type LocalTime, localTime, quietPeriodEnd } from './zone.ts';
