/**
 * A run's life, one transaction per change: start (trigger → conditions → holdout → steps),
 * resume (a wait or deferral timer fired), cancel (a cancelOn event while waiting). Each
 * transaction re-reads the run (locked on PostgreSQL), so a timer firing and a cancelling
 * event never both act on it; timers are scheduled / cancelled after the commit, and a run
 * found waiting without its timer (a crash in between) gets it back when next looked at.
 */
import type { Clock } from '../../core/index.ts';
import { type Db, type StateDb, type TimerStore, writeTransaction } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { canonicalCustomer, customerIdentifierOf } from './customer.ts';
import { advance, type EngineDeps, RunContext, wakeTimerKey } from './engine.ts';
import { allPaths, FIRST_STEP, nextPath } from './paths.ts';
import { indexCancelOn, loadRun, type RunState, runId, saveRun, type TraceEntry, type TriggerKind, unindexCancelOn } from './runs.ts';
import { StateView } from './state.ts';
import type { RunnableWorkflow, WorkflowCatalogue } from './workflows.ts';

/**
 * A run's transaction. On SQLite it commits without its own fsync (ADR 0011): whatever follows it
 * — the `automate` group's ack after the batch, the dispatcher's claim of an action it enqueued
 * (both fsynced, on the same WAL), or the next append — makes it durable. A run lost to a power
 * failure before that is made again: the batch or the timer fires again, and run ids and action
 * keys are deterministic.
 */
function runTransaction<T>(store: LifecycleDeps['store'], fn: (db: Db) => Promise<T>): Promise<T> {
  return writeTransaction(store, fn, { deferSync: true });
}

export interface LifecycleDeps extends EngineDeps {
  store: StateDb;
  timers: TimerStore;
  workflows: WorkflowCatalogue;
  clock: Clock;
  /** After a commit that enqueued actions. */
  onEnqueued?: () => void;
}

/** A trigger matched: what every trigger kind hands to `startRun`. */
export interface TriggerMatch {
  workflow: RunnableWorkflow;
  kind: TriggerKind;
  /** Identifies the match within the workflow (with the workflow id it makes the run id). */
  key: readonly (string | number)[];
  /** The triggering events, oldest first; the last is `event` in expressions. */
  events: CloudEvent[];
  /** The trigger's filter failed at run time: the run is recorded as skipped with the reason. */
  filterError?: { expression: string; error: string };
  /** Flow-control decisions that let the match through (debounced, queued…): `flow` trace entries. */
  flow?: Record<string, unknown>[];
  /** A flow control refused the match: the run is recorded as skipped with this outcome and trace entry. */
  flowSkip?: { outcome: string; detail: Record<string, unknown> };
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function subjectOf(e: CloudEvent | undefined): string | undefined {
  if (!e) return undefined;
  const d = e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data) ? (e.data as Record<string, unknown>) : {};
  return text(e.subject) ?? text(d.cart_id) ?? text(d.shipment_id) ?? text(d.sku) ?? text(d.part) ?? text(d.device_id) ?? text(d.vin);
}

/** Errors worth retrying the whole batch / firing for, rather than failing the run. */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (/^(08|40|53|57)[0-9A-Z]{3}$/.test(code)) return true; // PostgreSQL: connection, rollback, resources, shutdown
  return /^(SQLITE_(BUSY|LOCKED|IOERR|FULL)|ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)/.test(code);
}

function errorDetail(e: unknown): Record<string, unknown> {
  const code = (e as { code?: unknown } | null)?.code;
  return { code: typeof code === 'string' ? code : 'PW_RUN_UNEXPECTED', error: e instanceof Error ? e.message : String(e) };
}

async function afterCommit(deps: LifecycleDeps, ctx: RunContext): Promise<void> {
  if (ctx.enqueued > 0) deps.onEnqueued?.();
  if (ctx.timers.length > 0) await deps.timers.scheduleMany(ctx.timers);
  for (const key of ctx.cancelTimers) await deps.timers.cancel(key);
}

/** A waiting run whose timer is missing (a crash between commit and schedule) gets it back. */
export async function ensureWake(deps: LifecycleDeps, run: RunState): Promise<void> {
  if (run.status !== 'waiting' || run.wakeAt === undefined || run.wakeKind === undefined || run.stepPath === undefined) return;
  const key = wakeTimerKey(run.wakeKind, run.id, run.stepPath);
  if (!(await deps.timers.get(key))) await deps.timers.schedule(key, run.wakeAt, { runId: run.id, stepPath: run.stepPath });
}

