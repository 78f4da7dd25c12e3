/**
 * Runs a workflow's steps inside one transaction: from a step path until the run waits (a
 * `wait` step or a policy deferral) or ends. Every action step asks the contact policy when
 * it reaches a customer and writes its action request to the outbox in the same transaction
 * as the run's new state; durable timers are returned as effects, scheduled after the commit.
 */

import type { ActionRequest } from '../../act/index.ts';
import type { Clock } from '../../core/index.ts';
import type { Db, NewTimer } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { parseDuration } from '../definitions/durations.ts';
import { correlatedActivation } from './correlated.ts';
import { branchStart, nextPath, stepAt } from './paths.ts';
import type { ActionTypes, ContactPolicy, Evaluation, OutboxWriter } from './ports.ts';
import { actionKey, type RunState, type TraceEntry, type TraceKind } from './runs.ts';
import type { StateView } from './state.ts';
import { render, templateExpressions } from './template.ts';
import type { Step } from './types.ts';
import type { Compiled, RunnableWorkflow } from './workflows.ts';

/** Timer keys the runner owns start with this prefix (the TimerRunner hands them to `fire`). */
export const AUTOMATE_TIMER_PREFIX = 'automate:';

export function wakeTimerKey(kind: 'wait' | 'defer', runId: string, stepPath: string): string {
  return `${AUTOMATE_TIMER_PREFIX}${kind}:${runId}:${stepPath}`;
}

/** The consent purpose when an action step names none (`purpose:` beside `action:`): the strictest, it needs consent. */
export const DEFAULT_PURPOSE = 'marketing';

export interface EngineDeps {
  clock: Clock;
  outbox: OutboxWriter;
  actions: ActionTypes;
  policy: ContactPolicy;
}

/** The `run` variable of expressions (Part B's `RunFacts`). */
export function runVariable(run: RunState): Record<string, unknown> {
  return {
    id: run.id,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    customer: run.customerId,
    startedAtMs: run.startedAt,
    triggerEventIds: run.triggerEventIds,
  };
}

/** One unit of work on a run: its trace entries and timers are collected and written at the end. */
export class RunContext {
  readonly trace: TraceEntry[] = [];
  readonly timers: NewTimer[] = [];
  readonly cancelTimers: string[] = [];
  /** Action requests written in this unit of work (the dispatcher is woken after the commit). */
  enqueued = 0;
  readonly now: number;

  constructor(
    readonly db: Db,
    readonly run: RunState,
    readonly wf: RunnableWorkflow,
    /** Replaced once the run's customer is known (the `customer` expression sees no customer state). */
    public state: StateView,
    clock: Clock,
  ) {
    this.now = clock.now();
  }

  /** The event expressions see: the latest triggering event. */
  get event(): CloudEvent | undefined {
    return this.run.triggerEvents[this.run.triggerEvents.length - 1];
  }

  note(kind: TraceKind, stepPath: string | undefined, detail: Record<string, unknown>): void {
    this.trace.push({ seq: this.run.traceCount++, at: this.now, kind, stepPath, detail });
  }

  /** The activation without state: the time, the event and the run. */
  base(event: CloudEvent | undefined = this.event): Record<string, unknown> {
    return {
      nowMs: this.now,
      event: event ?? null,
      run: runVariable(this.run),
      ...correlatedActivation(this.wf.definition, this.run.triggerEvents),
    };
  }

  /** Evaluates over the event, the run and the state the expression names (loaded lazily). */
  async evaluate<T>(c: Compiled<T>, event: CloudEvent | undefined = this.event): Promise<Evaluation<T> & { missing?: string[] }> {
    const activation = await this.state.activation(c.vars, this.base(event));
    const r = c.evaluate(activation);
    const missing = c.vars.filter((v) => this.state.missing.has(v));
    return missing.length > 0 && !r.ok ? { ...r, missing } : r;
  }

  /** Ends the run with a status; clears any wake-up. */
  finish(status: RunState['status'], outcome: string, stepPath?: string): void {
    this.run.status = status;
    this.run.outcome = outcome;
    if (stepPath !== undefined) this.run.stepPath = stepPath;
    this.run.wakeAt = undefined;
    this.run.wakeKind = undefined;
    this.run.endedAt = this.now;
  }

  /** Parks the run until a timer fires for `stepPath`. */
  sleep(kind: 'wait' | 'defer', stepPath: string, untilMs: number): void {
    this.run.status = 'waiting';
    this.run.stepPath = stepPath;
    this.run.wakeAt = untilMs;
    this.run.wakeKind = kind;
    this.timers.push({ key: wakeTimerKey(kind, this.run.id, stepPath), dueAt: untilMs, payload: { runId: this.run.id, stepPath } });
  }
}

/** Why an expression did not match, for the trace. */
function failure(r: { error: string; missing?: string[] }): Record<string, unknown> {
  return r.missing ? { error: r.error, missing: r.missing } : { error: r.error };
}

/**
 * Runs steps from `from` until the run waits or ends (completed, or failed on a step that cannot
 * be carried out). `from` undefined means the steps are done.
 */
