/**
 * Automate: workflow definitions, CEL conditions, triggers, contact policy, holdouts, the runner
 * and backtests (docs/act/). The outbox and the executors live in src/act.
 *
 * Words:
 * - **workflow**: a versioned definition (YAML, `schemaVersion: 1`): a trigger, conditions and steps.
 *   Every save is a new **version**; a run keeps the version it started with.
 * - **trigger**: what starts a run — an event (with a filter), a sequence/absence, a correlation of
 *   two events within a window, or a schedule.
 * - **condition**: a CEL expression over the event, the run and the state; all must be true.
 * - **scope**: the variables an expression may read at its place in a workflow, with their types.
 * - **run**: one execution of one workflow version for one trigger match.
 * - **step**: an action, a durable wait, or an if/else; a step's **path** is `steps.0`, `steps.2.then.1`.
 * - **action**: a request to an executor (src/act), written to the outbox with its idempotency key.
 * - **holdout**: customers deliberately left out of a workflow, to measure its uplift.
 * - **policy**: the one contact policy (caps, quiet hours, suppression, consent) every customer-facing action passes.
 */

// ── definitions and conditions (Part B; docs/act/workflows.md) ──────────────────────────────
export {
  type CompiledCondition,
  type CompiledExpression,
  type CompileProblem,
  compileCondition,
  compileExpression,
  type EvalResult,
  type ExpectedType,
} from './conditions/compile.ts';
export { fromCel } from './conditions/convert.ts';
export {
  type Activation,
  ConditionEnvironment,
  type ConditionLimits,
  ConditionScope,
  DEFAULT_LIMITS,
  type ScopeSpec,
} from './conditions/environment.ts';
export type { EventTypeLookup } from './conditions/event-shapes.ts';
export {
  type PartStatusFacts,
  type RunFacts,
  STATE_VARIABLE_NAMES,
  type StockFacts,
  type StockLevelFacts,
  type VehicleFacts,
  type WearTrendFacts,
} from './conditions/state-shapes.ts';
export { type CompiledTemplate, compileTemplates, type TemplateProblem } from './conditions/templates.ts';
export {
  type CompiledKeyed,
  type CompiledStep,
  type CompiledTrigger,
  type CompiledWorkflow,
  compileDefinition,
  compileWorkflow,
  mainScopeSpec,
} from './definitions/compile.ts';
export { type CronSpec, isTimeZone, nextCronTime, parseCron, parseDuration } from './definitions/durations.ts';
export {
  DEFAULT_WORKFLOWS_DIR,
  invalid as workflowInvalid,
  type LoadOptions,
  type LoadResult,
  listWorkflowFiles,
  loadWorkflowsDir,
  type PutOptions,
  putWorkflow,
  readWorkflowFile,
  workflowsDirOf,
} from './definitions/files.ts';
export {
  assertWritable,
  getWorkflow,
  listWorkflows,
  type SaveMeta,
  type StoredWorkflow,
  saveWorkflow,
  type WorkflowSourceKind,
  type WorkflowVersionInfo,
  workflowVersions,
} from './definitions/store.ts';
export type {
  ExecutorInfo,
  ExecutorLookup,
  FlowControl,
  KeyedTriggerEvent,
  Step,
  Trigger,
  TriggerEvent,
  WorkflowDefinition,
  WorkflowProblem,
} from './definitions/types.ts';
export { DEFAULT_PURPOSES } from './definitions/types.ts';
export {
  formatProblem,
  locatePointer,
  type ParseResult as WorkflowParseResult,
  parseWorkflow,
  type ValidateOptions,
  type ValidationResult,
  validateWorkflow,
} from './definitions/validate.ts';

// ── end of definitions and conditions ───────────────────────────────────────────────────────

// ── backtests (docs/act/backtest.md) ──
export { type BacktestOptions, type BacktestReport, type BacktestRun, backtestWorkflow, summarizeRuns } from './backtest/backtest.ts';
export { actionTypesOf, type BacktestRequest, parseBacktestTime, runBacktest } from './backtest/request.ts';
// ── contact policy and holdouts (Part D; docs/act/policy.md) ─────────────────────────────────
export {
  assignHoldout,
  getHoldoutAssignment,
  groupOf,
  type HoldoutAssignment,
  type HoldoutGroup,
  holdoutBucket,
} from './holdouts/index.ts';
export {
  activeSuppression,
  addSuppression,
  type CapRule,
  type CapScope,
  type ContactPolicySettings,
  type ContactRequest,
  CUSTOMER_CHANNELS,
  type CustomerChannel,
  checkContact,
  contactsOf,
  DEFAULT_POLICY_SETTINGS,
  getSuppression,
  isCustomerChannel,
  listSuppressions,
  type NewSuppression,
  type PolicyVerdict,
  parsePolicySettings,
  policyPurposes,
  type QuietHours,
  recordContact,
  removeSuppression,
  type Suppression,
  type SuppressionKind,
  suppressionChannel,
  suppressionId,
  suppressionsOf,
  suppressionTarget,
} from './policy/index.ts';
// ── the runner (Part C; docs/act/runner.md) ──────────────────────────────────────────────────
export * from './runner/index.ts';
