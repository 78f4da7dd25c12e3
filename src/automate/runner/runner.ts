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
import { FlowControl } from './flow.ts';
import { cancelRuns, type LifecycleDeps, resumeRun, startRuns, type TriggerMatch } from './lifecycle.ts';
import type { ActionTypes, ContactPolicy, ExpressionCompiler, OutboxWriter, WorkflowVersions } from './ports.ts';
import { cancelCandidates, cancelEventTypes } from './runs.ts';
import { Schedules } from './schedules.ts';
import { fireAbsence, matchKeyed, pruneExpired } from './sequences.ts';
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
  /** Told after a commit that enqueued actions (main.ts wakes the dispatcher, so it does not sleep on them). */
  onEnqueued?: () => void;
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
  /** Schedule timers and queued runs brought in line with the stored workflows (startAutomation calls it once). */
  sync(): Promise<void>;
}

export interface Automation extends Runner {
  subscription: Subscription;
  /** Resolves once the group has handled the log up to `seq` and the state it reads has folded it. */
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
    ...(opts.onEnqueued ? { onEnqueued: opts.onEnqueued } : {}),
  };
  const db = opts.store.db;

  const latest = (id: string) => workflows.latestOf(id);
  const flow = new FlowControl(deps, latest);
  const submit = (m: TriggerMatch) => flow.submit(m);
  const schedules = new Schedules(deps);

  /**
   * Cancels, then matches every trigger kind an event can feed; after the batch, queued runs and
   * schedules. Matches that go straight to a run (no flow control) wait in `plain` and start
   * together — one write transaction, a savepoint each (ADR 0019) — just before anything else
   * touches the runner's tables (a cancellation, flow control, a pending half) and at the end of
   * the batch, so every step still sees the runs of the events before it.
   */
  async function handle(batch: readonly LoggedEvent[]): Promise<void> {
    const last = batch[batch.length - 1];
    if (!last) return;
    await opts.stateCaughtUp?.(last.seq);
    await workflows.refresh(db);
    const cancelTypes = await cancelEventTypes(db);
    let plain: TriggerMatch[] = [];
    const flush = async () => {
      if (plain.length === 0) return;
      const matches = plain;
      plain = [];
      await startRuns(deps, matches);
    };
    for (const le of batch) {
      if (le.history) continue;
      const e = le.event;
      const triggered = workflows.triggeredBy(e.type);
      const keyed = workflows.keyedBy(e.type);
      if (triggered.length === 0 && keyed.length === 0 && !cancelTypes.has(e.type)) continue;
      const customer = await canonicalCustomer(db, await customerIdentifierOf(db, e));
      if (cancelTypes.has(e.type)) {
        await flush();
        const ids = await cancelCandidates(db, e.type, customer);
        if (ids.length > 0) await cancelRuns(deps, e, customer, ids);
      }
      for (const wf of triggered) {
        const match = await matchEvent(db, wf, e, customer, opts.clock.now());
        if (!match) continue;
        if (wf.definition.flow === undefined || match.filterError !== undefined) plain.push(match);
        else {
          await flush();
          await submit(match);
        }
        // A run that now waits may be cancelled by a later event of this batch.
        for (const c of wf.definition.cancelOn) cancelTypes.add(c.event);
      }
      if (keyed.length > 0) await flush();
      for (const wf of keyed) {
        await matchKeyed(deps, wf, e, customer, submit);
        for (const c of wf.definition.cancelOn) cancelTypes.add(c.event);
      }
    }
    await flush();
    await afterWork();
  }

  /** Runs that ended free concurrency slots; expired correlation halves go; schedule timers follow edits. */
  async function afterWork(): Promise<void> {
    await flow.drain();
    const correlations = workflows.all().filter((w) => w.definition.trigger.kind === 'correlation');
    await pruneExpired(
      db,
      correlations.map((w) => w.id),
      opts.clock.now(),
    );
    await schedules.sync(workflows.all());
  }

  /** Brings schedule timers in line with the stored workflows (at start; `handle` does it per batch too). */
  async function sync(): Promise<void> {
    await workflows.refresh(db);
    await afterWork();
  }

  // Dispatch on the kind after `automate:`; a kind this version does not know completes unfired (as Decide's do).
  const fire: TimerHandler = async (timer) => {
    if (!timer.key.startsWith(AUTOMATE_TIMER_PREFIX)) return;
    const kind = timer.key.slice(AUTOMATE_TIMER_PREFIX.length).split(':', 1)[0];
    switch (kind) {
      case 'wait':
      case 'defer': {
        const p = timer.payload as { runId?: unknown; stepPath?: unknown } | null;
        if (typeof p?.runId !== 'string' || typeof p.stepPath !== 'string') return;
        await resumeRun(deps, p.runId, kind, p.stepPath);
        break;
      }
      case 'absence':
        await workflows.refresh(db);
        await fireAbsence(deps, timer, latest, submit);
        break;
      case 'debounce':
        await workflows.refresh(db);
        await flow.fireDebounce(timer);
        break;
      case 'schedule':
        await workflows.refresh(db);
        await schedules.fire(timer, latest, submit);
        break;
      default:
        return;
    }
    await flow.drain();
  };

  // One at a time: the subscription's batches, timer firings (the TimerRunner fires several at once)
  // and syncs all read and write the same pending halves, flow counts and queues, so they never
  // interleave — flow-control limits hold, and a firing never sees a half-done batch.
  let tail: Promise<unknown> = Promise.resolve();
  const serial =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> => {
      const next = tail.then(() => fn(...args));
      tail = next.catch(() => undefined);
      return next;
    };

  return { handle: serial(handle), fire: serial(fire), sync: serial(sync) };
}

/** Subscribes group `automate` (started in main.ts beside the state consumer when PITWALL_DECIDE is on). */
export function startAutomation(opts: AutomationOptions): Automation {
  const runner = createRunner(opts);
  // Schedule timers for workflows saved while no runner ran; a failure is retried by the next batch.
  runner.sync().catch((e: unknown) => opts.onError?.(e));
  const subscription = subscribe(opts.log, AUTOMATE_GROUP, (batch) => runner.handle(batch), {
    from: opts.from ?? 'end',
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
  });
  return {
    ...runner,
    subscription,
    // Also the state conditions read: a group that started from the end counts the events before
    // its start as handled without waiting for group `state` to fold them (a test's first event
    // racing the subscription's start made the timers it schedules look missing).
    caughtUp: async (seq) => {
      await subscription.caughtUp(seq);
      await opts.stateCaughtUp?.(seq);
    },
    stop: () => subscription.stop(),
  };
}
