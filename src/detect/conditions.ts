/**
 * Conditions: detector firings with a lifecycle (raised → acknowledged → cleared), the way
 * ThingsBoard alarms work, but folded from the log so they survive restarts and rebuilds.
 *
 * Rules:
 * - Detectors declare `ConditionRule`s: a derived event type that **raises** a condition of a
 *   kind for a key (e.g. `device.silent` for `device-7`), or **clears** it (`device.back`).
 * - At most one condition per (kind, key) is open (`raised` or `acknowledged`). Raising an open
 *   one refreshes it (`last_raised_ms`, `raise_count`, details); a new one gets a deterministic
 *   id from the raising event, so re-folding the same event never makes a second condition.
 * - A clear closes the open condition for its key; a clear with none open changes nothing.
 * - A **terminal** clear (rule `terminal: true`) is also remembered in `condition_terminals`: every
 *   raise for that (kind, key) folded after it is ignored, so a detector that read state before a
 *   delivery was folded cannot reopen a condition for a shipment that is done.
 * - `condition.acknowledged` (appended by `POST /v1/conditions/:id/acknowledge`) moves a
 *   `raised` condition to `acknowledged`; on a cleared one it records who and when but it
 *   stays `cleared`.
 * - Idempotent by position: `updated_seq` guards every row.
 */
import type { Selectable } from 'kysely';
import { deterministicId, isoTime } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import type { Database } from '../store/index.ts';
import { type ConditionRule, type Db, dataOf, eventTimeMs, type Projection, type Severity } from './framework.ts';

export const CONDITION_ACKNOWLEDGED = 'condition.acknowledged';
/** A person cleared an open condition by hand (a false alarm, or handled outside Pitwall). */
export const CONDITION_CLEARED = 'condition.cleared';
export type ConditionStatus = 'raised' | 'acknowledged' | 'cleared';
const OPEN: ConditionStatus[] = ['raised', 'acknowledged'];

export interface Condition {
  id: string;
  kind: string;
  key: string;
  status: ConditionStatus;
  severity: Severity;
  summary: string;
  /** The data of the latest raising event. */
  details: Record<string, unknown>;
  raisedAt: string;
  raisedEventId: string;
  lastRaisedAt: string;
  raiseCount: number;
  acknowledgedAt: string | undefined;
  acknowledgedBy: string | undefined;
  note: string | undefined;
  clearedAt: string | undefined;
  clearedEventId: string | undefined;
}

type Row = Selectable<Database['conditions']>;

export function conditionId(kind: string, key: string, raisedBy: CloudEvent): string {
  return deterministicId('pitwall.condition', kind, key, raisedBy.source, raisedBy.id);
}

export function createConditionsProjection(rules: readonly ConditionRule[]): Projection {
  const byType = new Map<string, ConditionRule[]>();
  for (const r of rules) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  return {
    name: 'conditions',
    tables: ['conditions', 'condition_terminals'],
    handles: (e) => byType.has(e.type) || e.type === CONDITION_ACKNOWLEDGED || e.type === CONDITION_CLEARED,
    async apply(db, events) {
      for (const le of events) {
        if (le.event.type === CONDITION_ACKNOWLEDGED) await acknowledge(db, le);
        else if (le.event.type === CONDITION_CLEARED) await clearByHand(db, le);
        else for (const rule of byType.get(le.event.type) ?? []) await applyRule(db, rule, le);
      }
    },
  };
}

async function openFor(db: Db, kind: string, key: string): Promise<Row | undefined> {
  return db
    .selectFrom('conditions')
    .selectAll()
    .where('kind', '=', kind)
    .where('key', '=', key)
    .where('status', 'in', OPEN)
    .orderBy('raised_ms', 'desc')
    .limit(1)
    .executeTakeFirst();
}

async function applyRule(db: Db, rule: ConditionRule, le: LoggedEvent): Promise<void> {
  const e = le.event;
  const key = rule.key(e);
  if (key === undefined) return;
  const at = eventTimeMs(e);
  if (rule.action === 'clear' && rule.terminal) {
    await db
      .insertInto('condition_terminals')
      .values({ kind: rule.kind, key, cleared_ms: at, event_id: e.id, updated_seq: le.seq })
      .onConflict((oc) => oc.columns(['kind', 'key']).doNothing())
      .execute();
  } else if (rule.action === 'raise') {
    const done = await db
      .selectFrom('condition_terminals')
      .select('updated_seq')
      .where('kind', '=', rule.kind)
      .where('key', '=', key)
      .executeTakeFirst();
    if (done) return; // the subject is finished: a raise folded after its terminal clear opens nothing
  }
  // Idempotent by position across every condition of this (kind, key), open or not: a replayed
  // batch must not find the condition it cleared closed and raise a new one.
  const newest = await db
    .selectFrom('conditions')
    .select((eb) => eb.fn.max('updated_seq').as('seq'))
    .where('kind', '=', rule.kind)
    .where('key', '=', key)
    .executeTakeFirst();
  if (newest?.seq !== null && newest?.seq !== undefined && le.seq <= Number(newest.seq)) return;
  const open = await openFor(db, rule.kind, key);
  if (rule.action === 'clear') {
    if (!open) return;
    await db
      .updateTable('conditions')
      .set({ status: 'cleared', cleared_ms: at, cleared_event_id: e.id, updated_seq: le.seq })
      .where('id', '=', open.id)
      .execute();
    return;
  }
  const severity = typeof rule.severity === 'function' ? rule.severity(e) : (rule.severity ?? 'warning');
  const summary = rule.summary?.(e) ?? `${rule.kind} ${key}`;
  const details = JSON.stringify(dataOf(e));
  if (open) {
    await db
      .updateTable('conditions')
      .set({
        last_raised_ms: Math.max(at, Number(open.last_raised_ms)),
        raise_count: open.raise_count + 1,
        severity,
        summary,
        details,
        updated_seq: le.seq,
      })
      .where('id', '=', open.id)
      .execute();
    return;
  }
  const id = conditionId(rule.kind, key, e);
  const exists = await db.selectFrom('conditions').select('id').where('id', '=', id).executeTakeFirst();
  if (exists) return; // this raise was folded before (a replayed batch)
  await db
    .insertInto('conditions')
    .values({
      id,
      kind: rule.kind,
      key,
      status: 'raised',
      severity,
      summary,
      details,
      raised_ms: at,
      raised_event_id: e.id,
      last_raised_ms: at,
      raise_count: 1,
      acknowledged_ms: null,
      acknowledged_by: null,
      note: null,
      cleared_ms: null,
      cleared_event_id: null,
      updated_seq: le.seq,
    })
    .execute();
}

