/**
 * Quarantine: every rejected input, kept with its raw payload and reason so it can be
 * listed, fixed and replayed. Nothing is silently dropped.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.ts';

export type Channel = 'cloudevents' | 'segment' | 'senml' | 'mqtt-senml' | 'mqtt-telemetry' | 'mqtt-shipment';

/** What replay needs to run the payload through the same door again. */
export interface QuarantineContext {
  /** Canonical source the door assigned (a key, a device). */
  source?: string | undefined;
  deviceId?: string | undefined;
  shipmentId?: string | undefined;
  topic?: string | undefined;
  history?: boolean | undefined;
  store?: string | undefined;
  /** Segment: the call implied by the route, and the batch's sentAt. */
  call?: string | undefined;
  batchSentAt?: unknown;
}

export interface QuarantineEntry {
  id: string;
  receivedAt: number;
  channel: Channel;
  source: string | null;
  type: string | null;
  code: string;
  reason: string;
  pointer: string | null;
  payload: unknown;
  context: QuarantineContext;
  status: 'pending' | 'replayed';
  replayedSeq: number | null;
}

export async function addToQuarantine(db: Kysely<Database>, entries: QuarantineEntry[]): Promise<void> {
  // Chunks keep each statement under SQLite's and PostgreSQL's bind-parameter limits.
  for (let i = 0; i < entries.length; i += 500) await insertChunk(db, entries.slice(i, i + 500));
}

/** PostgreSQL text cannot hold U+0000; the raw item keeps it (JSON-escaped) in `payload`. */
function noNul(s: string | null): string | null {
  return s === null ? null : s.replaceAll('\u0000', '\uFFFD');
}

async function insertChunk(db: Kysely<Database>, entries: QuarantineEntry[]): Promise<void> {
  await db
    .insertInto('quarantine')
    .values(
      entries.map((e) => ({
        id: e.id,
        received_ms: e.receivedAt,
        channel: e.channel,
        source: noNul(e.source),
        type: noNul(e.type),
        code: e.code,
        reason: noNul(e.reason) ?? '',
        pointer: noNul(e.pointer),
        payload: JSON.stringify(e.payload ?? null),
        context: JSON.stringify(e.context),
        status: e.status,
        replayed_seq: e.replayedSeq,
        updated_ms: e.receivedAt,
      })),
    )
    .execute();
}

type Row = Database['quarantine'];

function toEntry(r: { [K in keyof Row]: unknown }): QuarantineEntry {
  return {
    id: r.id as string,
    receivedAt: Number(r.received_ms),
    channel: r.channel as Channel,
    source: (r.source as string | null) ?? null,
    type: (r.type as string | null) ?? null,
    code: r.code as string,
    reason: r.reason as string,
    pointer: (r.pointer as string | null) ?? null,
    payload: JSON.parse(r.payload as string),
    context: JSON.parse(r.context as string) as QuarantineContext,
    status: r.status as 'pending' | 'replayed',
    replayedSeq: r.replayed_seq === null ? null : Number(r.replayed_seq),
  };
}

export interface QuarantineFilter {
  status?: 'pending' | 'replayed' | undefined;
  code?: string | undefined;
  /** Cursor: entries with id greater than this (ids are time-ordered). */
  after?: string | undefined;
  limit: number;
}

export async function listQuarantine(db: Kysely<Database>, f: QuarantineFilter): Promise<QuarantineEntry[]> {
  let q = db.selectFrom('quarantine').selectAll();
  if (f.status) q = q.where('status', '=', f.status);
  if (f.code) q = q.where('code', '=', f.code);
  if (f.after) q = q.where('id', '>', f.after);
  return (await q.orderBy('id').limit(f.limit).execute()).map(toEntry);
}

export async function getQuarantined(db: Kysely<Database>, id: string): Promise<QuarantineEntry | undefined> {
  const r = await db.selectFrom('quarantine').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toEntry(r) : undefined;
}

export async function markReplayed(db: Kysely<Database>, id: string, seq: number, now: number, payload?: unknown): Promise<void> {
  await db
    .updateTable('quarantine')
    .set({ status: 'replayed', replayed_seq: seq, updated_ms: now, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
    .where('id', '=', id)
    .execute();
}

export async function updateReason(
  db: Kysely<Database>,
  id: string,
  p: { code: string; reason: string; pointer?: string | undefined },
  now: number,
): Promise<void> {
  await db
    .updateTable('quarantine')
    .set({ code: p.code, reason: p.reason, pointer: p.pointer ?? null, updated_ms: now })
    .where('id', '=', id)
    .execute();
}

export async function countQuarantine(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('quarantine')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