/** Records a run that could not be carried out (the work's transaction was rolled back). */
async function recordFailure(deps: LifecycleDeps, run: RunState, isNew: boolean, before: readonly TraceEntry[], e: unknown) {
  await runTransaction(deps.store, async (db) => {
    const existing = await loadRun(db, run.id, deps.store.dialect === 'postgres');
    if (isNew && existing) return; // someone else started it meanwhile
    const base = existing ?? run;
    const now = deps.clock.now();
    const trace: TraceEntry[] = isNew ? before.map((t, i) => ({ ...t, seq: i })) : [];
    trace.push({ seq: isNew ? trace.length : base.traceCount, at: now, kind: 'error', stepPath: base.stepPath, detail: errorDetail(e) });
    const failed: RunState = {
      ...base,
      status: 'failed',
      outcome: 'error',
      actions: isNew ? 0 : base.actions,
      wakeAt: undefined,
      wakeKind: undefined,
      traceCount: (isNew ? 0 : base.traceCount) + trace.length,
      updatedAt: now,
      endedAt: now,
    };
    await saveRun(db, failed, existing === undefined, trace);
    await unindexCancelOn(db, run.id);
  });
}

/** Starts the run for a trigger match, once: a replayed match finds the run and changes nothing. */
export async function startRun(deps: LifecycleDeps, match: TriggerMatch): Promise<RunState> {
  const wf = match.workflow;
  const def = wf.definition;
  const event = match.events[match.events.length - 1];
  const now = deps.clock.now();
  const run: RunState = {
    id: runId(wf.id, match.kind, match.key),
    workflowId: wf.id,
    workflowVersion: wf.version,
    customerId: undefined,
    status: 'running',
    triggerKind: match.kind,
    triggerEventIds: match.events.map((e) => e.id),
    triggerEvents: match.events,
    subject: subjectOf(event),
    stepPath: undefined,
    wakeAt: undefined,
    wakeKind: undefined,
    actions: 0,
    outcome: undefined,
    startedAt: now,
    updatedAt: now,
    endedAt: undefined,
    traceCount: 0,
  };
  const seen: { ctx?: RunContext } = {};
  try {
    const existing = await runTransaction(deps.store, async (db) => {
      const found = await loadRun(db, run.id, deps.store.dialect === 'postgres');
      if (found) return found;
      const ctx = new RunContext(db, run, wf, new StateView(db, match.events, undefined), deps.clock);
      seen.ctx = ctx;
      let identifier: string | undefined;
      if (def.customer !== undefined) {
        const r = await ctx.evaluate(wf.value(def.customer));
        identifier = r.ok && typeof r.value === 'string' && r.value !== '' ? r.value : undefined;
        if (!r.ok) ctx.note('error', undefined, { customer: def.customer, error: r.error });
      } else identifier = await customerIdentifierOf(db, event);
      run.customerId = await canonicalCustomer(db, identifier);
      ctx.state = new StateView(db, match.events, run.customerId);
      ctx.note('trigger', undefined, {
        kind: match.kind,
        events: match.events.map((e) => ({ id: e.id, source: e.source, type: e.type, time: e.time })),
        ...(identifier !== undefined ? { identifier } : {}),
        customer: run.customerId ?? null,
      });
      await decide(ctx, deps, match);
      run.updatedAt = ctx.now;
      await saveRun(db, run, true, ctx.trace);
      if (run.status === 'waiting') await indexCancelOn(db, run, def.cancelOn);
      return undefined;
    });
    if (existing) {
      await ensureWake(deps, existing);
      return existing;
    }
  } catch (e) {
    if (isTransient(e)) throw e;
    await recordFailure(deps, run, true, seen.ctx?.trace ?? [], e);
    return run;
  }
  if (seen.ctx) await afterCommit(deps, seen.ctx);
  return run;
}

/** Conditions, holdout, then the steps. */
async function decide(ctx: RunContext, deps: LifecycleDeps, match: TriggerMatch): Promise<void> {
  const wf = ctx.wf;
  const def = wf.definition;
  for (const f of match.flow ?? []) ctx.note('flow', undefined, f);
  if (match.flowSkip) {
    ctx.note('flow', undefined, match.flowSkip.detail);
    return ctx.finish('skipped', match.flowSkip.outcome);
  }
  if (match.filterError) {
    ctx.note('condition', undefined, {
      expression: match.filterError.expression,
      filter: true,
      value: false,
      error: match.filterError.error,
    });
    return ctx.finish('skipped', 'filter_error');
  }
  for (const expression of def.conditions) {
    const r = await ctx.evaluate(wf.condition(expression));
    if (r.ok && r.value === true) {
      ctx.note('condition', undefined, { expression, value: true });
      continue;
    }
    ctx.note(
      'condition',
      undefined,
      r.ok ? { expression, value: r.value } : { expression, value: false, error: r.error, ...(r.missing ? { missing: r.missing } : {}) },
    );
    return ctx.finish('skipped', r.ok ? 'conditions_false' : 'condition_error');
  }
  if (def.holdoutPercent > 0) {
    if (ctx.run.customerId === undefined) {
      ctx.note('holdout', undefined, { assignment: 'treatment', percent: def.holdoutPercent, reason: 'no customer to assign' });
    } else {
      const assignment = await deps.policy.assignHoldout(ctx.db, def.id, ctx.run.customerId, def.holdoutPercent, ctx.now);
      if (assignment === 'holdout') {
        const actions = allPaths(def.steps).flatMap(({ path, step }) =>
          step.kind === 'action' ? [{ step: path, action: step.action }] : [],
        );
        ctx.note('holdout', undefined, { assignment, percent: def.holdoutPercent, would_have_acted: true, actions });
        return ctx.finish('holdout', 'holdout');
      }
      ctx.note('holdout', undefined, { assignment, percent: def.holdoutPercent });
    }
  }
  await advance(ctx, deps, def.steps.length > 0 ? FIRST_STEP : undefined);
}

