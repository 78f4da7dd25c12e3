/**
 * The quality fold: log events, quarantined items and the passing of time, through the monitor,
 * into `quality_sources` (rules in the header of module.ts and in docs/decide/quality.md).
 *
 * The monitor keeps no state between folds: each fold restores the sources it touches from
 * their rows, feeds them, and writes them back in the caller's transaction. A restart, a second
 * process or a rolled-back batch therefore never sees a monitor that disagrees with the table.
 */
import { deterministicId } from '../core/index.ts';
import { type Db, dataOf, eventTimeMs } from '../detect/index.ts';
import { DUPLICATE_MINUTE_MS } from '../ingest/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import { QualityMonitor, type QualityTransition } from './monitor.ts';
import { isObservedEvent, OBSERVED_TYPES, observationsOf, QUALITY_DEGRADED, QUALITY_RECOVERED, qualitySourceOf } from './observe.ts';
import {
  type DuplicateRow,
  dueSources,
  duplicatesAfter,
  duplicatesCursor,
  loadRows,
  lockQuarantineCursor,
  type PendingTransition,
  pendingMark,
  pendingOf,
  type RejectRow,
  rejectsAfter,
  type SourceRow,
  saveDuplicatesCursor,
  saveQuarantineCursor,
  snapshotOf,
  upsertRows,
} from './rows.ts';
import type { QualitySettings } from './settings.ts';

export interface FoldInput {
  /** Events in log order (any type; only observed and `quality.*` ones count, history mode skipped). */
  events: readonly LoggedEvent[];
  /**
   * Quarantined items received at or before this are counted as rejects, and ingest's duplicate
   * counts of the minutes that ended by then.
   */
  rejectsUpTo: number;
  /**
   * How far time has come: the newest receive time of the batch, or the clock on the timer.
   * Sources whose stale time is at or before it are judged stale at their stale time.
   */
  now: number;
  /** The stale timer's fold: its transitions are emitted by the timer (`seq` 0). */
  fromTimer?: boolean;
}

export interface FoldResult {
  /** Sources whose rows changed. */
  touched: string[];
  /** Stale sources left for another round (more than one fold takes). */
  moreDue: boolean;
}

/** Channels only devices and trackers use: their rejects count even for a source not seen yet. */
const DEVICE_CHANNELS = new Set(['senml', 'mqtt-senml', 'mqtt-telemetry', 'mqtt-shipment']);
const OBSERVED = new Set<string>(OBSERVED_TYPES);
const REJECT_PAGE = 1000;
const DUPLICATE_PAGE = 1000;
/** A duplicate count is fed as at most this many observations (the outcome ring holds fewer by default). */
const MAX_DUPLICATES_FED = 1000;
const DUE_LIMIT = 500;
/** Older unconfirmed transitions are dropped beyond this many per source. */
const MAX_PENDING = 20;

interface Rec {
  source: string;
  updatedSeq: number;
  asOf: number;
  lastEventId: string | undefined;
  pending: PendingTransition[];
  pruned: boolean;
  changed: boolean;
}

/** The id of the derived event for a transition: the same fold of the same input gives the same id. */
export function transitionId(source: string, t: QualityTransition, cause: string, n: number): string {
  return deterministicId('pitwall.quality', source, t.type, t.at, cause, n);
}

