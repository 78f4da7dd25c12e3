/**
 * A run's life, one savepoint per change: start (trigger → conditions → holdout → steps),
 * resume (a wait or deferral timer fired), cancel (a cancelOn event while waiting). Changes made
 * together — the starts of one batch, the cancellations one event causes — share one write
 * transaction, each in its own savepoint (ADR 0019): a run that fails rolls back to its savepoint
 * only and is recorded as failed in the same transaction. Each change re-reads the run (locked on
 * PostgreSQL), so a timer firing and a cancelling event never both act on it; timers are
 * scheduled / cancelled after the commit, and a run found waiting without its timer (a crash in
 * between) gets it back when next looked at.
 */
import { sql } from 'kysely';
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
 * Most run changes one write transaction holds (ADR 0019): enough that a busy batch takes the
 * write lock a few times instead of once per run, few enough that the log's writer thread (ingest
 * commits, acks) never waits long behind it.
 */
export const RUNS_PER_TRANSACTION = 64;

/**
 * Run changes in write transactions, `RUNS_PER_TRANSACTION` at a time, each item in its own
 * savepoint. An error worth retrying (`isTransient`) rolls the whole transaction back and is
 * rethrown, so the batch or the timer is retried; any other error rolls back to the item's
 * savepoint and `failed` records it in the same transaction. On SQLite the transaction commits
 * without its own fsync (ADR 0011): whatever follows it — the `automate` group's ack after the
 * batch, the dispatcher's claim of an action it enqueued (both fsynced, on the same WAL), or the
 * next append — makes it durable. A run lost to a power failure before that is made again: the
 * batch or the timer fires again, and run ids and action keys are deterministic.
 */
async function inSavepoints<I, R>(
  store: LifecycleDeps['store'],
  items: readonly I[],
  work: (db: Db, item: I) => Promise<R>,
  failed: (db: Db, item: I, e: unknown) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let start = 0; start < items.length; start += RUNS_PER_TRANSACTION) {
    const chunk = items.slice(start, start + RUNS_PER_TRANSACTION);
    const results = await writeTransaction(
      store,
      async (db) => {
        const done: R[] = [];
        for (const item of chunk) {
          await sql`savepoint pw_run`.execute(db);
          try {
            done.push(await work(db, item));
          } catch (e) {
            if (isTransient(e)) throw e;
            await sql`rollback to savepoint pw_run`.execute(db);
            await sql`release savepoint pw_run`.execute(db);
            done.push(await failed(db, item, e));
            continue;
          }
          await sql`release savepoint pw_run`.execute(db);
        }
        return done;
      },
      { deferSync: true },
    );
    out.push(...results);
  }
  return out;
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

/** Timers and the dispatcher's wake-up for the changes just committed (one call for all of them). */
async function afterCommit(deps: LifecycleDeps, ctxs: readonly (RunContext | undefined)[]): Promise<void> {
  const done = ctxs.filter((c): c is RunContext => c !== undefined);
  if (done.some((c) => c.enqueued > 0)) deps.onEnqueued?.();
  const timers = done.flatMap((c) => c.timers);
  if (timers.length > 0) await deps.timers.scheduleMany(timers);
  for (const key of done.flatMap((c) => c.cancelTimers)) await deps.timers.cancel(key);
}

/** A waiting run whose timer is missing (a crash between commit and schedule) gets it back. */
export async function ensureWake(deps: LifecycleDeps, run: RunState): Promise<void> {
  if (run.status !== 'waiting' || run.wakeAt === undefined || run.wakeKind === undefined || run.stepPath === undefined) return;
  const key = wakeTimerKey(run.wakeKind, run.id, run.stepPath);
  if (!(await deps.timers.get(key))) await deps.timers.schedule(key, run.wakeAt, { runId: run.id, stepPath: run.stepPath });
}

/** Records a run that could not be carried out (its savepoint was rolled back); returns it as stored. */
async function recordFailure(
  db: Db,
  deps: LifecycleDeps,
  run: RunState,
  isNew: boolean,
  before: readonly TraceEntry[],
  e: unknown,
): Promise<RunState> {
  const existing = await loadRun(db, run.id, deps.store.dialect === 'postgres');
  if (isNew && existing) return existing; // someone else started it meanwhile
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
  return failed;
}

/** Starts the run for a trigger match, once: a replayed match finds the run and changes nothing. */
export async function startRun(deps: LifecycleDeps, match: TriggerMatch): Promise<RunState> {
  return (await startRuns(deps, [match]))[0] as RunState;
}

/**
 * Starts the runs for several trigger matches (a batch's), in order, sharing write transactions
 * (one savepoint each); returns each run as it stands after its change.
 */
