/**
 * Backtest: replays stored events through one workflow on simulated time, with no side effects.
 *
 * Everything it writes goes to a **scratch store** (in-memory SQLite, migrated): the state
 * projections, rebuilt from the same log (every event up to `to`, those before `from` only folded);
 * the runs and traces; the outbox (never dispatched: it *records* the actions); the contact log
 * and holdout assignments the policy writes; durable timers. The live store is only read (the log,
 * through a wrapper whose writes throw). Each event in [from, to) is handled alone, at its receive
 * time on a FakeClock, after its fold and after every timer due before it fired — so conditions see
 * the state exactly as of their trigger, as live processing of one event at a time does.
 */
import { type ActionQuery, type Outbox, openOutbox, type StoredAction } from '../../act/index.ts';
import { AppError, FakeClock } from '../../core/index.ts';
import { openTimerStore, TimerRunner } from '../../detect/index.ts';
import type { EventLog, LoggedEvent } from '../../log/index.ts';
import { applyProjections, createDecide } from '../../state/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import { ConditionEnvironment } from '../conditions/environment.ts';
import type { EventTypeLookup } from '../conditions/event-shapes.ts';
import { type ContactPolicySettings, DEFAULT_POLICY_SETTINGS } from '../policy/index.ts';
import { contactPolicy, expressionsFrom } from '../runner/adapters.ts';
import { AUTOMATE_TIMER_PREFIX } from '../runner/engine.ts';
import type { ActionTypes, WorkflowVersions } from '../runner/ports.ts';
import { createRunner } from '../runner/runner.ts';
import { listRuns, type Run, runTrace } from '../runner/runs.ts';
import type { WorkflowDefinition } from '../runner/types.ts';

export interface BacktestOptions {
  /** The live log: only read. */
  log: EventLog;
  /** The workflow, validated (it is run enabled, whatever its `enabled` says). */
  definition: WorkflowDefinition;
  /** Events received in [fromMs, toMs) start runs; timers due before `toMs` fire. */
  fromMs: number;
  toMs: number;
  /** Types `event` in expressions: the schema registry, or an environment already built on it. */
  eventTypes: EventTypeLookup | ConditionEnvironment;
  actions: ActionTypes;
  policy?: ContactPolicySettings;
  /** The config file's `detectors:` section (projection settings). */
  detectors?: Record<string, unknown>;
  /** Events read per page from the live log. */
  pageSize?: number;
}

export interface BacktestRun {
  id: string;
  customer: string | null;
  status: Run['status'];
  outcome: string | null;
  triggerEventIds: string[];
  actions: { step: string; type: string; key: string; params: Record<string, unknown> }[];
  policy: { step: string | null; action: unknown; verdict: unknown; code: unknown; purpose: unknown }[];
}

export interface BacktestReport {
  workflow: { id: string; name: string };
  from: string;
  to: string;
  /** Events read (folded into the scratch state) and handled (in the window, live mode). */
  events: { folded: number; handled: number };
  runs: { total: number; byStatus: Record<string, number>; byOutcome: Record<string, number> };
  actions: { total: number; byType: Record<string, number> };
  /** Distinct customers an action was enqueued for. */
  customersReached: number;
  policy: { skips: number; deferrals: number; byCode: Record<string, number> };
  holdouts: number;
  /** Every run, oldest first (what the property test compares with live processing). */
  detail: BacktestRun[];
}

/** The live log, read-only: a backtest that tried to write to it would be a bug. */
function readOnly(log: EventLog): EventLog {
  const refuse = (): never => {
    throw new AppError('PW_BACKTEST_WRITE', 'a backtest never writes to the live log', { status: 500 });
  };
  return {
    append: async () => refuse(),
    read: (after, limit) => log.read(after, limit),
    query: (q) => log.query(q),
    head: () => log.head(),
    position: (g) => log.position(g),
    ack: async () => refuse(),
    onAppend: () => () => undefined,
    problem: () => undefined,
    pending: () => 0,
    pruneDedupe: async () => refuse(),
    close: async () => undefined,
  };
}

