/**
 * Compiling a definition: every expression in the scope of the place it sits in (see
 * docs/act/workflows.md#expressions), every event type against the catalogue, every action
 * against its executor. Validation reports the problems with their pointers; the runner gets a
 * `CompiledWorkflow` it can evaluate directly.
 */
import { AppError } from '../../core/index.ts';
import type { CompiledCondition, CompiledExpression, ExpectedType } from '../conditions/compile.ts';
import { suggest } from '../conditions/compile.ts';
import type { ConditionEnvironment, ConditionScope, ScopeSpec } from '../conditions/environment.ts';
import { type CompiledTemplate, compileTemplates } from '../conditions/templates.ts';
import { type CronSpec, parseCron, parseDuration } from './durations.ts';
import { joinPointer, type PendingProblem } from './source.ts';
import type { ExecutorLookup, KeyedTriggerEvent, Step, WorkflowDefinition } from './types.ts';

export interface CompiledKeyed {
  event: string;
  filter?: CompiledCondition;
  key: CompiledExpression;
}

export type CompiledTrigger =
  | { kind: 'event'; event: string; filter?: CompiledCondition }
  | { kind: 'absence'; first: CompiledKeyed; missing: CompiledKeyed; withinMs: number }
  | { kind: 'correlation'; events: [CompiledKeyed, CompiledKeyed]; withinMs: number; lookbackMs: number }
  | { kind: 'schedule'; cron: CronSpec; timezone: string };

export type CompiledStep =
  | { kind: 'action'; path: string; id?: string; action: string; params: CompiledTemplate }
  | { kind: 'wait'; path: string; id?: string; durationMs: number }
  | { kind: 'if'; path: string; id?: string; condition: CompiledCondition; then: CompiledStep[]; else: CompiledStep[] };

export interface CompiledWorkflow {
  readonly definition: WorkflowDefinition;
  readonly trigger: CompiledTrigger;
  /** The customer identifier expression (absent: the runner's default, event.userid else anonymousid). */
  readonly customer?: CompiledExpression;
  readonly conditions: readonly CompiledCondition[];
  readonly steps: readonly CompiledStep[];
  /** Every step by its path (`steps.0`, `steps.2.then.1`). */
  readonly stepsByPath: ReadonlyMap<string, CompiledStep>;
  readonly cancelOn: readonly { event: string; match?: CompiledCondition }[];
  readonly flow: {
    debounce?: { key: CompiledExpression; periodMs: number };
    throttle?: { key: CompiledExpression; limit: number; periodMs: number };
    concurrency?: { key: CompiledExpression; limit: number };
    idempotency?: CompiledExpression;
  };
  /** The scopes, for callers that compile more expressions (e.g. a trace's "why"). */
  readonly scopes: { main: ConditionScope; customer: ConditionScope };
}

/** The scope of the workflow's conditions and steps: `event` is the trigger's event (any event for a correlation). */
export function mainScopeSpec(def: WorkflowDefinition): ScopeSpec {
  const t = def.trigger;
  switch (t.kind) {
    case 'event':
      return { event: t.event, run: true, state: true };
    case 'absence':
      return { event: t.first.event, run: true, state: true };
    case 'correlation':
      return { event: 'any', correlated: [t.events[0].event, t.events[1].event], run: true, state: true };
    case 'schedule':
      return { run: true };
  }
}

const ms = (d: string) => parseDuration(d) ?? 0;

/**
 * Compiles every expression of `def`. Problems carry pointers into the YAML surface. With
 * `executors`, action types and parameters are checked too.
 */
