/**
 * Learn's fold and reports on each backend (SQLite, PostgreSQL): hand-built batches folded
 * through `foldLearn`, runs / outbox / identity rows as the runner and Decide would write them,
 * and figures computed by hand.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import type { CloudEvent } from '../events/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { experienceReport } from './experience.ts';
import { foldLearn } from './fold.ts';
import { funnelReport } from './funnel.ts';
import { impactReport } from './impact.ts';
import { dayRange } from './range.ts';
import { newcombe } from './stats.ts';
import { upliftReport } from './uplift.ts';
import { workSavedReport } from './work.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-04-06T08:00:00Z'); // a Monday
let seq = 0;

function logged(type: string, atMs: number, ext: Partial<CloudEvent>, data: Record<string, unknown>, history = false): LoggedEvent {
  seq += 1;
  return {
    seq,
    receivedAt: atMs,
    history,
    event: { specversion: '1.0', id: `e${seq}`, source: 'urn:t', type, time: new Date(atMs).toISOString(), data, ...ext },
  };
}

const view = (user: string, at: number, category = 'Brakes') =>
  logged('commerce.product_viewed', at, { userid: user, store: 'de' }, { event: 'Product Viewed', properties: { category } });
const order = (user: string, at: number, id: string, revenue: number, lines: { sku: string; price: number; quantity?: number }[]) =>
  logged(
    'commerce.order_completed',
    at,
    { userid: user },
    { event: 'Order Completed', properties: { order_id: id, revenue, products: lines } },
  );

describeEachBackend('learn rollups and reports', (make: () => Backend) => {
  let backend: Backend;
  let store: Store;
  beforeAll(async () => {
    backend = make();
    store = await backend.open();
  });
  beforeEach(async () => {
    for (const t of [
      'learn_funnel_daily',
      'learn_orders',
      'learn_refunds',
      'learn_promise_views',
      'learn_surveys',
      'learn_segments',
      'learn_progress',
      'runs',
      'run_trace',
      'outbox',
      'workflows',
      'identity_ids',
      'products',
    ] as const)
      await store.db.deleteFrom(t).execute();
    seq = 0;
  });
  afterAll(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('counts a batch once even when it is delivered twice, and an order id once', async () => {
    const batch = [
      logged('customer.identified', T0, { userid: 'u1' }, { traits: { segment: 'fleet' } }),
      view('u1', T0 + 1),
      view('u1', T0 + 2, 'Filters'),
      view('u2', T0 + 3),
      order('u1', T0 + 4, 'o1', 99.5, [{ sku: 'A', price: 99.5 }]),
      order('u1', T0 + 5, 'o1', 99.5, [{ sku: 'A', price: 99.5 }]),
    ];
    await foldLearn(store, batch);
    await foldLearn(store, batch); // a crash between commit and ack replays the batch
    await foldLearn(store, [order('u1', T0 + 6, 'o1', 99.5, [])]); // the same order in a later batch
    const range = dayRange({ from: '2026-04-06', to: '2026-04-06' }, T0);
    const r = await funnelReport(store.db, range, 'segment');
    expect(r.totals).toMatchObject({ views: 3, orders: 1, revenue: 99.5 });
    expect(r.rows.map((x) => [x.key, x.views, x.orders])).toEqual([
      ['fleet', 2, 1],
      ['unknown', 1, 0],
    ]);
    const cat = await funnelReport(store.db, range, 'category', { segment: 'fleet' });
    expect(cat.rows.map((x) => [x.key, x.views, x.orders])).toEqual([
      ['Brakes', 1, 0],
      ['Filters', 1, 0],
      ['unknown', 0, 1], // the order names no category
    ]);
  });

  it('keeps one refund row per order: the first refund’s time and lines, every refund’s amount; a replayed batch counts once', async () => {
    const refund = (at: number, id: string, properties: Record<string, unknown>) =>
      logged('commerce.order_refunded', at, { userid: 'u1' }, { event: 'Order Refunded', properties: { order_id: id, ...properties } });
    const first = [
      order('u1', T0, 'o1', 100, [
        { sku: 'A', price: 60 },
        { sku: 'B', price: 40 },
      ]),
      refund(T0 + DAY, 'o1', { total: 40, products: [{ sku: 'B', price: 40 }] }),
      refund(T0 + DAY + 1, 'o2', {}), // an order Learn has not seen (yet): kept all the same
      refund(T0 + DAY + 2, 'o3', { products: 'not a list' }),
    ];
    await foldLearn(store, first);
    await foldLearn(store, first);
    await foldLearn(store, [refund(T0 + 2 * DAY, 'o1', { revenue: 60, products: [{ sku: 'A', price: 60 }] })]);
    const rows = await store.db.selectFrom('learn_refunds').selectAll().orderBy('order_id').execute();
    expect(rows.map((r) => ({ ...r, time_ms: Number(r.time_ms), lines: JSON.parse(r.lines) }))).toEqual([
      { order_id: 'o1', time_ms: T0 + DAY, amount: 100, lines: [{ sku: 'B', price: 40, quantity: 1 }] },
      { order_id: 'o2', time_ms: T0 + DAY + 1, amount: null, lines: [] },
      { order_id: 'o3', time_ms: T0 + DAY + 2, amount: null, lines: [] },
    ]);
    // A refund is not a funnel stage.
    const funnel = await store.db.selectFrom('learn_funnel_daily').select(['orders']).execute();
    expect(funnel.reduce((a, r) => a + Number(r.orders), 0)).toBe(1);
  });

  it('keeps product views that say their delivery promise, once, by user or anonymous id', async () => {
    const viewed = (ext: Partial<CloudEvent>, properties: Record<string, unknown>) =>
      logged('commerce.product_viewed', T0, ext, { event: 'Product Viewed', properties });
    const batch = [
      viewed({ userid: 'u1' }, { sku: 'BRK-1', promise_days: 2.25 }),
      viewed({ anonymousid: 'a1' }, { product_id: 'bat-1', promise_days: 0 }),
      viewed({ userid: 'u2' }, { sku: 'BRK-1' }), // no promise: funnel only
      viewed({ userid: 'u3' }, { sku: 'BRK-1', promise_days: -1 }), // out of range
      viewed({ userid: 'u4' }, { sku: 'BRK-1', promise_days: '2' }), // not a number
      viewed({}, { sku: 'BRK-1', promise_days: 2 }), // nobody to follow
    ];
    await foldLearn(store, batch);
    await foldLearn(store, batch);
    const rows = await store.db
      .selectFrom('learn_promise_views')
      .select(['customer_ref', 'sku', 'promise_days'])
      .orderBy('customer_ref')
      .execute();
    expect(rows).toEqual([
      { customer_ref: 'a1', sku: 'bat-1', promise_days: 0 },
      { customer_ref: 'u1', sku: 'BRK-1', promise_days: 2.25 },
    ]);
    const funnel = await store.db.selectFrom('learn_funnel_daily').select(['views']).execute();
    expect(funnel.reduce((a, r) => a + Number(r.views), 0)).toBe(6);
  });

  it('measures uplift per canonical customer within the window, with margin from unit costs', async () => {
    const runs: [string, string, string, number][] = [
      ['r1', 't1', 'completed', T0],
      ['r2', 't2', 'completed', T0],
      ['r3', 't3', 'waiting', T0],
      ['r4', 't4', 'cancelled', T0],
      ['r5', 'h1', 'holdout', T0],
      ['r6', 'h2', 'holdout', T0],
      ['r7', 'h3', 'holdout', T0],
      ['r8', 't1', 'completed', T0 + 2 * DAY], // a second run: the customer counts once, from the first
      ['r9', 'x1', 'skipped', T0], // conditions false: not in the experiment
    ];
    for (const [id, customer, status, at] of runs)
      await store.db
        .insertInto('runs')
        .values({
          id,
          workflow_id: 'w',
          workflow_version: 1,
          customer_id: customer,
          status,
          trigger_kind: 'event',
          trigger_event_ids: '[]',
          trigger_events: '[]',
          subject: null,
          step_path: null,
          wake_ms: null,
          wake_kind: null,
          actions: 0,
          trace_count: 0,
          outcome: null,
          started_ms: at,
          updated_ms: at,
          ended_ms: at,
        })
        .execute();
    await store.db
      .insertInto('identity_ids')
      .values({ id: 'anon-t1', is_user: 0, first_seen_ms: T0, last_seen_ms: T0, customer_id: 't1' })
      .execute();
    const product = (sku: string, cost: number | null) => ({
      sku,
      name: sku,
      category: null,
      category_key: null,
      price: 1,
      currency: 'EUR',
      unit_cost: cost,
      weight_kg: null,
      hazardous: 0,
      temperature_sensitive: 0,
      attributes: '{}',
      search: sku.toLowerCase(),
      created_ms: T0,
      updated_ms: T0,
    });
    await store.db
      .insertInto('products')
      .values([product('P', 60), product('Q', null)])
      .execute();
    await foldLearn(store, [
      logged(
        'commerce.order_completed',
        T0 + DAY,
        { anonymousid: 'anon-t1' },
        { event: 'Order Completed', properties: { order_id: 'a', revenue: 100, products: [{ sku: 'P', price: 100 }] } },
      ),
      order('t2', T0 + 3 * DAY, 'b', 50, [{ sku: 'Q', price: 50 }]),
      order('h1', T0 + 8 * DAY, 'c', 100, [{ sku: 'P', price: 100 }]), // after the 7-day window
      order('h2', T0 + 6 * DAY, 'd', 30, [{ sku: 'P', price: 30 }]),
      order('t3', T0 - DAY, 'e', 70, [{ sku: 'P', price: 70 }]), // before the trigger
      logged('survey.response', T0 + 2 * DAY, { userid: 't1' }, { survey_id: 's', answers: [{ question_id: 'csat', value: 5 }] }),
      logged('survey.response', T0 + 2 * DAY, { userid: 'h2' }, { survey_id: 's', answers: [{ question_id: 'csat', value: 3 }] }),
    ]);
    const range = dayRange({ from: '2026-04-06', to: '2026-04-12' }, T0);
    const opts = { windowDays: 7, minPerGroup: 2, minConversions: 1, bootstrapReps: 500, nowMs: T0 + 30 * DAY };
    const r = await upliftReport(store.db, range, opts);
    expect(r.workflows).toHaveLength(1);
    const w = r.workflows[0];
    expect(w?.treated).toMatchObject({
      customers: 4,
      converted: 2,
      conversion: 0.5,
      revenuePerCustomer: 37.5,
      marginPerCustomer: 10,
      csat: 5,
    });
    expect(w?.holdout).toMatchObject({ customers: 3, converted: 1, revenuePerCustomer: 10, marginPerCustomer: -10, csat: 3 });
    expect(w?.conversionLift).toEqual(newcombe(2, 4, 1, 3));
    expect(w?.revenueLift?.estimate).toBeCloseTo(27.5, 12);
    expect(w?.marginLift?.estimate).toBeCloseTo(20, 12);
    expect(w?.csatLift).toEqual({ estimate: 2, lower: 2, upper: 2 });
    expect(w?.enoughData).toBe(true);
    expect(w?.verdict).toMatch(
      /^No clear effect on conversion: \+16\.7 pp, and the interval \(95 % CI −\d+\.\d pp to \+\d+\.\d pp\) includes zero\.$/,
    );

    // The ledger scales the lift by the treated customers and adds the policy skips of the range.
    await store.db
      .insertInto('run_trace')
      .values([
        {
          run_id: 'r1',
          seq: 1,
          at_ms: T0,
          kind: 'policy',
          step_path: 'steps.0',
          detail: JSON.stringify({ verdict: 'skip', code: 'PW_POLICY_CAP' }),
        },
        { run_id: 'r2', seq: 1, at_ms: T0, kind: 'policy', step_path: 'steps.0', detail: JSON.stringify({ verdict: 'allow' }) },
        {
          run_id: 'r3',
          seq: 1,
          at_ms: T0,
          kind: 'policy',
          step_path: 'steps.0',
          detail: JSON.stringify({ verdict: 'skip', code: 'no_customer' }),
        },
      ])
      .execute();
    const ledger = await impactReport(store.db, range, opts, new Map());
    expect(ledger.workflows[0]).toMatchObject({ workflowId: 'w', treatedCustomers: 4, actionsSkippedByPolicy: 1, enoughData: true });
    expect(ledger.workflows[0]?.incrementalOrders?.estimate).toBeCloseTo(4 * (0.5 - 1 / 3), 12);
    expect(ledger.total.incrementalRevenue?.estimate).toBeCloseTo(4 * 27.5, 9);
  });

  it('scores CSAT and NPS by week, placement and shipment context', async () => {
    const answer = (user: string, at: number, csat: number | null, nps: number | null, placement: string, delayed?: boolean) =>
      logged(
        'survey.response',
        at,
        { userid: user },
        {
          survey_id: 's',
          placement,
          answers: [
            ...(csat === null ? [] : [{ question_id: 'csat', value: csat }]),
            ...(nps === null ? [] : [{ question_id: 'nps', value: nps }]),
          ],
          ...(delayed === undefined ? {} : { context: { delayed_shipments: delayed ? [{ shipment_id: 'x' }] : [] } }),
        },
      );
    await foldLearn(store, [
      answer('a', T0, 5, 10, 'post_purchase', false),
      answer('b', T0 + DAY, 2, 0, 'post_purchase', true),
      answer('c', T0 + 7 * DAY, 4, 7, 'email'), // next ISO week, no context
      answer('d', T0 + 7 * DAY, null, 9, 'email', true),
      logged('survey.response', T0, { userid: 'e' }, { survey_id: 's', answers: [{ question_id: 'reason', value: 'price' }] }), // neither score
    ]);
    const r = await experienceReport(store.db, dayRange({ from: '2026-04-06', to: '2026-04-19' }, T0));
    // CSAT 5, 2, 4 → 2/3 at 4–5, mean 11/3; NPS 10, 0, 7, 9 → (2 − 1) / 4 = 25.
    expect(r.totals).toEqual({ csatResponses: 3, csat: 2 / 3, csatMean: 11 / 3, npsResponses: 4, nps: 25 });
    expect(r.byWeek.map((w) => [w.week, w.csatResponses, w.nps])).toEqual([
      ['2026-04-06', 2, 0],
      ['2026-04-13', 1, 50], // NPS 7 (passive) and 9
    ]);
    expect(r.byShipmentContext.map((c) => [c.context, c.npsResponses, c.nps])).toEqual([
      ['delayed', 2, 0],
      ['on_time', 1, 100],
      ['unknown', 1, 0],
    ]);
    expect((await experienceReport(store.db, dayRange({ from: '2026-04-06', to: '2026-04-19' }, T0), 'email')).totals).toMatchObject({
      npsResponses: 2,
      nps: 50,
    });
  });

  it('sums work saved by workflow and ISO week, with per-workflow minutes over executor defaults', async () => {
    await store.db
      .insertInto('workflows')
      .values({
        id: 'w',
        version: 2,
        definition: JSON.stringify({ id: 'w', minutesSaved: { 'email.send': 9 } }),
        yaml: null,
        source: 'api',
        file_path: null,
        enabled: 1,
        created_ms: T0,
        created_by: null,
      })
      .execute();
    const action = (key: string, wf: string, version: number, type: string, finished: number, status = 'done') => ({
      key,
      run_id: 'r',
      workflow_id: wf,
      workflow_version: version,
      step_path: 'steps.0',
      type,
      params: '{}',
      customer_id: null,
      subject: null,
      created_ms: finished,
      status,
      attempts: 1,
      ready_ms: finished,
      lease_token: null,
      last_error: null,
      result: null,
      updated_ms: finished,
      finished_ms: finished,
    });
    await store.db
      .insertInto('outbox')
      .values([
        action('a1', 'w', 2, 'email.send', T0), // Monday week 2026-04-06: 9 min (override)
        action('a2', 'w', 2, 'email.send', T0 + 6 * DAY), // Sunday, same week
        action('a3', 'w', 1, 'email.send', T0 + 7 * DAY), // next week, version 1 has no override: default 4
        action('a4', 'v', 1, 'checkout.offer', T0 + DAY), // 15 min default
        action('a5', 'v', 1, 'checkout.offer', T0 + DAY, 'dead'), // failed: saves nothing
      ])
      .execute();
    const defaults = new Map([
      ['email.send', 4],
      ['checkout.offer', 15],
    ]);
    const r = await workSavedReport(store.db, dayRange({ from: '2026-04-06', to: '2026-04-19' }, T0), defaults);
    expect(r.totalActions).toBe(4);
    expect(r.totalMinutes).toBe(9 + 9 + 4 + 15);
    expect(r.byWorkflow).toEqual([
      { workflowId: 'v', actions: 1, minutes: 15 },
      { workflowId: 'w', actions: 3, minutes: 22 },
    ]);
    expect(r.byWeek).toEqual([
      { week: '2026-04-06', actions: 3, minutes: 33 },
      { week: '2026-04-13', actions: 1, minutes: 4 },
    ]);
  });
});

describe('dayRange', () => {
  it('defaults to the 30 days up to today', () => {
    expect(dayRange({}, Date.parse('2026-04-30T17:00:00Z'))).toMatchObject({ from: '2026-04-01', to: '2026-04-30' });
  });
});
