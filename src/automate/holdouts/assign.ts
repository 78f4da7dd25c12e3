/**
 * Holdout assignment: a customer's group in a workflow is decided once, at their first
 * trigger, by a hash of `workflowId:customerId` (the canonical id), and stored. It is never
 * recomputed: a later change of the workflow's percent does not move anyone already
 * assigned, and an anonymous shopper who identifies keeps the group of their anonymous id.
 */
import { hash } from 'node:crypto';
import type { Selectable } from 'kysely';
import { AppError } from '../../core/index.ts';
import type { Db } from '../../detect/index.ts';
import { getCustomer } from '../../state/index.ts';
import type { Database } from '../../store/index.ts';

export type HoldoutGroup = 'treatment' | 'holdout';

export interface HoldoutAssignment {
  workflowId: string;
  customerId: string;
  group: HoldoutGroup;
  /** 0–9999, from the hash of the id the group was first decided for. */
  bucket: number;
  /** The workflow's holdout percent when the group was decided. */
  percent: number;
  /** The alias whose assignment this one was copied from (after identity resolution merged them). */
  viaCustomerId: string | undefined;
  assignedMs: number;
}

type Row = Selectable<Database['holdout_assignments']>;
const BUCKETS = 10_000;
const CHUNK = 500;

/** 0–9999 from SHA-256(`workflowId:customerId`); holdout when below `percent × 100`. */
export function holdoutBucket(workflowId: string, customerId: string): number {
  return hash('sha256', `${workflowId}:${customerId}`, 'buffer').readUInt32BE(0) % BUCKETS;
}

/** The group a bucket falls in for a percent (0–100). */
export function groupOf(bucket: number, percent: number): HoldoutGroup {
  return bucket < Math.round(percent * 100) ? 'holdout' : 'treatment';
}

function fromRow(r: Row): HoldoutAssignment {
  return {
    workflowId: r.workflow_id,
    customerId: r.customer_id,
    group: r.grp as HoldoutGroup,
    bucket: Number(r.bucket),
    percent: Number(r.percent),
    viaCustomerId: r.via_customer_id ?? undefined,
    assignedMs: Number(r.assigned_ms),
  };
}

async function rowsFor(db: Db, workflowId: string, ids: readonly string[]): Promise<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < ids.length; i += CHUNK)
    out.push(
      ...(await db
        .selectFrom('holdout_assignments')
        .selectAll()
        .where('workflow_id', '=', workflowId)
        .where('customer_id', 'in', ids.slice(i, i + CHUNK))
        .execute()),
    );
  return out;
}

/** The earliest assignment among rows (ties: the smaller customer id). */
function earliest(rows: readonly Row[]): Row | undefined {
  let best: Row | undefined;
  for (const r of rows)
    if (
      !best ||
      Number(r.assigned_ms) < Number(best.assigned_ms) ||
      (Number(r.assigned_ms) === Number(best.assigned_ms) && r.customer_id < best.customer_id)
    )
      best = r;
  return best;
}

/**
 * The stored assignment that decides this customer's group: their canonical id's own row,
 * else the earliest row of any of their ids (user and anonymous). Undefined when none.
 */
export async function getHoldoutAssignment(db: Db, workflowId: string, customerId: string): Promise<HoldoutAssignment | undefined> {
  const c = await getCustomer(db, customerId);
  const canonical = c?.customerId ?? customerId;
  const rows = await rowsFor(db, workflowId, [...new Set([canonical, customerId, ...(c?.userIds ?? []), ...(c?.anonymousIds ?? [])])]);
  const own = rows.find((r) => r.customer_id === canonical) ?? earliest(rows);
  return own === undefined ? undefined : fromRow(own);
}

/**
 * The customer's group in the workflow's holdout, stored at first use (in the caller's
 * transaction when `db` is one). A customer with no assignment of their own inherits the
 * earliest one of their aliases; with none at all the canonical id is hashed. With
 * `percent` 0 and nothing stored, the answer is `treatment` and nothing is stored.
 */
export async function assignHoldout(db: Db, workflowId: string, customerId: string, percent: number, atMs: number): Promise<HoldoutGroup> {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100)
    throw new AppError('PW_HOLDOUT_INVALID', `holdout percent must be from 0 to 100 (got ${percent})`, { status: 500 });
  // Fast path: the id asked about already has its row (every trigger after the first).
  const direct = await db
    .selectFrom('holdout_assignments')
    .select('grp')
    .where('workflow_id', '=', workflowId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  if (direct !== undefined) return direct.grp as HoldoutGroup;

  const c = await getCustomer(db, customerId);
  const canonical = c?.customerId ?? customerId;
  const rows = c === undefined ? [] : await rowsFor(db, workflowId, [...new Set([canonical, ...c.userIds, ...c.anonymousIds])]);
  const own = rows.find((r) => r.customer_id === canonical);
  if (own !== undefined) return own.grp as HoldoutGroup;
  const inherited = earliest(rows);
  if (inherited === undefined && percent === 0) return 'treatment';
  const bucket = inherited === undefined ? holdoutBucket(workflowId, canonical) : Number(inherited.bucket);
  const inserted = await db
    .insertInto('holdout_assignments')
    .values({
      workflow_id: workflowId,
      customer_id: canonical,
      grp: inherited === undefined ? groupOf(bucket, percent) : inherited.grp,
      bucket,
      percent: inherited === undefined ? percent : Number(inherited.percent),
      via_customer_id: inherited === undefined ? null : (inherited.via_customer_id ?? inherited.customer_id),
      assigned_ms: atMs,
    })
    .onConflict((oc) => oc.columns(['workflow_id', 'customer_id']).doNothing())
    .returning('grp')
    .executeTakeFirst();
  if (inserted !== undefined) return inserted.grp as HoldoutGroup;
  // Another claimer stored it first: the stored row is the answer.
  const stored = await db
    .selectFrom('holdout_assignments')
    .select('grp')
    .where('workflow_id', '=', workflowId)
    .where('customer_id', '=', canonical)
    .executeTakeFirstOrThrow();
  return stored.grp as HoldoutGroup;
}
