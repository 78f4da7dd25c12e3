/**
 * Learn's projection: folds commerce, survey and identify events into daily funnel rollups,
 * orders, survey answers and segments — in one write transaction per batch that also moves
 * `learn_progress`, so a batch delivered twice counts once.
 */
import { sql } from 'kysely';
import { type Db, type StateDb, writeTransaction } from '../detect/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import {
  categoryOf,
  customerRef,
  dayOf,
  deviceOf,
  LEARN_TYPES,
  orderOf,
  promiseViewOf,
  refundOf,
  type Stage,
  stageOf,
  statedSegment,
  storeOf,
  surveyOf,
  UNKNOWN,
} from './classify.ts';

export const LEARN_PROGRESS = 'learn';

interface FunnelDelta {
  day: string;
  store: string;
  category: string;
  device: string;
  segment: string;
  views: number;
  adds: number;
  checkouts: number;
  orders: number;
  abandoned: number;
  revenue: number;
}

const CHUNK = 400;

function chunks<T>(xs: readonly T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Folds `batch` (log order); events at or below the stored progress are skipped. */
export async function foldLearn(store: StateDb, batch: readonly LoggedEvent[]): Promise<void> {
  const last = batch[batch.length - 1];
  if (!last) return;
  await writeTransaction(
    store,
    async (db) => {
      const done = await progress(db);
      const fresh = batch.filter((e) => e.seq > done);
      const events = fresh.filter((e) => LEARN_TYPES.has(e.event.type));
      if (events.length > 0) await apply(db, events);
      await markSeen(db, fresh);
      if (last.seq > done)
        await db
          .insertInto('learn_progress')
          .values({ name: LEARN_PROGRESS, seq: last.seq })
          .onConflict((oc) => oc.column('name').doUpdateSet({ seq: last.seq }))
          .execute();
    },
    { deferSync: true },
  );
}

/** Progress rows `seen:<domain>` keep when a live (non-history) event of each domain last arrived (received ms). */
export const SEEN_PREFIX = 'seen:';

async function markSeen(db: Db, events: readonly LoggedEvent[]): Promise<void> {
  const seen = new Map<string, number>();
  for (const e of events) {
    if (e.history) continue;
    const domain = e.event.type.slice(0, e.event.type.indexOf('.'));
    if (domain) seen.set(domain, Math.max(seen.get(domain) ?? 0, e.receivedAt));
  }
  for (const part of chunks([...seen])) {
    await db
      .insertInto('learn_progress')
      .values(part.map(([domain, ms]) => ({ name: `${SEEN_PREFIX}${domain}`, seq: ms })))
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ seq: sql`case when excluded.seq > learn_progress.seq then excluded.seq else learn_progress.seq end` }),
      )
      .execute();
  }
}

export async function progress(db: Db): Promise<number> {
  const row = await db.selectFrom('learn_progress').select('seq').where('name', '=', LEARN_PROGRESS).executeTakeFirst();
  return row ? Number(row.seq) : 0;
}

