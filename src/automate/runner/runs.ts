/**
 * Runs and their traces in tables `runs`, `run_trace` and `run_cancel_on` (migration 0015).
 * Repository functions take the handle first, so they compose inside the run's transaction.
 */
import type { Selectable } from 'kysely';
import { AppError, deterministicId } from '../../core/index.ts';
import type { Db } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { Database } from '../../store/index.ts';

export const RUN_STATUSES = ['running', 'waiting', 'completed', 'cancelled', 'skipped', 'holdout', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: readonly RunStatus[] = ['completed', 'cancelled', 'skipped', 'holdout', 'failed'];

export const TRACE_KINDS = ['trigger', 'flow', 'condition', 'policy', 'holdout', 'action', 'wait', 'cancel', 'error'] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];

export type TriggerKind = 'event' | 'absence' | 'correlation' | 'schedule';

export interface Run {
  id: string;
  workflowId: string;
  workflowVersion: number;
  customerId: string | undefined;
  status: RunStatus;
  triggerKind: TriggerKind;
  triggerEventIds: string[];
  subject: string | undefined;
  stepPath: string | undefined;
  wakeAt: number | undefined;
  wakeKind: 'wait' | 'defer' | undefined;
  actions: number;
  outcome: string | undefined;
  startedAt: number;
  updatedAt: number;
  endedAt: number | undefined;
}

/** A run as the runner holds it: the row plus the triggering events and the trace counter. */
export interface RunState extends Run {
  triggerEvents: CloudEvent[];
  traceCount: number;
}

export interface TraceEntry {
  seq: number;
  at: number;
  kind: TraceKind;
  stepPath: string | undefined;
  detail: Record<string, unknown>;
}

type RunRow = Selectable<Database['runs']>;

/**
 * The run of a workflow for one trigger match. The version is not part of it: a batch replayed
 * after the workflow was edited finds the run the first pass started, so it acts once.
 */
export function runId(workflowId: string, kind: TriggerKind, key: readonly (string | number)[]): string {
  return deterministicId('pitwall.run', workflowId, kind, ...key);
}

/** The idempotency key of a run's action (act-design.md): the outbox key and the receiver's. */
export function actionKey(runId: string, stepPath: string): string {
  return deterministicId('pitwall.action', runId, stepPath);
}

const num = (v: number | bigint | null) => (v === null ? undefined : Number(v));

function fromRow(r: RunRow): RunState {
  return {
    id: r.id,
    workflowId: r.workflow_id,
    workflowVersion: r.workflow_version,
    customerId: r.customer_id ?? undefined,
    status: r.status as RunStatus,
    triggerKind: r.trigger_kind as TriggerKind,
    triggerEventIds: JSON.parse(r.trigger_event_ids) as string[],
    triggerEvents: JSON.parse(r.trigger_events) as CloudEvent[],
    subject: r.subject ?? undefined,
    stepPath: r.step_path ?? undefined,
    wakeAt: num(r.wake_ms),
    wakeKind: (r.wake_kind ?? undefined) as Run['wakeKind'],
    actions: r.actions,
    traceCount: r.trace_count,
    outcome: r.outcome ?? undefined,
    startedAt: Number(r.started_ms),
    updatedAt: Number(r.updated_ms),
    endedAt: num(r.ended_ms),
  };
}

function toRow(r: RunState): RunRow {
  return {
    id: r.id,
    workflow_id: r.workflowId,
    workflow_version: r.workflowVersion,
    customer_id: r.customerId ?? null,
    status: r.status,
    trigger_kind: r.triggerKind,
    trigger_event_ids: JSON.stringify(r.triggerEventIds),
    trigger_events: JSON.stringify(r.triggerEvents),
    subject: r.subject ?? null,
    step_path: r.stepPath ?? null,
    wake_ms: r.wakeAt ?? null,
    wake_kind: r.wakeKind ?? null,
    actions: r.actions,
    trace_count: r.traceCount,
    outcome: r.outcome ?? null,
    started_ms: r.startedAt,
    updated_ms: r.updatedAt,
    ended_ms: r.endedAt ?? null,
  };
}

/** A run with its triggering events (for resuming it); `lock` (PostgreSQL) holds its row to the end of the transaction. */
export async function loadRun(db: Db, id: string, lock = false): Promise<RunState | undefined> {
  const q = db.selectFrom('runs').selectAll().where('id', '=', id);
  const r = await (lock ? q.forUpdate() : q).executeTakeFirst();
  return r ? fromRow(r) : undefined;
}

/** One run, without its triggering events. */
export async function getRun(db: Db, id: string): Promise<Run | undefined> {
  const r = await loadRun(db, id);
  if (!r) return undefined;
  const { triggerEvents: _e, traceCount: _t, ...run } = r;
  return run;
}