export async function startRuns(deps: LifecycleDeps, matches: readonly TriggerMatch[]): Promise<RunState[]> {
  type Started = { run: RunState; ctx?: RunContext; existing?: RunState };
  const items = matches.map((match) => ({ match, run: newRun(deps, match), seen: {} as { ctx?: RunContext } }));
  const results = await inSavepoints<(typeof items)[number], Started>(
    deps.store,
    items,
    async (db, { match, run, seen }) => {
      const found = await loadRun(db, run.id, deps.store.dialect === 'postgres');
      if (found) return { run: found, existing: found };
      const wf = match.workflow;
      const def = wf.definition;
      const event = match.events[match.events.length - 1];
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
      return { run, ctx };
    },
    async (db, { run, seen }, e) => ({ run: await recordFailure(db, deps, run, true, seen.ctx?.trace ?? [], e) }),
  );
  for (const r of results) if (r.existing) await ensureWake(deps, r.existing);
  await afterCommit(
    deps,
    results.map((r) => r.ctx),
  );
  return results.map((r) => r.run);
}

function newRun(deps: LifecycleDeps, match: TriggerMatch): RunState {
  const wf = match.workflow;
  const now = deps.clock.now();
  return {
    id: runId(wf.id, match.kind, match.key),
    workflowId: wf.id,
    workflowVersion: wf.version,
    customerId: undefined,
    status: 'running',
    triggerKind: match.kind,
    triggerEventIds: match.events.map((e) => e.id),
    triggerEvents: match.events,
    subject: subjectOf(match.events[match.events.length - 1]),
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
  type Resumed = { ctx?: RunContext; stale?: RunState };
  const [r] = await inSavepoints<string, Resumed>(
    deps.store,
    [id],
    async (db) => {
      const run = await loadRun(db, id, deps.store.dialect === 'postgres');
      if (run?.status !== 'waiting') return {};
      if (run.stepPath !== stepPath || run.wakeKind !== kind) return { stale: run };
      const wf = await deps.workflows.get(db, run.workflowId, run.workflowVersion);
      if (!wf)
        throw Object.assign(new Error(`workflow ${run.workflowId} version ${run.workflowVersion} is gone`), {
          code: 'PW_RUN_WORKFLOW_MISSING',
        });
      const ctx = new RunContext(db, run, wf, new StateView(db, run.triggerEvents, run.customerId), deps.clock);
      if (kind === 'wait') ctx.note('wait', stepPath, { resumed: true });
      await advance(ctx, deps, kind === 'wait' ? nextPath(wf.definition.steps, stepPath) : stepPath);
      run.updatedAt = ctx.now;
      await saveRun(db, run, false, ctx.trace);
      if (run.status !== 'waiting') await unindexCancelOn(db, run.id);
      return { ctx };
    },
    async (db, _id, e) => {
      const stored = await loadRun(db, id, deps.store.dialect === 'postgres');
      if (!stored) throw e;
      await recordFailure(db, deps, stored, false, [], e);
      return {};
    },
  );
  if (r?.stale) await ensureWake(deps, r.stale);
  await afterCommit(deps, [r?.ctx]);
}

/**
 * An event that some waiting runs' cancelOn names: each candidate whose entry matches is
 * cancelled (all of them in one transaction, a savepoint each). An entry without `match` matches
 * an event of the run's own customer; `event` in a `match` is the cancelling event, the state is
 * the run's (its trigger event and customer).
 */
export async function cancelRuns(deps: LifecycleDeps, event: CloudEvent, eventCustomer: string | undefined, ids: readonly string[]) {
  type Cancelled = { ctx?: RunContext; cancelled: boolean };
  const results = await inSavepoints<string, Cancelled>(
    deps.store,
    ids,
    async (db, id) => {
      const run = await loadRun(db, id, deps.store.dialect === 'postgres');
      if (run?.status !== 'waiting') {
        await unindexCancelOn(db, id);
        return { cancelled: false };
      }
      const wf = await deps.workflows.get(db, run.workflowId, run.workflowVersion);
      if (!wf) return { cancelled: false };
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
      }
      if (ctx.trace.length === 0) return { cancelled: false };
      run.updatedAt = ctx.now;
      await saveRun(db, run, false, ctx.trace);
      if (matched) await unindexCancelOn(db, run.id);
      return { ctx, cancelled: matched !== undefined };
    },
    async (db, id, e) => {
      const stored = await loadRun(db, id, deps.store.dialect === 'postgres');
      if (stored?.status === 'waiting') await recordFailure(db, deps, stored, false, [], e);
      return { cancelled: false };
    },
  );
  await afterCommit(
    deps,
    results.map((r) => r.ctx),
  );
  return results.filter((r) => r.cancelled).length;
}
