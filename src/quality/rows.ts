/** Storage of the quality module: `quality_sources`, `quality_cursors`, and the reads of `quarantine`. */
import type { Selectable } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { Database } from '../store/index.ts';
import type { SourceSnapshot } from './snapshot.ts';

export type SourceRow = Selectable<Database['quality_sources']>;

/** A transition the fold found that is not yet back in the log as a `quality.*` event. */
export interface PendingTransition {
  /** The derived event's id (deterministic: see `transitionId`). */
  id: string;
  type: 'quality.degraded' | 'quality.recovered';
  /** When it happened (ms): the receive time of what caused it, or when the source went stale. */
  at: number;
  score: number;
  reasons: string[];
  /** The log position whose fold found it; 0 when the stale timer did. */
  seq: number;
  trigger: 'reading' | 'reject' | 'duplicate' | 'stale';
  causedBy: string[];
}

/** A quarantined item, as far as the reject rate needs it. */
export interface RejectRow {
  id: string;
  receivedMs: number;
  channel: string;
  source: string | null;
  type: string | null;
  deviceId: string | undefined;
}

/** Duplicates ingest counted for one (minute, source, device, type). */
export interface DuplicateRow {
  minuteMs: number;
  source: string;
  /** The event's `deviceid` extension; '' when it had none. */
  device: string;
  type: string;
  count: number;
}

/** Rows per `IN (...)` query and per multi-row upsert. */
const CHUNK = 200;
const QUARANTINE_CURSOR = 'quarantine';
const DUPLICATES_CURSOR = 'duplicates';

export async function loadRows(db: Db, sources: Iterable<string>): Promise<Map<string, SourceRow>> {
  const all = [...sources];
  const out = new Map<string, SourceRow>();
  for (let i = 0; i < all.length; i += CHUNK) {
    const rows = await db
      .selectFrom('quality_sources')
      .selectAll()
      .where('source', 'in', all.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(r.source, r);
  }
  return out;
}

export async function upsertRows(db: Db, rows: readonly SourceRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto('quality_sources')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc.column('source').doUpdateSet((eb) => ({
          score: eb.ref('excluded.score'),
          trusted: eb.ref('excluded.trusted'),
          degraded: eb.ref('excluded.degraded'),
          flags: eb.ref('excluded.flags'),
          last_received_ms: eb.ref('excluded.last_received_ms'),
          updated_ms: eb.ref('excluded.updated_ms'),
          state: eb.ref('excluded.state'),
          updated_seq: eb.ref('excluded.updated_seq'),
          stale_at_ms: eb.ref('excluded.stale_at_ms'),
          last_event_id: eb.ref('excluded.last_event_id'),
          pending: eb.ref('excluded.pending'),
          has_pending: eb.ref('excluded.has_pending'),
        })),
      )
      .execute();
  }
}

/** The monitor state of a row; a row written by hand (no state) starts from its verdict's columns. */
export function snapshotOf(row: SourceRow): SourceSnapshot {
  const s = row.state === '' ? undefined : (JSON.parse(row.state) as SourceSnapshot);
  if (s?.v === 1) return s;
  return {
    v: 1,
    lastReceivedAt: row.last_received_ms === null ? null : Number(row.last_received_ms),
    inferredKind: null,
    lastSpike: null,
    lastSkew: null,
    degraded: row.degraded === 1,
    outcomes: [],
    signals: [],
  };
}

export function pendingOf(row: SourceRow): PendingTransition[] {
  return JSON.parse(row.pending) as PendingTransition[];
}

/**
 * The quarantine position read so far, taking a row lock on PostgreSQL: every write to the
 * quality tables goes through this, so the projection and the stale timer never interleave.
 */
export async function lockQuarantineCursor(db: Db, lock: boolean): Promise<string> {
  await db
    .insertInto('quality_cursors')
    .values({ name: QUARANTINE_CURSOR, value: '' })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('quality_cursors')
    .select('value')
    .where('name', '=', QUARANTINE_CURSOR)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  return row?.value ?? '';
}

/** The last minute of `ingest_duplicates` read so far (-1 before any). */
export async function duplicatesCursor(db: Db): Promise<number> {
  const r = await db.selectFrom('quality_cursors').select('value').where('name', '=', DUPLICATES_CURSOR).executeTakeFirst();
  return r === undefined || r.value === '' ? -1 : Number(r.value);
}

export async function saveDuplicatesCursor(db: Db, minuteMs: number): Promise<void> {
  await db
    .insertInto('quality_cursors')
    .values({ name: DUPLICATES_CURSOR, value: String(minuteMs) })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: String(minuteMs) }))
    .execute();
}

/**
 * Duplicate counts of the minutes after `afterMinute` up to `lastMinute`, in (minute,
 * source, device, type) order, and the last minute they cover. Minutes are read whole: at most
 * about `limit` rows, unless one minute alone has more.
 */