export async function foldQuality(db: Db, lock: boolean, settings: QualitySettings, input: FoldInput): Promise<FoldResult> {
  const cursor = await lockQuarantineCursor(db, lock);
  const events = input.events.filter(
    (le) => !le.history && (isObservedEvent(le.event) || le.event.type === QUALITY_DEGRADED || le.event.type === QUALITY_RECOVERED),
  );
  const sourceOf = (le: LoggedEvent): string | undefined =>
    isObservedEvent(le.event) ? qualitySourceOf(le.event) : text(dataOf(le.event).source);

  const { rejects, next: newCursor } = await readRejects(db, cursor, input.rejectsUpTo);
  const dupCursor = await duplicatesCursor(db);
  const dups = await duplicatesAfter(db, dupCursor, Math.floor(input.rejectsUpTo - DUPLICATE_MINUTE_MS), DUPLICATE_PAGE);
  const due = await dueSources(db, input.now, DUE_LIMIT + 1);
  const moreDue = due.length > DUE_LIMIT;
  const wanted = new Set<string>(due.slice(0, DUE_LIMIT));
  for (const le of events) {
    const s = sourceOf(le);
    if (s !== undefined) wanted.add(s);
  }
  for (const r of rejects) wanted.add(rejectSource(r));
  for (const d of dups.rows) wanted.add(duplicateSource(d));
  const rows = await loadRows(db, wanted);

  const monitor = new QualityMonitor(settings.monitor);
  const recs = new Map<string, Rec>();
  for (const row of rows.values()) {
    monitor.restore(row.source, snapshotOf(row));
    recs.set(row.source, fromRow(row));
  }
  const eventSources = new Set(events.map(sourceOf).filter((s): s is string => s !== undefined));
  const minSeq = events[0]?.seq ?? 0;
  const maxSeq = events[events.length - 1]?.seq ?? 0;

  const recFor = (source: string): Rec => {
    let rec = recs.get(source);
    if (!rec) {
      rec = { source, updatedSeq: 0, asOf: Number.NEGATIVE_INFINITY, lastEventId: undefined, pending: [], pruned: true, changed: true };
      recs.set(source, rec);
    }
    return rec;
  };
  /** Transitions the last step queued, kept until their `quality.*` event is folded back. */
  const collect = (rec: Rec, seq: number, trigger: PendingTransition['trigger'], cause: string, causedBy: string[]) => {
    for (const [n, t] of monitor.drain().entries()) {
      const id = transitionId(rec.source, t, cause, n);
      rec.pending.push({ id, type: t.type, at: t.at, score: t.score, reasons: t.reasons, seq, trigger, causedBy });
    }
    if (rec.pending.length > MAX_PENDING) rec.pending = rec.pending.slice(-MAX_PENDING);
    rec.asOf = Math.max(rec.asOf, monitor.lastReceivedAt(rec.source) ?? Number.NEGATIVE_INFINITY);
    rec.changed = true;
  };
  /** Unconfirmed transitions of earlier batches: emitted then (their event is still on its way) or never (a rebuild). */
  const prune = (rec: Rec) => {
    if (rec.pruned) return;
    rec.pending = rec.pending.filter((p) => p.seq === 0 || p.seq >= minSeq);
    rec.pruned = true;
  };

  // Time passes as the log says (receive times) or, on the timer, as the clock says: a source
  // whose stale time comes before the next thing folded is judged stale at that time first.
  const candidates = new Set<string>(due.slice(0, DUE_LIMIT));
  for (const s of candidates) {
    const rec = recs.get(s);
    if (rec) rec.changed = true; // rewrites stale_at_ms even when the settings moved it since
  }
  let nextStale = Number.NEGATIVE_INFINITY;
  const watch = (source: string) => {
    candidates.add(source);
    nextStale = Math.min(nextStale, monitor.staleAt(source) ?? Number.POSITIVE_INFINITY);
  };
  const advance = (now: number, seq: number) => {
    if (now < nextStale) return;
    nextStale = Number.POSITIVE_INFINITY;
    for (const source of candidates) {
      const at = monitor.staleAt(source);
      const rec = recs.get(source);
      if (at === undefined || !rec) candidates.delete(source);
      else if (at <= now) {
        candidates.delete(source);
        monitor.evaluateAt(source, at);
        rec.asOf = Math.max(rec.asOf, at);
        collect(rec, seq, 'stale', 'stale', rec.lastEventId ? [rec.lastEventId] : []);
      } else nextStale = Math.min(nextStale, at);
    }
  };
  const seqOf = (seq: number) => (input.fromTimer ? 0 : seq);

  const foldReject = (r: RejectRow, seq: number) => {
    const source = rejectSource(r);
    const known = recs.has(source) || eventSources.has(source);
    if (!known && !DEVICE_CHANNELS.has(r.channel) && !(r.type !== null && OBSERVED.has(r.type))) return;
    advance(r.receivedMs, seq);
    const rec = recFor(source);
    monitor.observe({ source, signal: r.type ?? r.channel, value: '', eventTime: r.receivedMs, receivedAt: r.receivedMs, rejected: true });
    collect(rec, seq, 'reject', `quarantine:${r.id}`, []);
    watch(source);
  };

  // A resend the log dropped, counted by ingest for its minute: that many duplicate
  // observations at the minute's start (never later than they arrived).
  const foldDuplicates = (d: DuplicateRow, seq: number) => {
    const source = duplicateSource(d);
    const known = recs.has(source) || eventSources.has(source);
    if (!known && !OBSERVED.has(d.type)) return;
    advance(d.minuteMs, seq);
    const rec = recFor(source);
    for (let i = Math.min(d.count, MAX_DUPLICATES_FED); i > 0; i--)
      monitor.observe({ source, signal: d.type, value: '', eventTime: d.minuteMs, receivedAt: d.minuteMs, duplicate: true });
    collect(rec, seq, 'duplicate', `duplicates:${d.minuteMs}:${d.source}:${d.device}:${d.type}`, []);
    watch(source);
  };
  // Rejects and duplicate counts, interleaved with the batch's readings by receive time.
  const side = [
    ...rejects.map((r) => ({ at: r.receivedMs, fold: (seq: number) => foldReject(r, seq) })),
    ...dups.rows.map((d) => ({ at: d.minuteMs, fold: (seq: number) => foldDuplicates(d, seq) })),
  ].sort((a, b) => a.at - b.at);

  let ri = 0;
  for (const le of events) {
    while (ri < side.length && (side[ri] as (typeof side)[number]).at <= le.receivedAt) (side[ri++] as (typeof side)[number]).fold(le.seq);
    const source = sourceOf(le);
    if (source === undefined) continue;
    if (isObservedEvent(le.event)) {
      const observations = observationsOf(le);
      const existing = recs.get(source);
      if ((existing && le.seq <= existing.updatedSeq) || (!existing && observations.length === 0)) continue;
      advance(le.receivedAt, le.seq);
      const rec = recFor(source);
      prune(rec);
      for (const o of observations) monitor.observe(o);
      rec.updatedSeq = le.seq;
      rec.lastEventId = le.event.id;
      collect(rec, le.seq, 'reading', `seq:${le.seq}`, [le.event.id]);
      watch(source);
    } else {
      // Our own quality.* event back from the log: re-judge the source at its time (a stale
      // verdict the timer reached is rebuilt from the log this way too), then stop waiting for it.
      const rec = recs.get(source);
      if (!rec || le.seq <= rec.updatedSeq) continue;
      advance(le.receivedAt, le.seq);
      prune(rec);
      // Never before the verdict already written: a late event must not undo a later stale verdict.
      const at = Math.max(eventTimeMs(le.event), rec.asOf);
      monitor.evaluateAt(source, at);
      rec.asOf = Math.max(rec.asOf, at);
      collect(rec, le.seq, 'stale', 'stale', rec.lastEventId ? [rec.lastEventId] : []);
      rec.pending = rec.pending.filter((p) => p.id !== le.event.id);
      rec.updatedSeq = le.seq;
    }
  }
  while (ri < side.length) (side[ri++] as (typeof side)[number]).fold(seqOf(maxSeq));
  advance(input.now, seqOf(maxSeq));

  const out: SourceRow[] = [];
  for (const rec of recs.values()) if (rec.changed) out.push(toRow(monitor, rec));
  await upsertRows(db, out);
  if (newCursor !== cursor) await saveQuarantineCursor(db, newCursor);
  if (dups.through !== dupCursor) await saveDuplicatesCursor(db, dups.through);
  return { touched: out.map((r) => r.source), moreDue };
}

