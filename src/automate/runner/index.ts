/**
 * The runner: turns log events into runs of workflows, and runs into actions (docs/act/runner.md).
 *
 * Terminology:
 * - **trigger**: what starts a workflow: an event type with an optional filter, an absence
 *   (`first`, then no `missing` within a window), a correlation of two events in either order, or
 *   a cron schedule. A **trigger match** (a workflow + the events that matched + a key) starts at
 *   most one run. Absence / correlation keep **pending halves** (table `trigger_pending`).
 * - **flow control**: debounce, idempotency, throttle, concurrency between a match and its run;
 *   each decision is a `flow` trace entry (a refused match is a skipped run saying why).
 * - **run**: one workflow version carried out for one trigger match; its id is
 *   `deterministicId('pitwall.run', workflow id, trigger kind, trigger key…)`, so a replayed
 *   batch finds it. Statuses: running → waiting ⇄ running → completed | cancelled | failed, or
 *   at once skipped (conditions false) or holdout ("would have acted").
 * - **step path**: where a run is (`steps.0`, `steps.2.then.1`); with the run id it makes the
 *   action's idempotency key and the wait timer's key.
 * - **condition**: a CEL expression over `event`, `run` and the state it names (loaded lazily);
 *   a run-time error is a non-match with its reason in the trace.
 * - **wait**: a durable timer `automate:wait:<run>:<path>`; a policy **deferral** is a timer
 *   `automate:defer:<run>:<path>` after which the action step is tried again.
 * - **cancelOn**: an event that cancels a waiting run (without `match`: one of the run's customer).
 * - **trace**: what happened in a run, in order (trigger, condition, policy, holdout, action,
 *   wait, cancel, error) — what `GET /v1/runs/:id` and "why" answer from.
 */
export { type ContactPolicyParts, contactPolicy, expressionsFrom, type WorkflowRepository, workflowsFrom } from './adapters.ts';
export { canonicalCustomer, customerIdentifierOf } from './customer.ts';
export { AUTOMATE_TIMER_PREFIX, DEFAULT_PURPOSE, wakeTimerKey } from './engine.ts';
export { debounceTimerKey, IDEMPOTENCY_WINDOW_MS } from './flow.ts';
export type { TriggerMatch } from './lifecycle.ts';
export type {
  ActionTypes,
  ContactPolicy,
  Evaluation,
  Evaluator,
  ExpressionCompiler,
  ExpressionSite,
  OutboxWriter,
  WorkflowVersions,
} from './ports.ts';
export {
  AUTOMATE_GROUP,
  type Automation,
  type AutomationOptions,
  createRunner,
  type Runner,
  type RunnerOptions,
  startAutomation,
} from './runner.ts';
export {
  actionKey,
  countRunsSince,
  decodeRunCursor,
  encodeRunCursor,
  getRun,
  listRuns,
  RUN_STATUSES,
  type Run,
  type RunQuery,
  type RunStatus,
  runId,
  runTrace,
  TRACE_KINDS,
  type TraceEntry,
  type TraceKind,
  type TriggerKind,
} from './runs.ts';
export { scheduleTimerKey } from './schedules.ts';
export { absenceTimerKey } from './sequences.ts';
export { explainRuns, type RunExplanation, type WhyAnswer } from './why.ts';
