/**
 * Flow control between a trigger match and `startRun`, keyed by the workflow's CEL key
 * expressions (Inngest's vocabulary; docs/act/runner.md#flow-control):
 *
 * - **debounce** — a timer `automate:debounce:<workflow>:<key ref>` per key, rescheduled on every
 *   match; when it fires, the last match goes on (its trace says how many it superseded).
 * - **idempotency** — one run per key within 24 hours (Inngest's window); a later match is a
 *   skipped run with the earlier run's id.
 * - **throttle** — at most `limit` runs start per key per `period`; over the limit, a skipped run
 *   with the reason.
 * - **concurrency** — at most `limit` runs of the key in flight (running or waiting); more are
 *   queued (`trigger_queue`), first in first out, and start when a run of the key ends.
 *
 * Every control a match passes or fails is a `flow` entry in its run's trace. Admissions are rows
 * of `trigger_flow`, written before the run so a crash in between cannot admit twice.
 */
import { deterministicId, isoTime } from '../../core/index.ts';
import type { ClaimedTimer, Db } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { parseDuration } from '../definitions/durations.ts';
import { correlatedActivation } from './correlated.ts';
import { canonicalCustomer, customerIdentifierOf } from './customer.ts';
import { AUTOMATE_TIMER_PREFIX } from './engine.ts';
import { type LifecycleDeps, startRun, type TriggerMatch } from './lifecycle.ts';
import { FINAL_STATUSES, loadRun, runId, type TriggerKind } from './runs.ts';
import { StateView } from './state.ts';
import type { RunnableWorkflow } from './workflows.ts';

/** Inngest's idempotency window: one run per key within 24 hours. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

const IN_FLIGHT = ['running', 'waiting'];

export function debounceTimerKey(workflowId: string, key: string): string {
  return `${AUTOMATE_TIMER_PREFIX}debounce:${workflowId}:${deterministicId('pitwall.debounce', workflowId, key)}`;
}

/** A match as stored in a debounce timer or the queue: the workflow is looked up again when it goes on. */
interface StoredMatch {
  workflowId: string;
  kind: TriggerKind;
  key: (string | number)[];
  events: CloudEvent[];
  flow?: Record<string, unknown>[];
}

const store = (m: TriggerMatch): StoredMatch => ({
  workflowId: m.workflow.id,
  kind: m.kind,
  key: [...m.key],
  events: m.events,
  ...(m.flow ? { flow: m.flow } : {}),
});

type KeyValue = { ok: true; value: string } | { ok: false; error: string };

export class FlowControl {
  /** Admissions and the queue are decided one at a time: timers fire concurrently, and counts must not race. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: LifecycleDeps,
    private readonly latest: (id: string) => RunnableWorkflow | undefined,
  ) {}

  /** A match goes through debounce, then the other controls, then `startRun`. */
  async submit(match: TriggerMatch): Promise<void> {
    const debounce = match.workflow.definition.flow?.debounce;
    if (debounce && !match.filterError) {
      const k = await this.keyOf(match, debounce.key);
      if (!k.ok)
        return this.skip(match, 'flow_key_error', {
          control: 'debounce',
          code: 'PW_RUN_FLOW_KEY',
          expression: debounce.key,
          error: k.error,
        });
      const period = parseDuration(debounce.period) ?? 0;
      const timerKey = debounceTimerKey(match.workflow.id, k.value);
      const now = this.deps.clock.now();
      const prev = (await this.deps.timers.get(timerKey))?.payload as
        | { match?: StoredMatch; superseded?: number; since?: number }
        | undefined;
      const same = prev?.match !== undefined && JSON.stringify(prev.match.key) === JSON.stringify(match.key);
      if (same) return; // a replayed match: the timer it set stands
      if (await loadRun(this.deps.store.db, runId(match.workflow.id, match.kind, match.key))) return;
      await this.deps.timers.schedule(timerKey, now + period, {
        match: store(match),
        key: k.value,
        superseded: prev ? (prev.superseded ?? 0) + 1 : 0,
        since: prev?.since ?? now,
      } as never);
      return;
    }
    await this.admit(match);
  }