async function apply(db: Db, events: readonly LoggedEvent[]): Promise<void> {
  // Segments first (a batch's identify events count for its later events), then the rest.
  const segments = new Map<string, string>();
  for (const { event: e } of events) {
    if (e.type !== 'customer.identified') continue;
    const ref = customerRef(e);
    const seg = statedSegment(e);
    if (ref && seg) segments.set(ref, seg);
  }
  for (const part of chunks([...segments])) {
    await db
      .insertInto('learn_segments')
      .values(part.map(([id, segment]) => ({ id, segment })))
      .onConflict((oc) => oc.column('id').doUpdateSet({ segment: sql`excluded.segment` }))
      .execute();
  }
  const refs = new Set<string>();
  for (const { event: e } of events) {
    const ref = customerRef(e);
    if (ref && !segments.has(ref) && stageOf(e.type)) refs.add(ref);
  }
  for (const part of chunks([...refs])) {
    const rows = await db.selectFrom('learn_segments').select(['id', 'segment']).where('id', 'in', part).execute();
    for (const r of rows) segments.set(r.id, r.segment);
  }

  // Orders are counted once per order id, whatever the event id.
  const orderIds = new Set<string>();
  for (const { event: e } of events) if (e.type === 'commerce.order_completed') orderIds.add(orderOf(e)?.orderId ?? '');
  orderIds.delete('');
  const seenOrders = new Set<string>();
  for (const part of chunks([...orderIds])) {
    const rows = await db.selectFrom('learn_orders').select('order_id').where('order_id', 'in', part).execute();
    for (const r of rows) seenOrders.add(r.order_id);
  }

  // Refunds: one row per order (its first refund's time and lines); later refunds add their amounts.
  const refunds = new Map<string, { order_id: string; time_ms: number; amount: number | null; lines: string }>();
  for (const { event: e } of events) {
    if (e.type !== 'commerce.order_refunded') continue;
    const r = refundOf(e);
    if (!r) continue;
    const had = refunds.get(r.orderId);
    if (had) had.amount = had.amount === null && r.amount === undefined ? null : (had.amount ?? 0) + (r.amount ?? 0);
    else
      refunds.set(r.orderId, {
        order_id: r.orderId,
        time_ms: Date.parse(e.time),
        amount: r.amount ?? null,
        lines: JSON.stringify(r.lines),
      });
  }
  for (const part of chunks([...refunds.values()]))
    await db
      .insertInto('learn_refunds')
      .values(part)
      .onConflict((oc) =>
        oc.column('order_id').doUpdateSet({
          amount: sql`case when learn_refunds.amount is null and excluded.amount is null then null else coalesce(learn_refunds.amount, 0) + coalesce(excluded.amount, 0) end`,
        }),
      )
      .execute();

  // Views that name the delivery promise shown, by a known shopper: Plan's promise-penalty fit.
  const promiseViews: { key: string; customer_ref: string; sku: string; time_ms: number; promise_days: number }[] = [];
  for (const { event: e } of events) {
    const v = promiseViewOf(e);
    const ref = v ? customerRef(e) : undefined;
    if (v && ref)
      promiseViews.push({
        key: `${e.source}\n${e.id}`,
        customer_ref: ref,
        sku: v.sku,
        time_ms: Date.parse(e.time),
        promise_days: v.promiseDays,
      });
  }
  for (const part of chunks(promiseViews))
    await db
      .insertInto('learn_promise_views')
      .values(part)
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();

  const funnel = new Map<string, FunnelDelta>();
  const orders: { order_id: string; customer_ref: string | null; time_ms: number; store: string; revenue: number; lines: string }[] = [];
  const surveys: {
    key: string;
    survey_id: string;
    customer_ref: string | null;
    placement: string;
    time_ms: number;
    csat: number | null;
    nps: number | null;
    reason: string | null;
    delayed: number | null;
  }[] = [];
  for (const { event: e } of events) {
    const timeMs = Date.parse(e.time);
    if (e.type === 'survey.response') {
      const s = surveyOf(e);
      if (s)
        surveys.push({
          key: `${e.source}\n${e.id}`,
          survey_id: s.surveyId,
          customer_ref: customerRef(e) ?? null,
          placement: s.placement,
          time_ms: timeMs,
          csat: s.csat ?? null,
          nps: s.nps ?? null,
          reason: s.reason ?? null,
          delayed: s.delayed === undefined ? null : s.delayed ? 1 : 0,
        });
      continue;
    }
    const stage = stageOf(e.type);
    if (!stage) continue;
    let revenue = 0;
    if (stage === 'orders') {
      const o = orderOf(e);
      if (!o || seenOrders.has(o.orderId)) continue; // an order without an id cannot be deduped: not counted
      seenOrders.add(o.orderId);
      revenue = o.revenue;
      orders.push({
        order_id: o.orderId,
        customer_ref: customerRef(e) ?? null,
        time_ms: timeMs,
        store: storeOf(e),
        revenue: o.revenue,
        lines: JSON.stringify(o.lines),
      });
    }
    const ref = customerRef(e);
    const d = {
      day: dayOf(timeMs),
      store: storeOf(e),
      category: stage === 'abandoned' ? UNKNOWN : categoryOf(e),
      device: stage === 'abandoned' ? UNKNOWN : deviceOf(e),
      segment: statedSegment(e) ?? (ref ? segments.get(ref) : undefined) ?? UNKNOWN,
    };
    const key = `${d.day}\n${d.store}\n${d.category}\n${d.device}\n${d.segment}`;
    let row = funnel.get(key);
    if (!row) {
      row = { ...d, views: 0, adds: 0, checkouts: 0, orders: 0, abandoned: 0, revenue: 0 };
      funnel.set(key, row);
    }
    bump(row, stage, revenue);
  }

  for (const part of chunks(orders)) await db.insertInto('learn_orders').values(part).execute();
  for (const part of chunks(surveys))
    await db
      .insertInto('learn_surveys')
      .values(part)
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  for (const part of chunks([...funnel.values()])) {
    await db
      .insertInto('learn_funnel_daily')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['day', 'store', 'category', 'device', 'segment']).doUpdateSet({
          views: sql`learn_funnel_daily.views + excluded.views`,
          adds: sql`learn_funnel_daily.adds + excluded.adds`,
          checkouts: sql`learn_funnel_daily.checkouts + excluded.checkouts`,
          orders: sql`learn_funnel_daily.orders + excluded.orders`,
          abandoned: sql`learn_funnel_daily.abandoned + excluded.abandoned`,
          revenue: sql`learn_funnel_daily.revenue + excluded.revenue`,
        }),
      )
      .execute();
  }
}

function bump(row: FunnelDelta, stage: Stage, revenue: number): void {
  row[stage] += 1;
  row.revenue += revenue;
}
