/**
 * Absence and correlation triggers: producers of `TriggerMatch`es from events kept as pending
 * halves in `trigger_pending` (migration 0018), written as the batch is handled.
 *
 * - **Absence** (`first`, then no `missing` with a shared key within `within`): each `first`
 *   event is a pending half with a timer `automate:absence:<workflow>:<event ref>` at the window's
 *   end; a `missing` event inside the window deletes the half and its timer; the timer finding
 *   its half still there is the match. Run key: the `first` event's `(source, id)`.
 * - **Correlation** (`correlate: [A, B]`, `within`, `lookback`): every A and B event is a
 *   pending half (A kept for `within`, B for `lookback`), and each arriving event pairs with every
 *   pending half of the other entry sharing a key element — so the pair is found in either order:
 *   B up to `within` after A, or up to `lookback` before it. Run key: both events' `(source, id)`,
 *   A's first: one run per pair, the same on a replay.
 *
 * Times are the runner's clock when it handles the event (a replay keeps the first pass's rows).
 */
import { deterministicId } from '../../core/index.ts';
import type { ClaimedTimer, Db } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { parseDuration } from '../definitions/durations.ts';
import { AUTOMATE_TIMER_PREFIX } from './engine.ts';
import { keysOf } from './keyed.ts';
import type { LifecycleDeps, TriggerMatch } from './lifecycle.ts';
import type { RunnableWorkflow } from './workflows.ts';

export type Submit = (match: TriggerMatch) => Promise<void>;

export function absenceTimerKey(workflowId: string, event: Pick<CloudEvent, 'source' | 'id'>): string {
  return `${AUTOMATE_TIMER_PREFIX}absence:${workflowId}:${deterministicId('pitwall.pending', event.source, event.id)}`;
}

const durationMs = (d: string | undefined, fallback: number) => (d === undefined ? fallback : (parseDuration(d) ?? fallback));

interface PendingEvent {
  source: string;
  id: string;
  event: CloudEvent;
}

/** Keeps `event` as a pending half of `side` under each of `keys` (a replay changes nothing). */
async function keep(db: Db, wf: string, side: number, keys: readonly string[], event: CloudEvent, now: number, expires: number) {
  if (keys.length === 0) return;
  await db
    .insertInto('trigger_pending')
    .values(
      keys.map((k) => ({
        workflow_id: wf,
        side,
        key_value: k,
        event_source: event.source,
        event_id: event.id,
        event: JSON.stringify(event),
        at_ms: now,
        expires_ms: expires,
      })),
    )
    .onConflict((oc) => oc.columns(['workflow_id', 'side', 'key_value', 'event_source', 'event_id']).doNothing())
    .execute();
}

/** Pending halves of `side` sharing a key with `keys`, not expired at `now`, oldest first; one per event. */
async function pendingFor(db: Db, wf: string, side: number, keys: readonly string[], now: number): Promise<PendingEvent[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('trigger_pending')
    .select(['event_source', 'event_id', 'event', 'at_ms'])
    .where('workflow_id', '=', wf)
    .where('side', '=', side)
    .where('key_value', 'in', [...keys])
    .where('expires_ms', '>=', now)
    .orderBy('at_ms')
    .orderBy('event_source')
    .orderBy('event_id')
    .execute();
  const seen = new Map<string, PendingEvent>();
  for (const r of rows) {
    const ref = JSON.stringify([r.event_source, r.event_id]);
    if (!seen.has(ref)) seen.set(ref, { source: r.event_source, id: r.event_id, event: JSON.parse(r.event) as CloudEvent });
  }
  return [...seen.values()];
}

async function forget(db: Db, wf: string, side: number, source: string, id: string): Promise<void> {
  await db
    .deleteFrom('trigger_pending')
    .where('workflow_id', '=', wf)
    .where('side', '=', side)
    .where('event_source', '=', source)
    .where('event_id', '=', id)
    .execute();
}

/** A keyed entry whose filter or key failed on `event`: recorded as a skipped run with the reason. */
function failedMatch(
  wf: RunnableWorkflow,
  kind: 'absence' | 'correlation',
  event: CloudEvent,
  error: { expression: string; error: string },
) {
  return { workflow: wf, kind, key: [event.source, event.id, 'error'], events: [event], filterError: error } satisfies TriggerMatch;
}