  /** The debounce timer fired: the last match goes on. */
  async fireDebounce(timer: ClaimedTimer): Promise<void> {
    const p = timer.payload as { match?: StoredMatch; key?: string; superseded?: number; since?: number } | null;
    const m = p?.match;
    if (!m) return;
    const wf = this.latest(m.workflowId);
    if (!wf?.definition.enabled) return;
    const note = {
      control: 'debounce',
      key: p.key,
      decision: 'allowed',
      superseded: p.superseded ?? 0,
      first_match_at: isoTime(p.since ?? timer.dueAt),
    };
    await this.admit({ workflow: wf, kind: m.kind, key: m.key, events: m.events, flow: [...(m.flow ?? []), note] });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Idempotency, throttle, concurrency; then the run. */
  private admit(match: TriggerMatch): Promise<void> {
    return this.exclusive(() => this.admitNow(match));
  }

  private async admitNow(match: TriggerMatch): Promise<void> {
    const deps = this.deps;
    const db = deps.store.db;
    const wf = match.workflow;
    const id = runId(wf.id, match.kind, match.key);
    const f = wf.definition.flow;
    if (!f || match.filterError || (await loadRun(db, id))) {
      await startRun(deps, match); // a replay finds its run (and gives back a lost timer)
      return;
    }
    const now = deps.clock.now();
    const notes: Record<string, unknown>[] = [...(match.flow ?? [])];
    const admissions: { control: string; key: string }[] = [];
    if (f.idempotency !== undefined) {
      const k = await this.keyOf(match, f.idempotency);
      if (!k.ok)
        return this.skip(match, 'flow_key_error', {
          control: 'idempotency',
          code: 'PW_RUN_FLOW_KEY',
          expression: f.idempotency,
          error: k.error,
        });
      const earlier = await db
        .selectFrom('trigger_flow')
        .select(['run_id', 'at_ms'])
        .where('workflow_id', '=', wf.id)
        .where('control', '=', 'idempotency')
        .where('flow_key', '=', k.value)
        .where('at_ms', '>', now - IDEMPOTENCY_WINDOW_MS)
        .where('run_id', '!=', id)
        .orderBy('at_ms', 'desc')
        .executeTakeFirst();
      if (earlier)
        return this.skip(match, 'idempotent', {
          control: 'idempotency',
          key: k.value,
          run: earlier.run_id,
          reason: `run ${earlier.run_id} started for key "${k.value}" at ${isoTime(Number(earlier.at_ms))}, within 24h`,
        });
      notes.push({ control: 'idempotency', key: k.value, decision: 'allowed' });
      admissions.push({ control: 'idempotency', key: k.value });
    }
    if (f.throttle) {
      const k = await this.keyOf(match, f.throttle.key);
      if (!k.ok)
        return this.skip(match, 'flow_key_error', {
          control: 'throttle',
          code: 'PW_RUN_FLOW_KEY',
          expression: f.throttle.key,
          error: k.error,
        });
      const periodMs = parseDuration(f.throttle.period) ?? 0;
      const started = await this.count(db, wf.id, 'throttle', k.value, now - periodMs, id);
      const detail = { control: 'throttle', key: k.value, limit: f.throttle.limit, period: f.throttle.period, started };
      if (started >= f.throttle.limit)
        return this.skip(match, 'throttled', {
          ...detail,
          reason: `${started} run(s) already started for key "${k.value}" in the last ${f.throttle.period} (limit ${f.throttle.limit})`,
        });
      notes.push({ ...detail, decision: 'allowed' });
      admissions.push({ control: 'throttle', key: k.value });
    }
    if (f.concurrency) {
      const k = await this.keyOf(match, f.concurrency.key);
      if (!k.ok)
        return this.skip(match, 'flow_key_error', {
          control: 'concurrency',
          code: 'PW_RUN_FLOW_KEY',
          expression: f.concurrency.key,
          error: k.error,
        });
      const inFlight = await this.inFlight(db, wf.id, k.value);
      const queued = await db
        .selectFrom('trigger_queue')
        .select(['run_id'])
        .where('workflow_id', '=', wf.id)
        .where('flow_key', '=', k.value)
        .limit(1)
        .executeTakeFirst();
      if (inFlight >= f.concurrency.limit || queued) {
        // FIFO: while others wait, a new match queues behind them even if a slot is free.
        const last = await db
          .selectFrom('trigger_queue')
          .select((eb) => eb.fn.max('position').as('p'))
          .where('workflow_id', '=', wf.id)
          .where('flow_key', '=', k.value)
          .executeTakeFirst();
        const stored = store({
          ...match,
          flow: [
            ...notes,
            { control: 'concurrency', key: k.value, limit: f.concurrency.limit, in_flight: inFlight, queued_at: isoTime(now) },
          ],
        });
        await db
          .insertInto('trigger_queue')
          .values({
            workflow_id: wf.id,
            flow_key: k.value,
            position: Number(last?.p ?? 0) + 1,
            run_id: id,
            customer_id: (await this.customerOf(match)) ?? null,
            match: JSON.stringify(stored),
            at_ms: now,
          })
          .onConflict((oc) => oc.columns(['workflow_id', 'flow_key', 'run_id']).doNothing())
          .execute();
        return;
      }
      notes.push({ control: 'concurrency', key: k.value, limit: f.concurrency.limit, in_flight: inFlight, decision: 'allowed' });
      admissions.push({ control: 'concurrency', key: k.value });
    }
    await this.admitted(wf.id, id, admissions, now);
    await startRun(deps, { ...match, flow: notes });
  }

  /** Starts queued matches while their key has free slots (after runs ended: a batch, a timer). */
  drain(): Promise<void> {
    return this.exclusive(() => this.drainNow());
  }

  private async drainNow(): Promise<void> {
    const db = this.deps.store.db;
    const keys = await db.selectFrom('trigger_queue').select(['workflow_id', 'flow_key']).distinct().execute();
    for (const { workflow_id: wfId, flow_key: key } of keys) {
      const wf = this.latest(wfId);
      if (!wf?.definition.enabled) continue; // waits until the workflow is enabled again
      const limit = wf.definition.flow?.concurrency?.limit ?? Number.POSITIVE_INFINITY;
      // Admissions of runs that ended no longer hold a slot.
      await db
        .deleteFrom('trigger_flow')
        .where('workflow_id', '=', wfId)
        .where('control', '=', 'concurrency')
        .where('flow_key', '=', key)
        .where('run_id', 'in', (eb) =>
          eb
            .selectFrom('runs')
            .select('id')
            .where('workflow_id', '=', wfId)
            .where('status', 'in', [...FINAL_STATUSES]),
        )
        .execute();
      let inFlight = await this.inFlight(db, wfId, key);
      while (inFlight < limit) {
        const next = await db
          .selectFrom('trigger_queue')
          .selectAll()
          .where('workflow_id', '=', wfId)
          .where('flow_key', '=', key)
          .orderBy('position')
          .limit(1)
          .executeTakeFirst();
        if (!next) break;
        const m = JSON.parse(next.match) as StoredMatch;
        const now = this.deps.clock.now();
        const flow = (m.flow ?? []).map((n) =>
          n.control === 'concurrency' && n.queued_at !== undefined ? { ...n, decision: 'queued', started_at: isoTime(now) } : n,
        );
        await this.admitted(wfId, next.run_id, [{ control: 'concurrency', key }], now);
        const run = await startRun(this.deps, { workflow: wf, kind: m.kind, key: m.key, events: m.events, flow });
        await db
          .deleteFrom('trigger_queue')
          .where('workflow_id', '=', wfId)
          .where('flow_key', '=', key)
          .where('run_id', '=', next.run_id)
          .execute();
        if (IN_FLIGHT.includes(run.status)) inFlight++;
      }
    }
  }

  private async admitted(wfId: string, id: string, admissions: readonly { control: string; key: string }[], now: number) {
    if (admissions.length === 0) return;
    await this.deps.store.db
      .insertInto('trigger_flow')
      .values(admissions.map((a) => ({ workflow_id: wfId, control: a.control, flow_key: a.key, run_id: id, at_ms: now })))
      .onConflict((oc) => oc.columns(['workflow_id', 'control', 'flow_key', 'run_id']).doNothing())
      .execute();
  }

  private async count(db: Db, wfId: string, control: string, key: string, sinceMs: number, except: string): Promise<number> {
    const r = await db
      .selectFrom('trigger_flow')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('workflow_id', '=', wfId)
      .where('control', '=', control)
      .where('flow_key', '=', key)
      .where('at_ms', '>', sinceMs)
      .where('run_id', '!=', except)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  private async inFlight(db: Db, wfId: string, key: string): Promise<number> {
    const r = await db
      .selectFrom('trigger_flow as f')
      .innerJoin('runs as r', 'r.id', 'f.run_id')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('f.workflow_id', '=', wfId)
      .where('f.control', '=', 'concurrency')
      .where('f.flow_key', '=', key)
      .where('r.status', 'in', IN_FLIGHT)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** A refused match: a skipped run whose trace says which control and why. */
  private async skip(match: TriggerMatch, outcome: string, detail: Record<string, unknown>): Promise<void> {
    await startRun(this.deps, { ...match, flowSkip: { outcome, detail: { ...detail, decision: 'skipped' } } });
  }

  private activationBase(match: TriggerMatch): Record<string, unknown> {
    const event = match.events[match.events.length - 1];
    return {
      nowMs: this.deps.clock.now(),
      event: event ?? null,
      run: null,
      ...correlatedActivation(match.workflow.definition, match.events),
    };
  }

  /** The match's canonical customer, as `startRun` will find it (the workflow's `customer` expression, else the event's). */
  private async customerOf(match: TriggerMatch): Promise<string | undefined> {
    const db = this.deps.store.db;
    const wf = match.workflow;
    let identifier: string | undefined;
    if (wf.definition.customer !== undefined) {
      const c = wf.value(wf.definition.customer);
      const r = c.evaluate(await new StateView(db, match.events, undefined).activation(c.vars, this.activationBase(match)));
      identifier = r.ok && typeof r.value === 'string' && r.value !== '' ? r.value : undefined;
    } else identifier = await customerIdentifierOf(db, match.events[match.events.length - 1]);
    return canonicalCustomer(db, identifier);
  }

  /** A flow key: CEL over the match's events and state (and `correlated`), as text. */
  private async keyOf(match: TriggerMatch, expr: string): Promise<KeyValue> {
    const db = this.deps.store.db;
    const wf = match.workflow;
    const base = this.activationBase(match);
    const state = new StateView(db, match.events, await this.customerOf(match));
    const k = wf.value(expr);
    const r = k.evaluate(await state.activation(k.vars, base));
    if (!r.ok) return r;
    if (typeof r.value === 'string') return { ok: true, value: r.value };
    if (typeof r.value === 'number' || typeof r.value === 'boolean') return { ok: true, value: String(r.value) };
    return { ok: false, error: `the key is ${r.value === null ? 'null' : typeof r.value}, not a string` };
  }
}

/** Matches of a workflow for a customer waiting for a concurrency slot, oldest first (for "why"). */
export async function queuedFor(
  db: Db,
  workflowId: string,
  customerId: string,
): Promise<{ key: string; queuedAt: number; ahead: number }[]> {
  const rows = await db
    .selectFrom('trigger_queue')
    .select(['flow_key', 'position', 'at_ms'])
    .where('workflow_id', '=', workflowId)
    .where('customer_id', '=', customerId)
    .orderBy('position')
    .execute();
  const out: { key: string; queuedAt: number; ahead: number }[] = [];
  for (const r of rows) {
    const ahead = await db
      .selectFrom('trigger_queue')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('workflow_id', '=', workflowId)
      .where('flow_key', '=', r.flow_key)
      .where('position', '<', r.position)
      .executeTakeFirst();
    out.push({ key: r.flow_key, queuedAt: Number(r.at_ms), ahead: Number(ahead?.n ?? 0) });
  }
  return out;
}
