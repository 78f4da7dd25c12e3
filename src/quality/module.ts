/**
 * Decide module `quality`: data quality fed from the log. Reference: docs/decide/quality.md.
 *
 * Rules of the projection (`quality_sources`, one row per source):
 * - **What is observed**: `sensor.reading`, `vehicle.signal` and `shipment.position` (observe.ts);
 *   the source is the `deviceid` extension, else the event `source`. History-mode events are not
 *   observed at all (their times are old on purpose).
 * - **State**: each row holds the monitor's state for its source (`state`), the verdict computed
 *   from it (`score`, `trusted`, `degraded`, `flags`) and `updated_ms`, the time the verdict is as
 *   of: the last receive time, or the time the source went stale. A fold restores the sources a
 *   batch touches from their rows, feeds them and writes them back in the batch transaction.
 * - **Event time**: the monitor moves a signal's sequence (flat-line run, spike window, latest
 *   value for bounds) only with readings newer (event time) than the signal's latest, so a late
 *   or resent reading never makes it regress; it still counts towards the rates (skew).
 *   `last_received_ms` only moves forward.
 * - **Idempotent by position**: `updated_seq` is the last log position folded per source; an
 *   event at or below it changes nothing. Rejects are read from `quarantine` after a cursor kept
 *   in `quality_cursors`, in the same transaction, so they count once.
 * - **Rejects** count once they are `reject_settle_seconds` older than the newest receive time of
 *   the batch (or than the clock, on the stale timer), interleaved with readings by receive time.
 * - **Transitions** (`quality.degraded` / `quality.recovered`, with the monitor's hysteresis) are
 *   kept in the row's `pending` until the derived event comes back from the log; the detector
 *   appends them with deterministic ids, so a crash between the commit and the append re-sends
 *   the same events and the log dedupes them.
 * - **Stale**: a source goes stale when nothing arrives for `stale_after_minutes`; `stale_at_ms`
 *   says when. Time passes as the log says: a fold judges every source whose stale time comes
 *   before the receive time of the next thing it folds stale at that stale time (so a rebuild and
 *   a backlog reach the verdicts live operation reached). When nothing arrives, one durable timer
 *   (`quality:stale`, due at the earliest `stale_at_ms`) does the same by the clock, once the state
 *   group has folded the log as it was when the firing began (a fixed position: no starvation). Its `quality.degraded` is folded back like any
 *   derived event: the fold re-judges the source at the event's time.
 */
import {
  type ConditionRule,
  type DecideContext,
  type DecideModule,
  type Detector,
  dataOf,
  derivedEvent,
  detectorSource,
  emit,
  type Projection,
  writeTransaction,
} from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import { DUPLICATE_MINUTE_MS } from '../ingest/index.ts';
import { foldQuality } from './fold.ts';
import { isObservedEvent, QUALITY_DEGRADED, QUALITY_RECOVERED } from './observe.ts';
import {
  duplicatesCursor,
  firstDuplicateAfter,
  firstRejectAfter,
  nextStaleAt,
  type PendingTransition,
  pendingOf,
  quarantineCursor,
  rowsWithPending,
  type SourceRow,
  TIMER_PENDING,
} from './rows.ts';
import { parseQualitySettings } from './settings.ts';

export const QUALITY_DETECTOR = 'quality';
export const QUALITY_SOURCE = detectorSource(QUALITY_DETECTOR);
export const QUALITY_TIMER_PREFIX = 'quality:';
/** The one timer of the module: due at the earliest stale time (or when rejects wait to be counted). */
export const QUALITY_TIMER_KEY = `${QUALITY_TIMER_PREFIX}stale`;

/** The consumer group that runs every Decide module (src/state); the timer waits while it is behind. */
const STATE_GROUP = 'state';
/** A stale timer firing never comes back sooner than this, so a fold that cannot progress does not spin. */
const MIN_REARM_MS = 1000;
const PENDING_ROWS = 500;
/** Ids appended by this process whose events may not be folded yet; bounded. */
const EMITTED_MEMORY = 10_000;

/** The stale timer's payload while it waits for the group: the log head and the clock when it began. */
const waitOf = (p: unknown): { head: number; asOf: number } | undefined => {
  const w = p as { head?: unknown; asOf?: unknown } | null;
  return typeof w?.head === 'number' && typeof w.asOf === 'number' ? { head: w.head, asOf: w.asOf } : undefined;
};
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const scoreOf = (e: CloudEvent): number => {
  const s = dataOf(e).score;
  return typeof s === 'number' ? s : 0;
};

/** `quality.degraded` raises the condition for the source; `quality.recovered` clears it. */
export const QUALITY_CONDITIONS: readonly ConditionRule[] = [
  {
    type: QUALITY_DEGRADED,
    action: 'raise',
    kind: QUALITY_DEGRADED,
    key: (e) => text(dataOf(e).source),
    severity: (e) => (scoreOf(e) <= 30 ? 'critical' : 'warning'),
    summary: (e) => {
      const d = dataOf(e);
      const kinds = Array.isArray(d.reasons) ? d.reasons.map((r) => String(r).split(':')[0]).join(', ') : '';
      return `data quality of ${String(d.source)} is ${scoreOf(e)}/100${kinds ? ` (${kinds})` : ''}`;
    },
  },
  { type: QUALITY_RECOVERED, action: 'clear', kind: QUALITY_DEGRADED, key: (e) => text(dataOf(e).source) },
];