/** Handles one live event for the absence / correlation workflows that name its type. */
export async function matchKeyed(
  deps: LifecycleDeps,
  wf: RunnableWorkflow,
  event: CloudEvent,
  customerId: string | undefined,
  submit: Submit,
): Promise<void> {
  const db = deps.store.db;
  const now = deps.clock.now();
  const t = wf.definition.trigger;
  if (t.kind === 'absence') {
    // The `missing` side first: an event that is both ends the earlier window, then opens its own.
    if (t.missing.event === event.type) {
      const r = await keysOf(db, wf, t.missing, event, customerId, now);
      if (r?.ok)
        for (const p of await pendingFor(db, wf.id, 0, r.keys, now)) {
          if (p.source === event.source && p.id === event.id) continue;
          await forget(db, wf.id, 0, p.source, p.id);
          await deps.timers.cancel(absenceTimerKey(wf.id, p));
        }
    }
    if (t.first.event === event.type) {
      const r = await keysOf(db, wf, t.first, event, customerId, now);
      if (r === undefined) return;
      if (!r.ok) return submit(failedMatch(wf, 'absence', event, r));
      if (r.keys.length === 0) return;
      const end = now + durationMs(t.within, 0);
      await keep(db, wf.id, 0, r.keys, event, now, end);
      const key = absenceTimerKey(wf.id, event);
      // A replayed event keeps the window the first pass opened (its timer, or none once it fired).
      const kept = await db
        .selectFrom('trigger_pending')
        .select('expires_ms')
        .where('workflow_id', '=', wf.id)
        .where('side', '=', 0)
        .where('event_source', '=', event.source)
        .where('event_id', '=', event.id)
        .executeTakeFirst();
      const due = kept === undefined ? end : Number(kept.expires_ms);
      if (!(await deps.timers.get(key))) await deps.timers.schedule(key, due, { workflowId: wf.id, source: event.source, id: event.id });
    }
    return;
  }
  if (t.kind !== 'correlation') return;
  const within = durationMs(t.within, 0);
  const lookback = durationMs(t.lookback, within);
  for (const side of [0, 1] as const) {
    const entry = t.events[side];
    if (entry.event !== event.type) continue;
    const r = await keysOf(db, wf, entry, event, customerId, now);
    if (r === undefined) continue;
    if (!r.ok) {
      await submit(failedMatch(wf, 'correlation', event, r));
      continue;
    }
    const other = await pendingFor(db, wf.id, 1 - side, r.keys, now);
    await keep(db, wf.id, side, r.keys, event, now, now + (side === 0 ? within : lookback));
    for (const p of other) {
      if (p.source === event.source && p.id === event.id) continue;
      const key = side === 0 ? [event.source, event.id, p.source, p.id] : [p.source, p.id, event.source, event.id];
      await submit({ workflow: wf, kind: 'correlation', key, events: [p.event, event] });
    }
  }
}

/** The absence timer fired: the window ended; if its half is still pending, that is the match. */
export async function fireAbsence(
  deps: LifecycleDeps,
  timer: ClaimedTimer,
  latest: (id: string) => RunnableWorkflow | undefined,
  submit: Submit,
) {
  const p = timer.payload as { workflowId?: unknown; source?: unknown; id?: unknown } | null;
  if (typeof p?.workflowId !== 'string' || typeof p.source !== 'string' || typeof p.id !== 'string') return;
  const db = deps.store.db;
  const row = await db
    .selectFrom('trigger_pending')
    .select('event')
    .where('workflow_id', '=', p.workflowId)
    .where('side', '=', 0)
    .where('event_source', '=', p.source)
    .where('event_id', '=', p.id)
    .executeTakeFirst();
  if (!row) return; // the `missing` event came in time
  const wf = latest(p.workflowId);
  // Disabled or no longer an absence since: the window ends without a run.
  if (wf?.definition.enabled === true && wf.definition.trigger.kind === 'absence') {
    const event = JSON.parse(row.event) as CloudEvent;
    await submit({ workflow: wf, kind: 'absence', key: [p.source, p.id], events: [event] });
  }
  // After the run is started (a crash in between fires again and finds the run).
  await forget(db, p.workflowId, 0, p.source, p.id);
}

/** Drops correlation halves past their window (absence halves go when their timer fires). */
export async function pruneExpired(db: Db, correlationWorkflows: readonly string[], now: number): Promise<void> {
  if (correlationWorkflows.length === 0) return;
  await db
    .deleteFrom('trigger_pending')
    .where('workflow_id', 'in', [...correlationWorkflows])
    .where('expires_ms', '<', now)
    .execute();
}
