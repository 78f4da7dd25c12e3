/**
 * Act: the durable outbox, the dispatcher and the executors (the built-in actions).
 *
 * Terminology:
 * - **action request**: what a workflow step asks to be done (`type` + rendered `params`),
 *   written by the runner into the outbox in the same transaction as the run's step state.
 * - **outbox**: the table of action requests and their delivery state (pending → done | dead).
 * - **idempotency key** (`key`): `deterministicId('pitwall.action', runId, stepPath)`. It is the
 *   outbox key, so enqueueing the same step twice stores one action, and it travels to the
 *   receiver (a webhook's `webhook-id`, an email's `Message-ID`, an emitted event's id, a
 *   directive's key), so a repeat after a crash is recognisably the same action.
 * - **claim**: taking ready actions to execute them; each claim gets a fresh **token**, and only
 *   its holder can complete, retry or dead-letter the action.
 * - **lease**: how long a claim is exclusive. A dispatcher that dies never completes; when its
 *   lease runs out the action is ready again and another claim takes it (same key).
 * - **attempt**: one claim of an action; `attempts` counts them since it was enqueued or replayed.
 * - **dead letter**: an action that failed for good (`NonRetriableError`, or `maxAttempts`
 *   failures); it stays with its last error until someone replays it.
 * - **executor**: the code for one action type; it says which contact-policy channel it uses,
 *   whether it reaches a customer, and how many manual minutes it saves.
 * - **directive**: what a storefront action leaves for the decision API to serve (a survey, a
 *   checkout offer, a SKU/region message, a recommendation), scoped and with an expiry.
 *
 * Guarantee: every enqueued action is executed at least once until it is done or dead, across
 * crashes; every execution of it carries the same key. Docs: docs/act/outbox.md, docs/act/actions.md.
 */
import type { Clock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { PostgresOutbox } from './postgres-outbox.ts';
import { SqlSecretStore } from './secrets.ts';
import { SqliteOutbox } from './sqlite-outbox.ts';
import type { Outbox, SecretStore } from './types.ts';

export { alertExecutor } from './alert.ts';
export { type BuiltInOptions, builtInExecutors } from './builtins.ts';
export {
  activeDirectives,
  checkoutOfferExecutor,
  consumeDirective,
  DIRECTIVE_TYPES,
  type Directive,
  type DirectiveScope,
  type DirectiveType,
  getDirective,
  pruneDirectives,
  rowToDirective,
  storefrontMessageExecutor,
  surveyShowExecutor,
} from './directives.ts';
export { DISPATCH_DEFAULTS, Dispatcher, type DispatcherOptions, type DispatchTick, executorRegistry, retryDelayMs } from './dispatcher.ts';
export { emailExecutor, Mailer, type MailMessage, type MailSettings } from './email.ts';
export { type EventValidator, emitExecutor, workflowSource } from './emit.ts';
export { type DisabledEndpoint, disableEndpoint, enableEndpoint, isEndpointDisabled, listDisabledEndpoints } from './endpoints.ts';
export { errorText, NonRetriableError, RetryAfterError } from './errors.ts';
export { guardConnector, OutboundHttp, type OutboundOptions } from './outbound.ts';
export { parseDuration } from './params.ts';
export { seededRandom } from './random.ts';
export { RECOMMEND_KINDS, type RecommendKind, rankRecommendations, recommendExecutor, toVehicle } from './recommend.ts';
export { parseRfc3339, REMINDER_DUE_EVENT, reminderDueAt, reminderScheduleExecutor } from './reminder.ts';
export { checkSecretName, generateWebhookSecret, KEPT_PREVIOUS } from './secrets.ts';
export { type ActSettings, parseActSettings } from './settings.ts';
export { signatureHeaders } from './signing.ts';
export { type Cidr, checkUrl, forbiddenReason, guardedLookup, parseAllowList, type Resolver, systemResolver } from './ssrf.ts';
export { renderTemplate, templateProblems } from './template.ts';
export type {
  ActionExecutor,
  ActionQuery,
  ActionRequest,
  ActionResult,
  ActionStatus,
  Channel,
  ClaimedAction,
  ExecutorContext,
  Outbox,
  ParamProblem,
  SecretStore,
  StoredAction,
} from './types.ts';
export { retryAfterMs, type WebhookDelivery, WebhookSender, webhookExecutor } from './webhook.ts';

/** The outbox for the configured store: single writer (SQLite) or SKIP LOCKED (PostgreSQL). */
export function openOutbox(store: Store, clock: Clock): Outbox {
  return store.singleWriter ? new SqliteOutbox(store, clock) : new PostgresOutbox(store, clock);
}

/** The secret store in the configured database. */
export function openSecretStore(store: Store, clock: Clock): SecretStore {
  return new SqlSecretStore(store, clock);
}