export async function duplicatesAfter(
  db: Db,
  afterMinute: number,
  lastMinute: number,
  limit: number,
): Promise<{ rows: DuplicateRow[]; through: number }> {
  if (lastMinute <= afterMinute) return { rows: [], through: afterMinute };
  const page = (to: number, max?: number) =>
    db
      .selectFrom('ingest_duplicates')
      .selectAll()
      .where('minute_ms', '>', afterMinute)
      .where('minute_ms', '<=', to)
      .orderBy('minute_ms')
      .orderBy('source')
      .orderBy('device')
      .orderBy('type')
      .$if(max !== undefined, (q) => q.limit(max ?? 0))
      .execute();
  let rows = await page(lastMinute, limit + 1);
  let through = lastMinute;
  const last = rows[rows.length - 1];
  if (rows.length > limit && last) {
    // A full page may end inside a minute: keep the whole minutes before it, or read that one minute whole.
    const cut = Number(last.minute_ms);
    const before = rows.filter((r) => Number(r.minute_ms) < cut);
    if (before.length > 0) {
      rows = before;
      through = Number((before[before.length - 1] as (typeof rows)[number]).minute_ms);
    } else {
      rows = await page(cut);
      through = cut;
    }
  }
  const out = rows.map((r) => ({
    minuteMs: Number(r.minute_ms),
    source: r.source,
    device: r.device,
    type: r.type,
    count: Number(r.count),
  }));
  return { rows: out, through };
}

/** The first minute of `ingest_duplicates` after `afterMinute`, if any. */
export async function firstDuplicateAfter(db: Db, afterMinute: number): Promise<number | undefined> {
  const r = await db
    .selectFrom('ingest_duplicates')
    .select((eb) => eb.fn.min('minute_ms').as('first'))
    .where('minute_ms', '>', afterMinute)
    .executeTakeFirst();
  return r?.first === null || r?.first === undefined ? undefined : Number(r.first);
}

export async function saveQuarantineCursor(db: Db, value: string): Promise<void> {
  await db.updateTable('quality_cursors').set({ value }).where('name', '=', QUARANTINE_CURSOR).execute();
}

/** Quarantined items after `afterId` (ids are time-ordered UUIDv7), oldest first. */
export async function rejectsAfter(db: Db, afterId: string, limit: number): Promise<RejectRow[]> {
  const rows = await db
    .selectFrom('quarantine')
    .select(['id', 'received_ms', 'channel', 'source', 'type', 'context'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    let deviceId: string | undefined;
    try {
      const c = JSON.parse(r.context) as { deviceId?: unknown };
      if (typeof c.deviceId === 'string' && c.deviceId !== '') deviceId = c.deviceId;
    } catch {
      // A context that is not JSON names no device.
    }
    return { id: r.id, receivedMs: Number(r.received_ms), channel: r.channel, source: r.source, type: r.type, deviceId };
  });
}

/** The receive time of the first quarantined item after `afterId`, if any. */
export async function firstRejectAfter(db: Db, afterId: string): Promise<number | undefined> {
  const r = await db.selectFrom('quarantine').select('received_ms').where('id', '>', afterId).orderBy('id').limit(1).executeTakeFirst();
  return r ? Number(r.received_ms) : undefined;
}

export async function quarantineCursor(db: Db): Promise<string> {
  const r = await db.selectFrom('quality_cursors').select('value').where('name', '=', QUARANTINE_CURSOR).executeTakeFirst();
  return r?.value ?? '';
}

/** Sources whose stale time is at or before `by`, earliest first. */
export async function dueSources(db: Db, by: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('quality_sources')
    .select('source')
    .where('stale_at_ms', '<=', by)
    .orderBy('stale_at_ms')
    .limit(limit)
    .execute();
  return rows.map((r) => r.source);
}

/** The earliest stale time over all sources. */
export async function nextStaleAt(db: Db): Promise<number | undefined> {
  const r = await db
    .selectFrom('quality_sources')
    .select((eb) => eb.fn.min('stale_at_ms').as('next'))
    .executeTakeFirst();
  return r?.next === null || r?.next === undefined ? undefined : Number(r.next);
}

/** `has_pending` of a transition the stale timer found (it emits those itself, at once). */
export const TIMER_PENDING = Number.MAX_SAFE_INTEGER;

/** `has_pending` for a row's pending transitions. */
export function pendingMark(pending: readonly PendingTransition[]): number {
  return pending.reduce((mx, p) => Math.max(mx, p.seq === 0 ? TIMER_PENDING : p.seq), 0);
}

/**
 * Rows holding transitions found at or after log position `fromSeq` (or by the timer), the ones
 * still to emit; transitions of older batches were emitted then (or belong to a rebuild). Pages in
 * (`has_pending`, `source`) order: pass the last row's pair as `after` for the next page.
 */
export async function rowsWithPending(
  db: Db,
  fromSeq: number,
  limit: number,
  after?: { mark: number; source: string },
): Promise<SourceRow[]> {
  return db
    .selectFrom('quality_sources')
    .selectAll()
    .where('has_pending', '>=', Math.max(1, fromSeq))
    .$if(after !== undefined, (q) =>
      q.where((eb) =>
        eb.or([
          eb('has_pending', '>', after?.mark ?? 0),
          eb.and([eb('has_pending', '=', after?.mark ?? 0), eb('source', '>', after?.source ?? '')]),
        ]),
      ),
    )
    .orderBy('has_pending')
    .orderBy('source')
    .limit(limit)
    .execute();
}