function count(xs: readonly string[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
}

/** Replays [fromMs, toMs) of the log through `definition` in a scratch store; the report says what it would have done. */
export async function backtestWorkflow(opts: BacktestOptions): Promise<BacktestReport> {
  if (!(opts.fromMs < opts.toMs)) throw new AppError('PW_QUERY_INVALID', 'from must be before to', { pointer: '/from' });
  const live = readOnly(opts.log);
  const clock = new FakeClock(opts.fromMs);
  const store = await openStore({ sqliteFile: ':memory:' });
  try {
    return await replay(opts, live, store, clock);
  } finally {
    await store.close();
  }
}

async function replay(opts: BacktestOptions, live: EventLog, store: Store, clock: FakeClock): Promise<BacktestReport> {
  const timers = openTimerStore(store, clock);
  const outbox = openOutbox(store, clock);
  const version = { definition: { ...opts.definition, enabled: true }, version: 1 };
  const workflows: WorkflowVersions = {
    latest: async () => [version],
    get: async (_db, id, v) => (id === version.definition.id && v === 1 ? version : undefined),
  };
  const runner = createRunner({
    log: live,
    store,
    timers,
    clock,
    expressions: expressionsFrom(
      opts.eventTypes instanceof ConditionEnvironment ? opts.eventTypes : new ConditionEnvironment(opts.eventTypes),
    ),
    actions: opts.actions,
    workflows,
    outbox,
    policy: contactPolicy(opts.policy ?? DEFAULT_POLICY_SETTINGS),
  });
  const decide = createDecide({ log: live, store, timers, clock }, opts.detectors !== undefined ? { detectors: opts.detectors } : {});
  // Only the runner's timers fire; the detectors' (scheduled by projections) complete unfired:
  // their derived events are in the stored log already.
  const ticker = new TimerRunner(timers, clock, async (t) => {
    if (t.key.startsWith(AUTOMATE_TIMER_PREFIX)) await runner.fire(t);
  });
  const fireUntil = async (ms: number) => {
    for (;;) {
      const next = await timers.nextDueAt();
      if (next === undefined || next > ms) break;
      clock.set(Math.max(clock.now(), next));
      await ticker.tick();
    }
  };

  let folded = 0;
  let handled = 0;
  let pos = 0;
  const page = opts.pageSize ?? 1000;
  for (;;) {
    const batch = await live.read(pos, page);
    if (batch.length === 0) break;
    let done = false;
    for (const le of batch) {
      pos = le.seq;
      if (le.receivedAt >= opts.toMs) {
        done = true;
        break;
      }
      const inWindow = le.receivedAt >= opts.fromMs;
      if (inWindow) {
        await fireUntil(le.receivedAt);
        clock.set(Math.max(clock.now(), le.receivedAt));
      }
      await applyProjections(store, decide.projections, [le]);
      folded++;
      if (inWindow) {
        await runner.handle([le] as readonly LoggedEvent[]);
        handled++;
      }
    }
    if (done) break;
  }
  await fireUntil(opts.toMs - 1);
  return summarizeRuns(opts, store, outbox, { folded, handled });
}

/**
 * The report over the runs and actions in `store` (the scratch one; the property test also
 * summarises a live store with it, to compare what each decided).
 */
export async function summarizeRuns(
  opts: Pick<BacktestOptions, 'definition' | 'fromMs' | 'toMs'>,
  store: Store,
  outbox: Pick<Outbox, 'list'>,
  events: BacktestReport['events'],
): Promise<BacktestReport> {
  const list = (q: ActionQuery) => outbox.list(q);
  const runs: Run[] = [];
  for (let before: { startedAt: number; id: string } | undefined; ; ) {
    const page = await listRuns(store.db, { limit: 500, before });
    runs.push(...page);
    const last = page[page.length - 1];
    if (!last || page.length < 500) break;
    before = { startedAt: last.startedAt, id: last.id };
  }
  runs.sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const actions: StoredAction[] = [];
  for (let cursor: string | undefined; ; ) {
    const r = await list({ limit: 500, ...(cursor !== undefined ? { cursor } : {}) });
    actions.push(...r.actions);
    if (!r.nextCursor) break;
    cursor = r.nextCursor;
  }
  const detail: BacktestRun[] = [];
  const policyEntries: Record<string, unknown>[] = [];
  for (const run of runs) {
    const trace = await runTrace(store.db, run.id);
    const policy = trace.filter((t) => t.kind === 'policy');
    policyEntries.push(...policy.map((t) => t.detail));
    detail.push({
      id: run.id,
      customer: run.customerId ?? null,
      status: run.status,
      outcome: run.outcome ?? null,
      triggerEventIds: run.triggerEventIds,
      actions: actions
        .filter((a) => a.runId === run.id)
        .sort((a, b) => a.stepPath.localeCompare(b.stepPath))
        .map((a) => ({ step: a.stepPath, type: a.type, key: a.key, params: a.params })),
      policy: policy.map((t) => ({
        step: t.stepPath ?? null,
        action: t.detail.action,
        verdict: t.detail.verdict,
        code: t.detail.code ?? null,
        purpose: t.detail.purpose ?? null,
      })),
    });
  }
  const verdicts = policyEntries.filter((d) => d.verdict !== 'allow');
  return {
    workflow: { id: opts.definition.id, name: opts.definition.name },
    from: new Date(opts.fromMs).toISOString(),
    to: new Date(opts.toMs).toISOString(),
    events,
    runs: { total: runs.length, byStatus: count(runs.map((r) => r.status)), byOutcome: count(runs.map((r) => r.outcome ?? 'none')) },
    actions: { total: actions.length, byType: count(actions.map((a) => a.type)) },
    customersReached: new Set(actions.flatMap((a) => (a.customerId !== undefined ? [a.customerId] : []))).size,
    policy: {
      skips: verdicts.filter((d) => d.verdict === 'skip').length,
      deferrals: verdicts.filter((d) => d.verdict === 'defer').length,
      byCode: count(verdicts.map((d) => String(d.code ?? 'none'))),
    },
    holdouts: runs.filter((r) => r.status === 'holdout').length,
    detail,
  };
}