/** The quality source of a quarantined item: its device when the door knew it, else its source. */
function rejectSource(r: RejectRow): string {
  return r.deviceId ?? r.source ?? `pitwall:${r.channel}`;
}

/** The quality source of a duplicate count: its device when the event named one, else its source. */
function duplicateSource(d: DuplicateRow): string {
  return d.device !== '' ? d.device : d.source;
}

/** Quarantined items after the cursor received up to `upTo`, and the cursor after them. */
async function readRejects(db: Db, cursor: string, upTo: number): Promise<{ rejects: RejectRow[]; next: string }> {
  const rejects: RejectRow[] = [];
  let next = cursor;
  for (;;) {
    const page = await rejectsAfter(db, next, REJECT_PAGE);
    for (const r of page) {
      if (r.receivedMs > upTo) return { rejects, next };
      rejects.push(r);
      next = r.id;
    }
    if (page.length < REJECT_PAGE) return { rejects, next };
  }
}

function fromRow(row: SourceRow): Rec {
  return {
    source: row.source,
    updatedSeq: Number(row.updated_seq),
    asOf: Number(row.updated_ms),
    lastEventId: row.last_event_id ?? undefined,
    pending: pendingOf(row),
    pruned: false,
    changed: false,
  };
}

function toRow(monitor: QualityMonitor, rec: Rec): SourceRow {
  const at = rec.asOf;
  const { score, flags } = monitor.score(rec.source, at);
  const staleAt = monitor.staleAt(rec.source);
  const snapshot = monitor.snapshot(rec.source);
  return {
    source: rec.source,
    score,
    trusted: monitor.isTrusted(rec.source, at) ? 1 : 0,
    degraded: monitor.isDegraded(rec.source) ? 1 : 0,
    flags: JSON.stringify(flags),
    last_received_ms: monitor.lastReceivedAt(rec.source) ?? null,
    updated_ms: at,
    state: JSON.stringify(snapshot),
    updated_seq: rec.updatedSeq,
    stale_at_ms: staleAt !== undefined && staleAt > at ? staleAt : null,
    last_event_id: rec.lastEventId ?? null,
    pending: JSON.stringify(rec.pending),
    has_pending: pendingMark(rec.pending),
  };
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
