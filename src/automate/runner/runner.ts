/**
 * The runner: consumer group `automate` over the log. Per batch (after the state the
 * conditions read has folded it): for each live event, cancel the waiting runs its type may
 * cancel, then start a run for every enabled workflow it triggers. Its timers (`automate:`)
 * resume waiting runs. History-mode events start and cancel nothing.
 */

import { openOutbox } from '../../act/index.ts';
import type { Clock } from '../../core/index.ts';
import type { TimerHandler, TimerStore } from '../../detect/index.ts';
import { type EventLog, type LoggedEvent, type Subscription, subscribe } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { ConditionEnvironment } from '../conditions/environment.ts';
import type { EventTypeLookup } from '../conditions/event-shapes.ts';
import { contactPolicy, expressionsFrom, workflowsFrom } from './adapters.ts';
import { canonicalCustomer, customerIdentifierOf } from './customer.ts';
import { AUTOMATE_TIMER_PREFIX } from './engine.ts';
import { cancelRuns, type LifecycleDeps, resumeRun, startRun } from './lifecycle.ts';
import type { ActionTypes, ContactPolicy, ExpressionCompiler, OutboxWriter, WorkflowVersions } from './ports.ts';
import { cancelCandidates, cancelEventTypes } from './runs.ts';
import { matchEvent } from './triggers.ts';
import { WorkflowCatalogue } from './workflows.ts';

export const AUTOMATE_GROUP = 'automate';

export interface RunnerOptions {
  log: EventLog;
  store: Store;
  timers: TimerStore;
  clock: Clock;
  /** The executors by action type (Part A's `executorRegistry`): channel, reach and own templates. */
  actions: ActionTypes;
  /** Event types for typing `event` in expressions (the schema registry); or pass `expressions`. */
  eventTypes?: EventTypeLookup;
  expressions?: ExpressionCompiler;
  /** Default: Part B's workflow store (`listWorkflows` / `getWorkflow`). */
  workflows?: WorkflowVersions;
  /** Default: Part A's outbox for the store. */
  outbox?: OutboxWriter;
  /** Default: Part D's policy and holdouts with the default settings (`contactPolicy(settings)` for others). */
  policy?: ContactPolicy;
  /**
   * Resolves once the state conditions read has folded the log up to `seq` (main.ts passes the
   * state consumer's `caughtUp`), so a condition never sees state older than its trigger.
   */
  stateCaughtUp?: (seq: number) => Promise<void>;
}

export interface AutomationOptions extends RunnerOptions {
  /** Where a group that never acked starts (default `end`: workflows act on what happens from now on). */
  from?: 'start' | 'end' | number;
  batchSize?: number;
  pollMs?: number;
  onError?: (e: unknown) => void;
}

export interface Runner {
  /** Handles one batch of the log (what the subscription calls; tests and backtests call it directly). */
  handle(batch: readonly LoggedEvent[]): Promise<void>;
  /** The TimerRunner handler for timers with the `automate:` prefix. */
  fire: TimerHandler;
}

export interface Automation extends Runner {
  subscription: Subscription;
  caughtUp(seq: number): Promise<void>;
  stop(): Promise<void>;
}

export function createRunner(opts: RunnerOptions): Runner {
  const expressions = opts.expressions ?? (opts.eventTypes ? expressionsFrom(new ConditionEnvironment(opts.eventTypes)) : undefined);
  if (!expressions) throw new Error('the runner needs eventTypes (the schema registry) or an expression compiler');
  const workflows = new WorkflowCatalogue(opts.workflows ?? workflowsFrom(), expressions);
  const deps: LifecycleDeps = {
    clock: opts.clock,
    outbox: opts.outbox ?? openOutbox(opts.store, opts.clock),
    actions: opts.actions,
    policy: opts.policy ?? contactPolicy(),
    store: opts.store,
    timers: opts.timers,
    workflows,
  };
  const db = opts.store.db;

  async function handle(batch: readonly LoggedEvent[]): Promise<void> {
    const last = batch[batch.length - 1];
    if (!last) return;
    await opts.stateCaughtUp?.(last.seq);
    await workflows.refresh(db);
    const cancelTypes = await cancelEventTypes(db);
    for (const le of batch) {
      if (le.history) continue;
      const e = le.event;
      const triggered = workflows.triggeredBy(e.type);
      if (triggered.length === 0 && !cancelTypes.has(e.type)) continue;
      const customer = await canonicalCustomer(db, await customerIdentifierOf(db, e));
      if (cancelTypes.has(e.type)) {
        const ids = await cancelCandidates(db, e.type, customer);
        if (ids.length > 0) await cancelRuns(deps, e, customer, ids);
      }
      for (const wf of triggered) {
        const match = await matchEvent(db, wf, e, customer, opts.clock.now());
        if (!match) continue;
        const run = await startRun(deps, match);
        if (run.status === 'waiting') for (const c of wf.definition.cancelOn) cancelTypes.add(c.event);
      }
    }
  }

  const fire: TimerHandler = async (timer) => {
    const rest = timer.key.slice(AUTOMATE_TIMER_PREFIX.length);
    const kind = rest.startsWith('wait:') ? 'wait' : rest.startsWith('defer:') ? 'defer' : undefined;
    const p = timer.payload as { runId?: unknown; stepPath?: unknown } | null;
    // A timer of a kind this version does not know completes unfired (as Decide's do).
    if (
      !timer.key.startsWith(AUTOMATE_TIMER_PREFIX) ||
      kind === undefined ||
      typeof p?.runId !== 'string' ||
      typeof p.stepPath !== 'string'
    )
      return;
    await resumeRun(deps, p.runId, kind, p.stepPath);
  };

  return { handle, fire };
}

/** Subscribes group `automate` (started in main.ts beside the state consumer when PITWALL_DECIDE is on). */
export function startAutomation(opts: AutomationOptions): Automation {
  const runner = createRunner(opts);
  const subscription = subscribe(opts.log, AUTOMATE_GROUP, (batch) => runner.handle(batch), {
    from: opts.from ?? 'end',
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
  });
  return {
    ...runner,
    subscription,
    caughtUp: (seq) => subscription.caughtUp(seq),
    stop: () => subscription.stop(),
  };
}