/** Writes the run and its new trace entries (one transaction, the caller's). */
export async function saveRun(db: Db, run: RunState, isNew: boolean, trace: readonly TraceEntry[]): Promise<void> {
  const row = toRow(run);
  if (isNew) await db.insertInto('runs').values(row).execute();
  else {
    const { id, ...rest } = row;
    await db.updateTable('runs').set(rest).where('id', '=', id).execute();
  }
  if (trace.length > 0)
    await db
      .insertInto('run_trace')
      .values(
        trace.map((t) => ({
          run_id: run.id,
          seq: t.seq,
          at_ms: t.at,
          kind: t.kind,
          step_path: t.stepPath ?? null,
          detail: JSON.stringify(t.detail),
        })),
      )
      .execute();
}

/** The run's trace, in order. */
export async function runTrace(db: Db, id: string): Promise<TraceEntry[]> {
  const rows = await db.selectFrom('run_trace').selectAll().where('run_id', '=', id).orderBy('seq').execute();
  return rows.map((r) => ({
    seq: r.seq,
    at: Number(r.at_ms),
    kind: r.kind as TraceKind,
    stepPath: r.step_path ?? undefined,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}

export interface RunQuery {
  workflowId?: string | undefined;
  customerId?: string | undefined;
  status?: RunStatus | undefined;
  /** Continue after this run (newest first): a cursor from `encodeRunCursor`. */
  before?: { startedAt: number; id: string } | undefined;
  limit: number;
}

/** Runs newest first. */
export async function listRuns(db: Db, q: RunQuery): Promise<Run[]> {
  let query = db.selectFrom('runs').selectAll();
  if (q.workflowId !== undefined) query = query.where('workflow_id', '=', q.workflowId);
  if (q.customerId !== undefined) query = query.where('customer_id', '=', q.customerId);
  if (q.status !== undefined) query = query.where('status', '=', q.status);
  const before = q.before;
  if (before)
    query = query.where((eb) =>
      eb.or([eb('started_ms', '<', before.startedAt), eb.and([eb('started_ms', '=', before.startedAt), eb('id', '<', before.id)])]),
    );
  const rows = await query.orderBy('started_ms', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map((r) => {
    const { triggerEvents: _e, traceCount: _t, ...run } = fromRow(r);
    return run;
  });
}

export function encodeRunCursor(r: Pick<Run, 'startedAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([r.startedAt, r.id])).toString('base64url');
}

export function decodeRunCursor(s: string): { startedAt: number; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { startedAt: v[0], id: v[1] };
  } catch {
    // falls through to the error below
  }
  throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
}

/** Indexes a waiting run's cancelOn entries by event type. */
export async function indexCancelOn(db: Db, run: Pick<Run, 'id' | 'customerId'>, entries: readonly { event: string; match?: string }[]) {
  const rows = new Map<string, { event_type: string; run_id: string; customer_id: string | null; any_customer: number }>();
  for (const e of entries) {
    const prev = rows.get(e.event);
    const any = e.match !== undefined ? 1 : 0;
    rows.set(e.event, {
      event_type: e.event,
      run_id: run.id,
      customer_id: run.customerId ?? null,
      any_customer: Math.max(any, prev?.any_customer ?? 0),
    });
  }
  if (rows.size === 0) return;
  await db
    .insertInto('run_cancel_on')
    .values([...rows.values()])
    .onConflict((oc) => oc.columns(['event_type', 'run_id']).doNothing())
    .execute();
}

export async function unindexCancelOn(db: Db, id: string): Promise<void> {
  await db.deleteFrom('run_cancel_on').where('run_id', '=', id).execute();
}

/** Waiting runs an event of `type` (about `customerId`) may cancel. */
export async function cancelCandidates(db: Db, type: string, customerId: string | undefined): Promise<string[]> {
  const rows = await db
    .selectFrom('run_cancel_on')
    .select('run_id')
    .where('event_type', '=', type)
    .where((eb) =>
      customerId === undefined
        ? eb('any_customer', '=', 1)
        : eb.or([eb('any_customer', '=', 1), eb.and([eb('any_customer', '=', 0), eb('customer_id', '=', customerId)])]),
    )
    .orderBy('run_id')
    .execute();
  return rows.map((r) => r.run_id);
}

/** Event types some waiting run can be cancelled by. */
export async function cancelEventTypes(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('run_cancel_on').select('event_type').distinct().execute();
  return new Set(rows.map((r) => r.event_type));
}

/** The latest runs of a workflow for a customer, newest first. */
export function latestRunsFor(db: Db, workflowId: string, customerId: string, limit: number): Promise<Run[]> {
  return listRuns(db, { workflowId, customerId, limit });
}

/** Runs started at or after `sinceMs`, counted per workflow and status in one grouped query (the dashboard's list). */
export async function countRunsSince(db: Db, sinceMs: number): Promise<Map<string, Partial<Record<RunStatus, number>>>> {
  const rows = await db
    .selectFrom('runs')
    .select((eb) => ['workflow_id', 'status', eb.fn.countAll().as('n')])
    .where('started_ms', '>=', sinceMs)
    .groupBy(['workflow_id', 'status'])
    .execute();
  const out = new Map<string, Partial<Record<RunStatus, number>>>();
  for (const r of rows) {
    const counts = out.get(r.workflow_id) ?? {};
    counts[r.status as RunStatus] = Number(r.n);
    out.set(r.workflow_id, counts);
  }
  return out;
}
