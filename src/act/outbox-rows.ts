/** Row mapping, cursors and argument checks shared by the SQLite and PostgreSQL outboxes. */
import type { Insertable, Selectable } from 'kysely';
import { AppError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import type { ActionRequest, ActionResult, ActionStatus, ClaimedAction, StoredAction } from './types.ts';

export type OutboxRow = Selectable<Database['outbox']>;

function parseJson<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}

function requestOf(r: OutboxRow): ActionRequest {
  return {
    key: r.key,
    runId: r.run_id,
    workflowId: r.workflow_id,
    workflowVersion: Number(r.workflow_version),
    stepPath: r.step_path,
    type: r.type,
    params: JSON.parse(r.params) as Record<string, unknown>,
    ...(r.customer_id !== null ? { customerId: r.customer_id } : {}),
    ...(r.subject !== null ? { subject: r.subject } : {}),
    createdAtMs: Number(r.created_ms),
  };
}

export function rowToClaimed(r: OutboxRow, token: string): ClaimedAction {
  return { ...requestOf(r), attempts: Number(r.attempts), token };
}

export function rowToStored(r: OutboxRow): StoredAction {
  return {
    ...requestOf(r),
    status: r.status as ActionStatus,
    attempts: Number(r.attempts),
    readyAtMs: Number(r.ready_ms),
    leasedUntilMs: r.lease_token === null ? undefined : Number(r.ready_ms),
    lastError: r.last_error ?? undefined,
    result: parseJson<ActionResult>(r.result),
    updatedAtMs: Number(r.updated_ms),
    finishedAtMs: r.finished_ms === null ? undefined : Number(r.finished_ms),
  };
}

/** The row for a new request (status pending, ready at its not-before or creation time). */
export function requestToRow(q: ActionRequest, nowMs: number): Insertable<Database['outbox']> {
  checkRequest(q);
  return {
    key: q.key,
    run_id: q.runId,
    workflow_id: q.workflowId,
    workflow_version: q.workflowVersion,
    step_path: q.stepPath,
    type: q.type,
    params: JSON.stringify(q.params),
    customer_id: q.customerId ?? null,
    subject: q.subject ?? null,
    created_ms: q.createdAtMs,
    status: 'pending',
    attempts: 0,
    ready_ms: q.notBeforeMs ?? q.createdAtMs,
    lease_token: null,
    last_error: null,
    result: null,
    updated_ms: nowMs,
    finished_ms: null,
  };
}

export function checkRequest(q: ActionRequest): void {
  const bad = (what: string) => {
    throw new AppError('PW_ACTION_REQUEST_INVALID', `action request ${JSON.stringify(q.key)}: ${what}`, { status: 500 });
  };
  if (typeof q.key !== 'string' || q.key === '' || q.key.length > 200) bad('key must be a string of 1–200 characters');
  if (typeof q.type !== 'string' || q.type === '') bad('type is required');
  if (!Number.isSafeInteger(q.createdAtMs)) bad('createdAtMs must be integer epoch ms');
  if (q.notBeforeMs !== undefined && !Number.isSafeInteger(q.notBeforeMs)) bad('notBeforeMs must be integer epoch ms');
  if (!Number.isInteger(q.workflowVersion)) bad('workflowVersion must be an integer');
  if (q.params === null || typeof q.params !== 'object' || Array.isArray(q.params)) bad('params must be an object');
}

/** Later duplicates of a key in one call are dropped, as the stored one would win anyway. */
export function firstPerKey(requests: readonly ActionRequest[]): ActionRequest[] {
  const seen = new Set<string>();
  return requests.filter((q) => !seen.has(q.key) && seen.add(q.key) !== undefined);
}

export function checkClaimArgs(limit: number, leaseMs: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`claim limit must be a positive integer, got ${limit}`);
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError(`lease must be positive, got ${leaseMs}`);
}

export function checkTime(ms: number): void {
  if (!Number.isSafeInteger(ms)) throw new RangeError(`a time must be integer epoch ms, got ${ms}`);
}

export function encodeCursor(a: { createdAtMs: number; key: string }): string {
  return Buffer.from(JSON.stringify([a.createdAtMs, a.key])).toString('base64url');
}

export function decodeCursor(s: string): { createdMs: number; key: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { createdMs: v[0], key: v[1] };
  } catch {
    // falls through to the error below
  }
  throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
}

/** Claims come back oldest first (RETURNING gives no order). */
export function byCreated(a: OutboxRow, b: OutboxRow): number {
  return Number(a.created_ms) - Number(b.created_ms) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