export function compileDefinition(
  def: WorkflowDefinition,
  env: ConditionEnvironment,
  executors?: ExecutorLookup,
): { compiled?: CompiledWorkflow; problems: PendingProblem[] } {
  const problems: PendingProblem[] = [];
  const known = (type: string, path: (string | number)[]): boolean => {
    if (env.hasEventType(type)) return true;
    problems.push({
      pointer: joinPointer(path),
      message: `unknown event type "${type}"${suggest(type, env.eventTypeNames())}; register custom types with POST /v1/event-types`,
      code: 'PW_WORKFLOW_EVENT_TYPE',
    });
    return false;
  };
  const scopeOf = (spec: ScopeSpec) => env.scope(spec);
  function expr(
    source: string,
    scope: ConditionScope | undefined,
    path: (string | number)[],
    expect: 'bool',
  ): CompiledCondition | undefined;
  function expr(
    source: string,
    scope: ConditionScope | undefined,
    path: (string | number)[],
    expect: ExpectedType,
  ): CompiledExpression | undefined;
  function expr(source: string, scope: ConditionScope | undefined, path: (string | number)[], expect: ExpectedType) {
    if (!scope) return undefined;
    const r = scope.compile(source, expect);
    if (r.ok) return r.expression;
    problems.push({
      pointer: joinPointer(path),
      message: r.problem.message,
      code: r.problem.code,
      inString: { start: r.problem.start, end: r.problem.end },
    });
    return undefined;
  }

  // ── trigger ──
  const t = def.trigger;
  let trigger: CompiledTrigger | undefined;
  const keyedOf = (k: KeyedTriggerEvent, path: (string | number)[]): CompiledKeyed | undefined => {
    const scope = known(k.event, [...path, 'event']) ? scopeOf({ event: k.event, state: true }) : undefined;
    const filter = k.filter === undefined ? undefined : expr(k.filter, scope, [...path, 'filter'], 'bool');
    const key = expr(k.key, scope, [...path, 'key'], 'key');
    if (!key || (k.filter !== undefined && !filter)) return undefined;
    return { event: k.event, key, ...(filter ? { filter } : {}) };
  };
  switch (t.kind) {
    case 'event': {
      const scope = known(t.event, ['trigger', 'event']) ? scopeOf({ event: t.event, state: true }) : undefined;
      const filter = t.filter === undefined ? undefined : expr(t.filter, scope, ['trigger', 'filter'], 'bool');
      if (scope && (t.filter === undefined || filter)) trigger = { kind: 'event', event: t.event, ...(filter ? { filter } : {}) };
      break;
    }
    case 'absence': {
      const first = keyedOf(t.first, ['trigger', 'first']);
      const missing = keyedOf(t.missing, ['trigger', 'missing']);
      if (first && missing) trigger = { kind: 'absence', first, missing, withinMs: ms(t.within) };
      break;
    }
    case 'correlation': {
      const a = keyedOf(t.events[0], ['trigger', 'correlate', 0]);
      const b = keyedOf(t.events[1], ['trigger', 'correlate', 1]);
      const withinMs = ms(t.within);
      if (a && b)
        trigger = { kind: 'correlation', events: [a, b], withinMs, lookbackMs: t.lookback === undefined ? withinMs : ms(t.lookback) };
      break;
    }
    case 'schedule': {
      const cron = parseCron(t.cron);
      if (typeof cron !== 'string') trigger = { kind: 'schedule', cron, timezone: t.timezone ?? 'UTC' };
      break;
    }
  }

  // ── the main scope: conditions, steps; the customer scope: customer, flow keys ──
  const mainSpec = mainScopeSpec(def);
  const eventsKnown =
    t.kind === 'schedule' ||
    (t.kind === 'event' && env.hasEventType(t.event)) ||
    (t.kind === 'absence' && env.hasEventType(t.first.event)) ||
    (t.kind === 'correlation' && env.hasEventType(t.events[0].event) && env.hasEventType(t.events[1].event));
  const main = eventsKnown ? scopeOf(mainSpec) : undefined;
  const customerScope = eventsKnown ? scopeOf({ ...mainSpec, run: false, state: mainSpec.state === true }) : undefined;

  const customer = def.customer === undefined ? undefined : expr(def.customer, customerScope, ['customer'], 'string');
  const conditions = def.conditions.map((c, i) => expr(c, main, ['conditions', i], 'bool'));

  const stepsByPath = new Map<string, CompiledStep>();
  const stepsOf = (steps: Step[], path: (string | number)[], stepPath: string): (CompiledStep | undefined)[] =>
    steps.map((s, i) => {
      const p = [...path, i];
      const sp = `${stepPath}.${i}`;
      const id = s.id === undefined ? {} : { id: s.id };
      let out: CompiledStep | undefined;
      if (s.kind === 'wait') out = { kind: 'wait', path: sp, ...id, durationMs: ms(s.duration) };
      else if (s.kind === 'if') {
        const condition = expr(s.condition, main, [...p, 'if'], 'bool');
        const then = stepsOf(s.then, [...p, 'then'], `${sp}.then`);
        const otherwise = stepsOf(s.else, [...p, 'else'], `${sp}.else`);
        if (condition && then.every((x) => x) && otherwise.every((x) => x))
          // biome-ignore lint/suspicious/noThenProperty: `then` is the if-step's branch (act-design.md); never awaited
          out = { kind: 'if', path: sp, ...id, condition, then: then as CompiledStep[], else: otherwise as CompiledStep[] };
      } else {
        const exec = executors?.get(s.action);
        if (executors && !exec)
          problems.push({
            pointer: joinPointer([...p, 'action']),
            message: `unknown action type "${s.action}"${suggest(s.action, executors.keys())}; known: ${[...executors.keys()].sort().join(', ')}`,
            code: 'PW_WORKFLOW_ACTION',
          });
        for (const pp of exec?.validateParams(s.with) ?? [])
          problems.push({
            pointer: `${joinPointer([...p, 'with'])}${pp.pointer}`,
            message: `${s.action}: ${pp.message}`,
            code: 'PW_WORKFLOW_ACTION',
          });
        if (main) {
          const t2 = compileTemplates(s.with, main, exec?.templateParams ? { skip: exec.templateParams } : {});
          if (!t2.ok)
            for (const tp of t2.problems)
              problems.push({
                pointer: `${joinPointer([...p, 'with'])}${tp.pointer}`,
                message: tp.message,
                code: 'PW_WORKFLOW_CEL',
                inString: { start: tp.start, end: tp.end },
              });
          else if (!executors || exec) out = { kind: 'action', path: sp, ...id, action: s.action, params: t2.template };
        }
      }
      if (out) stepsByPath.set(sp, out);
      return out;
    });
  const steps = stepsOf(def.steps, ['steps'], 'steps');

  const cancelOn = def.cancelOn.map((c, i) => {
    const scope = known(c.event, ['cancelOn', i, 'event']) ? scopeOf({ event: c.event, run: true, state: true }) : undefined;
    if (!scope) return undefined;
    const match = c.match === undefined ? undefined : expr(c.match, scope, ['cancelOn', i, 'match'], 'bool');
    return c.match !== undefined && !match ? undefined : { event: c.event, ...(match ? { match } : {}) };
  });

  const flow: CompiledWorkflow['flow'] = {};
  const f = def.flow;
  if (f?.debounce) {
    const key = expr(f.debounce.key, customerScope, ['flow', 'debounce', 'key'], 'string');
    if (key) flow.debounce = { key, periodMs: ms(f.debounce.period) };
  }
  if (f?.throttle) {
    const key = expr(f.throttle.key, customerScope, ['flow', 'throttle', 'key'], 'string');
    if (key) flow.throttle = { key, limit: f.throttle.limit, periodMs: ms(f.throttle.period) };
  }
  if (f?.concurrency) {
    const key = expr(f.concurrency.key, customerScope, ['flow', 'concurrency', 'key'], 'string');
    if (key) flow.concurrency = { key, limit: f.concurrency.limit };
  }
  if (f?.idempotency) {
    const key = expr(f.idempotency, customerScope, ['flow', 'idempotency'], 'string');
    if (key) flow.idempotency = key;
  }

  if (executors && def.minutesSaved)
    for (const k of Object.keys(def.minutesSaved))
      if (!executors.has(k))
        problems.push({
          pointer: joinPointer(['minutesSaved', k]),
          message: `unknown action type "${k}"${suggest(k, executors.keys())}`,
          code: 'PW_WORKFLOW_ACTION',
          atKey: true,
        });

  if (problems.length > 0 || !trigger || !main || !customerScope) return { problems };
  return {
    problems,
    compiled: {
      definition: def,
      trigger,
      ...(customer ? { customer } : {}),
      conditions: conditions as CompiledCondition[],
      steps: steps as CompiledStep[],
      stepsByPath,
      cancelOn: cancelOn as { event: string; match?: CompiledCondition }[],
      flow,
      scopes: { main, customer: customerScope },
    },
  };
}

/**
 * Compiles a stored (validated) definition for the runner; throws `PW_WORKFLOW_INVALID` when it
 * no longer compiles (e.g. a custom event type it uses changed incompatibly).
 */
export function compileWorkflow(def: WorkflowDefinition, env: ConditionEnvironment, executors?: ExecutorLookup): CompiledWorkflow {
  const { compiled, problems } = compileDefinition(def, env, executors);
  if (!compiled)
    throw new AppError(
      'PW_WORKFLOW_INVALID',
      `workflow "${def.id}" does not compile: ${problems.map((p) => `${p.pointer}: ${p.message}`).join('; ')}`,
      {
        status: 422,
        extra: { problems: problems.map((p) => ({ pointer: p.pointer, message: p.message, code: p.code })) },
      },
    );
  return compiled;
}