async function acknowledge(db: Db, le: LoggedEvent): Promise<void> {
  const d = dataOf(le.event);
  if (typeof d.condition_id !== 'string') return;
  const row = await db.selectFrom('conditions').selectAll().where('id', '=', d.condition_id).executeTakeFirst();
  if (!row || le.seq <= Number(row.updated_seq) || row.acknowledged_ms !== null) return;
  await db
    .updateTable('conditions')
    .set({
      status: row.status === 'raised' ? 'acknowledged' : row.status,
      acknowledged_ms: eventTimeMs(le.event),
      acknowledged_by: typeof d.by === 'string' ? d.by : null,
      note: typeof d.note === 'string' ? d.note : null,
      updated_seq: le.seq,
    })
    .where('id', '=', row.id)
    .execute();
}

/**
 * A clear by hand closes the condition now; if the detector raises the same (kind, key) again
 * later, that opens a new condition — as an alarm cleared in ThingsBoard comes back when the fault
 * recurs. The note (if any) replaces the acknowledgement's.
 */
async function clearByHand(db: Db, le: LoggedEvent): Promise<void> {
  const d = dataOf(le.event);
  if (typeof d.condition_id !== 'string') return;
  const row = await db.selectFrom('conditions').selectAll().where('id', '=', d.condition_id).executeTakeFirst();
  if (!row || le.seq <= Number(row.updated_seq) || !OPEN.includes(row.status as ConditionStatus)) return;
  await db
    .updateTable('conditions')
    .set({
      status: 'cleared',
      cleared_ms: eventTimeMs(le.event),
      cleared_event_id: le.event.id,
      ...(typeof d.note === 'string' ? { note: d.note } : {}),
      updated_seq: le.seq,
    })
    .where('id', '=', row.id)
    .execute();
}

export interface ConditionQuery {
  /** `open` means raised or acknowledged. */
  status?: ConditionStatus | 'open' | undefined;
  kind?: string | undefined;
  key?: string | undefined;
  /** Newest first; continue below this `raised_ms`/`id` pair (from `next_cursor`). */
  before?: { raisedMs: number; id: string } | undefined;
  limit: number;
}

export async function listConditions(db: Db, q: ConditionQuery): Promise<Condition[]> {
  let query = db.selectFrom('conditions').selectAll();
  if (q.status === 'open') query = query.where('status', 'in', OPEN);
  else if (q.status !== undefined) query = query.where('status', '=', q.status);
  if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
  if (q.key !== undefined) query = query.where('key', '=', q.key);
  const before = q.before;
  if (before)
    query = query.where((eb) =>
      eb.or([eb('raised_ms', '<', before.raisedMs), eb.and([eb('raised_ms', '=', before.raisedMs), eb('id', '<', before.id)])]),
    );
  const rows = await query.orderBy('raised_ms', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(fromRow);
}

export async function getCondition(db: Db, id: string): Promise<Condition | undefined> {
  const row = await db.selectFrom('conditions').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/** The `condition.acknowledged` event for an acknowledgement by `by` (a key id or a person). */
export function acknowledgementEvent(conditionIdValue: string, by: string, note: string | undefined, atMs: number, id: string): CloudEvent {
  return conditionEvent(CONDITION_ACKNOWLEDGED, conditionIdValue, by, note, atMs, id);
}

/** The `condition.cleared` event for a clear by hand by `by`. */
export function clearanceEvent(conditionIdValue: string, by: string, note: string | undefined, atMs: number, id: string): CloudEvent {
  return conditionEvent(CONDITION_CLEARED, conditionIdValue, by, note, atMs, id);
}

function conditionEvent(
  type: string,
  conditionIdValue: string,
  by: string,
  note: string | undefined,
  atMs: number,
  id: string,
): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'pitwall:api/conditions',
    type,
    time: isoTime(atMs),
    datacontenttype: 'application/json',
    data: { condition_id: conditionIdValue, by, ...(note !== undefined ? { note } : {}) },
  };
}

function iso(ms: number | bigint | null): string | undefined {
  return ms === null ? undefined : isoTime(Number(ms));
}

function fromRow(r: Row): Condition {
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    status: r.status as ConditionStatus,
    severity: r.severity as Severity,
    summary: r.summary,
    details: JSON.parse(r.details) as Record<string, unknown>,
    raisedAt: isoTime(Number(r.raised_ms)),
    raisedEventId: r.raised_event_id,
    lastRaisedAt: isoTime(Number(r.last_raised_ms)),
    raiseCount: r.raise_count,
    acknowledgedAt: iso(r.acknowledged_ms),
    acknowledgedBy: r.acknowledged_by ?? undefined,
    note: r.note ?? undefined,
    clearedAt: iso(r.cleared_ms),
    clearedEventId: r.cleared_event_id ?? undefined,
  };
}