/** A wait or deferral timer fired for `stepPath`: the run goes on from there, if it still waits for it. */
export async function resumeRun(deps: LifecycleDeps, id: string, kind: 'wait' | 'defer', stepPath: string): Promise<void> {
  const seen: { ctx?: RunContext; stale?: RunState; found?: boolean } = {};
  try {
    await runTransaction(deps.store, async (db) => {
      const run = await loadRun(db, id, deps.store.dialect === 'postgres');
      seen.found = run !== undefined;
      if (run?.status !== 'waiting') return;
      if (run.stepPath !== stepPath || run.wakeKind !== kind) {
        seen.stale = run;
        return;
      }
      const wf = await deps.workflows.get(db, run.workflowId, run.workflowVersion);
      if (!wf)
        throw Object.assign(new Error(`workflow ${run.workflowId} version ${run.workflowVersion} is gone`), {
          code: 'PW_RUN_WORKFLOW_MISSING',
        });
      const ctx = new RunContext(db, run, wf, new StateView(db, run.triggerEvents, run.customerId), deps.clock);
      seen.ctx = ctx;
      if (kind === 'wait') ctx.note('wait', stepPath, { resumed: true });
      await advance(ctx, deps, kind === 'wait' ? nextPath(wf.definition.steps, stepPath) : stepPath);
      run.updatedAt = ctx.now;
      await saveRun(db, run, false, ctx.trace);
      if (run.status !== 'waiting') await unindexCancelOn(db, run.id);
    });
  } catch (e) {
    if (isTransient(e) || !seen.found) throw e;
    const stored = await loadRun(deps.store.db, id);
    if (stored) await recordFailure(deps, stored, false, [], e);
    return;
  }
  if (seen.stale) await ensureWake(deps, seen.stale);
  if (seen.ctx) await afterCommit(deps, seen.ctx);
}

/**
 * An event that some waiting runs' cancelOn names: each candidate whose entry matches is
 * cancelled. An entry without `match` matches an event of the run's own customer; `event` in a
 * `match` is the cancelling event, the state is the run's (its trigger event and customer).
 */
export async function cancelRuns(deps: LifecycleDeps, event: CloudEvent, eventCustomer: string | undefined, ids: readonly string[]) {
  let cancelled = 0;
  for (const id of ids) {
    const seen: { ctx?: RunContext } = {};
    try {
      await runTransaction(deps.store, async (db) => {
        const run = await loadRun(db, id, deps.store.dialect === 'postgres');
        if (run?.status !== 'waiting') {
          await unindexCancelOn(db, id);
          return;
        }
        const wf = await deps.workflows.get(db, run.workflowId, run.workflowVersion);
        if (!wf) return;
        const ctx = new RunContext(db, run, wf, new StateView(db, run.triggerEvents, run.customerId), deps.clock);
        let matched: { match?: string } | undefined;
        for (const entry of wf.definition.cancelOn.filter((x) => x.event === event.type)) {
          if (entry.match === undefined) {
            if (eventCustomer !== undefined && eventCustomer === run.customerId) matched = entry;
          } else {
            const r = await ctx.evaluate(wf.condition(entry.match, event.type), event);
            if (r.ok && r.value === true) matched = entry;
            else if (!r.ok)
              ctx.note('error', run.stepPath, { cancel_on: event.type, expression: entry.match, event: event.id, error: r.error });
          }
          if (matched) break;
        }
        if (matched) {
          ctx.note('cancel', run.stepPath, {
            event: { id: event.id, source: event.source, type: event.type },
            match: matched.match ?? 'same customer',
          });
          if (run.wakeKind !== undefined && run.stepPath !== undefined)
            ctx.cancelTimers.push(wakeTimerKey(run.wakeKind, run.id, run.stepPath));
          ctx.finish('cancelled', 'cancelled');
          cancelled++;
        }
        if (ctx.trace.length === 0) return;
        run.updatedAt = ctx.now;
        await saveRun(db, run, false, ctx.trace);
        if (matched) await unindexCancelOn(db, run.id);
        seen.ctx = ctx;
      });
    } catch (e) {
      if (isTransient(e)) throw e;
      const stored = await loadRun(deps.store.db, id);
      if (stored?.status === 'waiting') await recordFailure(deps, stored, false, [], e);
      continue;
    }
    if (seen.ctx) await afterCommit(deps, seen.ctx);
  }
  return cancelled;
}