/** `settings` is the config file's `detectors.quality` section (undefined when absent). */
export function createQualityModule(ctx: DecideContext, raw: unknown): DecideModule {
  const settings = parseQualitySettings(raw);
  const { log, store, timers, clock } = ctx;
  const lock = store.dialect === 'postgres';
  const emitted = new Set<string>();

  const projection: Projection = {
    name: 'quality',
    tables: ['quality_sources', 'quality_cursors'],
    handles: (e) => isObservedEvent(e) || e.type === QUALITY_DEGRADED || e.type === QUALITY_RECOVERED,
    async apply(db, events) {
      if (events.every((le) => le.history)) return;
      const newest = events.reduce((mx, le) => Math.max(mx, le.receivedAt), Number.NEGATIVE_INFINITY);
      await foldQuality(db, lock, settings, { events, rejectsUpTo: newest - settings.rejectSettleMs, now: newest });
    },
  };

  /** Appends the pending transitions that `wanted` selects; the log dedupes repeats by id. */
  const emitPending = async (fromSeq: number, wanted: (p: PendingTransition) => boolean): Promise<void> => {
    let after: { mark: number; source: string } | undefined;
    for (;;) {
      const rows = await rowsWithPending(store.db, fromSeq, PENDING_ROWS, after);
      await emitRows(rows, wanted);
      const last = rows[rows.length - 1];
      if (rows.length < PENDING_ROWS || !last) return;
      after = { mark: Number(last.has_pending), source: last.source };
    }
  };
  const emitRows = async (rows: readonly SourceRow[], wanted: (p: PendingTransition) => boolean): Promise<void> => {
    const events = rows.flatMap((row) =>
      pendingOf(row)
        .filter((p) => wanted(p) && !emitted.has(p.id))
        .map((p) =>
          derivedEvent(clock, {
            type: p.type,
            id: p.id,
            source: QUALITY_SOURCE,
            subject: row.source,
            timeMs: p.at,
            data: { source: row.source, score: p.score, reasons: p.reasons, trigger: p.trigger },
            causedBy: p.causedBy,
          }),
        ),
    );
    if (events.length === 0) return;
    await emit(log, clock, events);
    if (emitted.size + events.length > EMITTED_MEMORY) emitted.clear();
    for (const e of events) emitted.add(e.id);
  };

  /** When the timer must fire next: the earliest stale time, or when waiting rejects (or duplicate counts) have settled. */
  const nextDue = async (): Promise<number | undefined> => {
    const stale = await nextStaleAt(store.db);
    const firstReject = await firstRejectAfter(store.db, await quarantineCursor(store.db));
    const rejects = firstReject === undefined ? undefined : firstReject + settings.rejectSettleMs;
    const firstDup = await firstDuplicateAfter(store.db, await duplicatesCursor(store.db));
    const dups = firstDup === undefined ? undefined : firstDup + DUPLICATE_MINUTE_MS + settings.rejectSettleMs;
    const all = [stale, rejects, dups].filter((t): t is number => t !== undefined);
    return all.length === 0 ? undefined : Math.min(...all);
  };

  const detector: Detector = {
    name: QUALITY_DETECTOR,
    timerPrefix: QUALITY_TIMER_PREFIX,
    conditions: QUALITY_CONDITIONS,

    async onEvents(batch) {
      const live = batch.filter((le) => !le.history);
      const first = live[0];
      if (!first) return;
      // Transitions this batch's fold found (or a crashed run of it did), and the timer's own.
      await emitPending(first.seq, (p) => p.seq === 0 || p.seq >= first.seq);
      const next = await nextDue();
      if (next === undefined) return;
      const current = await timers.get(QUALITY_TIMER_KEY);
      // Keeps the payload: a firing waiting for the group to fold a fixed position keeps its target.
      if (!current || current.dueAt > next) await timers.schedule(QUALITY_TIMER_KEY, next, current?.payload ?? {});
    },

    async fire(timer) {
      if (timer.key !== QUALITY_TIMER_KEY) return;
      const now = clock.now();
      // While the state group has not folded what the log held when this judgement began (a
      // backlog after a restart, or a batch in flight), what looks silent may just not be folded
      // yet: the timer looks again shortly, waiting for that position — a fixed one, so steady
      // unrelated traffic that keeps the head ahead cannot starve it — and then judges as of then.
      const waiting = waitOf(timer.payload);
      const target = waiting?.head ?? (await log.head());
      const asOf = waiting?.asOf ?? now;
      if (((await log.position(STATE_GROUP)) ?? 0) < target) {
        await timers.schedule(QUALITY_TIMER_KEY, now + MIN_REARM_MS, { head: target, asOf });
        return;
      }
      const r = await writeTransaction(store, (db) =>
        foldQuality(db, lock, settings, { events: [], rejectsUpTo: asOf - settings.rejectSettleMs, now: asOf, fromTimer: true }),
      );
      await emitPending(TIMER_PENDING, (p) => p.seq === 0);
      const next = r.moreDue ? now : await nextDue();
      // Rescheduling voids this claim, so the runner leaves the timer in place; otherwise it completes it.
      if (next !== undefined) await timers.schedule(QUALITY_TIMER_KEY, Math.max(next, r.moreDue ? now : now + MIN_REARM_MS), {});
    },
  };

  return { name: 'quality', projections: [projection], detectors: [detector] };
}
