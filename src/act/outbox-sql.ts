/**
 * The outbox over Kysely, shared by both backends; only the claim's row lock and the one-statement
 * batch complete differ (sqlite-outbox.ts, postgres-outbox.ts). Every write goes through Kysely, so on SQLite it waits for the one
 * connection's mutex and never joins another caller's open transaction.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, type QueryResult, type RawBuilder, sql } from 'kysely';
import type { Clock } from '../core/index.ts';
import type { Db } from '../detect/index.ts';
import type { Database, Store } from '../store/index.ts';
import {
  byCreated,
  checkClaimArgs,
  checkTime,
  decodeCursor,
  encodeCursor,
  firstPerKey,
  type OutboxRow,
  requestToRow,
  rowToClaimed,
  rowToStored,
} from './outbox-rows.ts';
import type { ActionQuery, ActionRequest, ActionResult, ActionStatus, ClaimedAction, Outbox, StoredAction } from './types.ts';

/** Rows per INSERT, well under SQLite's parameter limit (18 columns each). */
const CHUNK = 500;

export abstract class SqlOutbox implements Outbox {
  protected readonly db: Kysely<Database>;

  constructor(
    protected readonly store: Store,
    protected readonly clock: Clock,
  ) {
    this.db = store.db;
  }

  /** Locks taken by the claim's row selection (`FOR UPDATE SKIP LOCKED` on PostgreSQL). */
  protected abstract readonly claimLock: RawBuilder<unknown>;

  async enqueue(db: Db, requests: readonly ActionRequest[]): Promise<void> {
    const rows = firstPerKey(requests).map((q) => requestToRow(q, this.clock.now()));
    for (let i = 0; i < rows.length; i += CHUNK) {
      await db
        .insertInto('outbox')
        .values(rows.slice(i, i + CHUNK))
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    }
  }

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedAction[]> {
    checkClaimArgs(limit, leaseMs);
    const now = this.clock.now();
    const token = randomUUID();
    const r = await this.claims(sql<OutboxRow>`
      UPDATE outbox SET lease_token = ${token}, ready_ms = ${now + leaseMs}, attempts = attempts + 1, updated_ms = ${now}
      WHERE key IN (SELECT key FROM outbox WHERE status = 'pending' AND ready_ms <= ${now} ORDER BY ready_ms LIMIT ${limit} ${this.claimLock})
      RETURNING *`);
    return r.rows.sort(byCreated).map((row) => rowToClaimed(row, token));
  }

  /** Runs the claim statement; it must be durable when this resolves (the runs behind its actions with it). */
  protected claims<R>(statement: RawBuilder<R>): Promise<QueryResult<R>> {
    return statement.execute(this.db);
  }

  async complete(key: string, token: string, result: ActionResult): Promise<boolean> {
    return (await this.completeMany([{ key, token, result }])) === 1;
  }

  async completeMany(items: readonly { key: string; token: string; result: ActionResult }[]): Promise<number> {
    if (items.length === 0) return 0;
    const json = JSON.stringify(items.map((it) => ({ k: it.key, t: it.token, r: JSON.stringify(it.result ?? {}) })));
    const r = await this.completions(this.completeStatement(json, this.clock.now()));
    return Number(r.numAffectedRows ?? 0);
  }

  /** Runs a round's completion statement (SQLite: without an fsync of its own). */
  protected completions(statement: RawBuilder<unknown>): Promise<QueryResult<unknown>> {
    return statement.execute(this.db);
  }

  /** One UPDATE marking every `{k, t, r}` of `json` done whose token is still current. */
  protected abstract completeStatement(json: string, nowMs: number): RawBuilder<unknown>;

  async retryAt(key: string, token: string, atMs: number, error: string): Promise<boolean> {
    checkTime(atMs);
    const r = await this.db
      .updateTable('outbox')
      .set({ ready_ms: atMs, lease_token: null, last_error: error, updated_ms: this.clock.now() })
      .where('key', '=', key)
      .where('lease_token', '=', token)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deadLetter(key: string, token: string, error: string): Promise<boolean> {
    const now = this.clock.now();
    const r = await this.db
      .updateTable('outbox')
      .set({ status: 'dead', lease_token: null, last_error: error, updated_ms: now, finished_ms: now })
      .where('key', '=', key)
      .where('lease_token', '=', token)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async replay(key: string): Promise<boolean> {
    const now = this.clock.now();
    const r = await this.db
      .updateTable('outbox')
      .set({ status: 'pending', attempts: 0, ready_ms: now, lease_token: null, updated_ms: now, finished_ms: null })
      .where('key', '=', key)
      .where('status', '=', 'dead')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async get(key: string): Promise<StoredAction | undefined> {
    const r = await this.db.selectFrom('outbox').selectAll().where('key', '=', key).executeTakeFirst();
    return r === undefined ? undefined : rowToStored(r);
  }

  async list(q: ActionQuery): Promise<{ actions: StoredAction[]; nextCursor: string | null }> {
    if (!Number.isInteger(q.limit) || q.limit < 1) throw new RangeError(`list limit must be a positive integer, got ${q.limit}`);
    let query = this.db.selectFrom('outbox').selectAll();
    if (q.status !== undefined) query = query.where('status', '=', q.status);
    if (q.workflowId !== undefined) query = query.where('workflow_id', '=', q.workflowId);
    if (q.runId !== undefined) query = query.where('run_id', '=', q.runId);
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor);
      query = query.where((eb) =>
        eb.or([eb('created_ms', '<', c.createdMs), eb.and([eb('created_ms', '=', c.createdMs), eb('key', '<', c.key)])]),
      );
    }
    const rows = await query.orderBy('created_ms', 'desc').orderBy('key', 'desc').limit(q.limit).execute();
    const actions = rows.map(rowToStored);
    const last = actions[actions.length - 1];
    return { actions, nextCursor: actions.length === q.limit && last ? encodeCursor(last) : null };
  }

  async nextDueAt(): Promise<number | undefined> {
    const r = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.min('ready_ms').as('m'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const m = r?.m;
    return m === null || m === undefined ? undefined : Number(m);
  }

  async counts(): Promise<Record<ActionStatus, number>> {
    const rows = await this.db
      .selectFrom('outbox')
      .select(['status', (eb) => eb.fn.countAll().as('n')])
      .groupBy('status')
      .execute();
    const out: Record<ActionStatus, number> = { pending: 0, done: 0, dead: 0 };
    for (const r of rows) if (r.status in out) out[r.status as ActionStatus] = Number(r.n);
    return out;
  }
}