export async function advance(ctx: RunContext, deps: EngineDeps, from: string | undefined): Promise<void> {
  const steps = ctx.wf.definition.steps;
  ctx.run.status = 'running';
  ctx.run.wakeAt = undefined;
  ctx.run.wakeKind = undefined;
  let path = from;
  while (path !== undefined) {
    ctx.run.stepPath = path;
    const step = stepAt(steps, path);
    if (!step) {
      ctx.note('error', path, { code: 'PW_RUN_STEP_MISSING', error: `version ${ctx.wf.version} has no step ${path}` });
      return ctx.finish('failed', 'step_missing');
    }
    switch (step.kind) {
      case 'wait': {
        const ms = parseDuration(step.duration);
        if (ms === undefined || ms <= 0) {
          ctx.note('error', path, { code: 'PW_RUN_STEP_INVALID', error: `wait "${step.duration}" is not a duration like 30m, 2h, 7d` });
          return ctx.finish('failed', 'step_invalid');
        }
        ctx.note('wait', path, { duration: step.duration, until: new Date(ctx.now + ms).toISOString() });
        return ctx.sleep('wait', path, ctx.now + ms);
      }
      case 'if': {
        const r = await ctx.evaluate(ctx.wf.condition(step.condition));
        const value = r.ok && r.value === true;
        ctx.note('condition', path, { expression: step.condition, ...(r.ok ? { value: r.value } : { value: false, ...failure(r) }) });
        path = branchStart(steps, path, value ? 'then' : 'else') ?? nextPath(steps, path);
        break;
      }
      case 'action': {
        const outcome = await act(ctx, deps, step, path);
        if (outcome === 'failed') return ctx.finish('failed', 'action_failed');
        if (outcome === 'deferred') return;
        path = nextPath(steps, path);
        break;
      }
    }
  }
  ctx.finish('completed', ctx.run.actions > 0 ? 'acted' : 'no_action');
}

type ActOutcome = 'done' | 'deferred' | 'failed';

/** One action step: render, ask the policy, enqueue (or skip / defer). */
async function act(ctx: RunContext, deps: EngineDeps, step: Extract<Step, { kind: 'action' }>, path: string): Promise<ActOutcome> {
  const type = deps.actions.get(step.action);
  if (!type) {
    ctx.note('error', path, { code: 'PW_RUN_ACTION_UNKNOWN', error: `no executor for action "${step.action}"` });
    return 'failed';
  }
  const skip = type.templateParams ?? [];
  const rendered = await renderParams(ctx, step.with, skip);
  if (!rendered.ok) {
    ctx.note('error', path, {
      code: 'PW_RUN_TEMPLATE',
      action: step.action,
      pointer: rendered.pointer,
      expression: rendered.expression,
      error: rendered.error,
    });
    return 'failed';
  }
  const params = rendered.value as Record<string, unknown>;
  const customerId = ctx.run.customerId;
  const purpose = step.purpose ?? DEFAULT_PURPOSE;
  const key = actionKey(ctx.run.id, path);
  if (type.reachesCustomer) {
    if (customerId === undefined) {
      ctx.note('policy', path, { action: step.action, verdict: 'skip', code: 'no_customer', reason: 'the run has no customer to check' });
      return 'done';
    }
    const req = { customerId, channel: type.channel, purpose, workflowId: ctx.run.workflowId, atMs: ctx.now };
    const verdict = await deps.policy.check(ctx.db, req);
    if (verdict.verdict === 'skip') {
      ctx.note('policy', path, { action: step.action, channel: type.channel, purpose, ...verdict });
      return 'done';
    }
    if (verdict.verdict === 'defer') {
      const until = new Date(verdict.untilMs).toISOString();
      if (ctx.wf.definition.onPolicyBlock === 'defer' && verdict.untilMs > ctx.now) {
        ctx.note('policy', path, {
          action: step.action,
          channel: type.channel,
          purpose,
          verdict: 'defer',
          until,
          code: verdict.code,
          reason: verdict.reason,
        });
        ctx.sleep('defer', path, verdict.untilMs);
        return 'deferred';
      }
      ctx.note('policy', path, {
        action: step.action,
        channel: type.channel,
        purpose,
        verdict: 'skip',
        code: verdict.code,
        reason: `${verdict.reason} (the workflow skips instead of deferring until ${until})`,
      });
      return 'done';
    }
    ctx.note('policy', path, { action: step.action, channel: type.channel, purpose, verdict: 'allow' });
    await deps.policy.record(ctx.db, { ...req, actionKey: key });
  }
  const request: ActionRequest = {
    key,
    runId: ctx.run.id,
    workflowId: ctx.run.workflowId,
    workflowVersion: ctx.run.workflowVersion,
    stepPath: path,
    type: step.action,
    params,
    ...(customerId !== undefined ? { customerId } : {}),
    ...(ctx.run.subject !== undefined ? { subject: ctx.run.subject } : {}),
    createdAtMs: ctx.now,
  };
  const notBefore = type.dispatchAt?.(params, ctx.now);
  if (notBefore !== undefined && Number.isSafeInteger(notBefore) && notBefore > ctx.now) request.notBeforeMs = notBefore;
  await deps.outbox.enqueue(ctx.db, [request]);
  ctx.run.actions++;
  ctx.enqueued++;
  ctx.note('action', path, {
    action: step.action,
    key,
    channel: type.channel,
    ...(request.notBeforeMs !== undefined ? { not_before: new Date(request.notBeforeMs).toISOString() } : {}),
    ...(step.id !== undefined ? { step: step.id } : {}),
  });
  return 'done';
}

/** Renders templates; the state they name is loaded first (rendering itself is synchronous). */
async function renderParams(ctx: RunContext, params: Record<string, unknown>, skip: readonly string[]) {
  const scoped = Object.fromEntries(Object.entries(params).filter(([k]) => !skip.includes(k)));
  const compiled = new Map([...templateExpressions(scoped)].map((e) => [e, ctx.wf.value(e)]));
  const vars = new Set([...compiled.values()].flatMap((c) => c.vars));
  const activation = await ctx.state.activation(vars, ctx.base());
  return render(params, (e) => (compiled.get(e) ?? ctx.wf.value(e)).evaluate(activation), { skip });
}
