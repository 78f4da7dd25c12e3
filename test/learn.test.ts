/**
 * Learn end to end: Segment and CloudEvents in through the real HTTP doors of a real server
 * (SQLite), consumer group `learn` folds them, and the reports answer with hand-computed figures.
 * A workflow with a 50 % holdout runs for 40 customers; the uplift and ledger match the runs.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import { newcombe } from '../src/learn/index.ts';
import type { Pitwall } from '../src/main.ts';
import { outputOf, PITWALL_BIN } from './support/process.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const DAY = 86_400_000;
const D1 = Date.parse('2026-03-02T10:00:00Z'); // Monday
const D2 = D1 + DAY;
const T_UPLIFT = Date.parse('2026-03-10T09:00:00Z');
const clock = new FakeClock(Date.parse('2026-03-05T12:00:00Z'));
let server: TestServer;
let pw: Pitwall;
let key: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'learn', clock });
  pw = server.pw;
  key = (await createKey(pw.store.db, clock, { name: 't', scopes: ['ingest', 'read', 'admin'] })).key;
});
afterAll(async () => {
  await server?.close();
});

async function settle(): Promise<void> {
  for (;;) {
    const head = await pw.log.head();
    await pw.state?.caughtUp(head);
    await pw.automation?.caughtUp(head);
    await pw.learn?.caughtUp(head);
    if ((await pw.log.head()) === head) return;
  }
}

const DESKTOP = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' };
const PHONE = { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile' };
let n = 0;
function track(event: string, userId: string, atMs: number, properties: Record<string, unknown>, context: Record<string, unknown> = {}) {
  n += 1;
  return { type: 'track', event, userId, messageId: `m-${n}`, timestamp: new Date(atMs).toISOString(), properties, context };
}

async function postBatch(messages: unknown[]): Promise<void> {
  const res = await fetch(`${pw.httpUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ batch: messages }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { status: string }[] };
  expect(body.results.every((r) => r.status === 'accepted')).toBe(true);
  await settle();
}

async function postEvents(events: unknown[]): Promise<void> {
  const res = await fetch(`${pw.httpUrl}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { rejected: number }).rejected).toBe(0);
  await settle();
}

// biome-ignore lint/suspicious/noExplicitAny: report bodies are JSON checked field by field by the tests
type Json = Record<string, any>;

async function get(route: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${pw.httpUrl}${route}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Json };
}

function survey(
  id: string,
  userId: string,
  atMs: number,
  answers: { question_id: string; value: unknown }[],
  extra: Record<string, unknown>,
) {
  return {
    specversion: '1.0',
    id,
    source: 'urn:test:surveys',
    type: 'survey.response',
    time: new Date(atMs).toISOString(),
    userid: userId,
    data: { survey_id: 'srv', answers, ...extra },
  };
}

describe('funnel over HTTP', () => {
  beforeAll(async () => {
    const brakes = { category: 'Brakes', sku: 'BRK-1', price: 50 };
    const battery = { category: 'Batteries', sku: 'BAT-1', price: 120 };
    const de = (ctx: Record<string, unknown>) => ({ ...ctx, store: 'de' });
    await postBatch([
      { type: 'identify', userId: 'u1', messageId: 'id-1', timestamp: new Date(D1 - 1000).toISOString(), traits: { segment: 'trade' } },
    ]);
    await postBatch([
      // Day 1, store de: 6 brake views on desktop (u1, trade), 4 battery views on a phone (u2).
      ...Array.from({ length: 6 }, (_, i) => track('Product Viewed', 'u1', D1 + i * 1000, brakes, de(DESKTOP))),
      ...Array.from({ length: 4 }, (_, i) => track('Product Viewed', 'u2', D1 + i * 1000, battery, de(PHONE))),
      ...Array.from({ length: 3 }, (_, i) => track('Product Added', 'u1', D1 + 10_000 + i, { ...brakes, quantity: 2 }, de(DESKTOP))),
      track('Product Added', 'u2', D1 + 10_000, battery, de(PHONE)),
      track('Checkout Started', 'u1', D1 + 20_000, { products: [brakes] }, de(DESKTOP)),
      track('Checkout Started', 'u1', D1 + 21_000, { products: [brakes] }, de(DESKTOP)),
      track('Order Completed', 'u1', D1 + 30_000, { order_id: 'o-1', revenue: 100, products: [{ ...brakes, quantity: 2 }] }, de(DESKTOP)),
      // The same order again under another message id: counted once.
      track('Order Completed', 'u1', D1 + 31_000, { order_id: 'o-1', revenue: 100, products: [{ ...brakes, quantity: 2 }] }, de(DESKTOP)),
      // Day 2, store at: 2 views, 1 add, 1 checkout, 1 order of 50.
      track('Product Viewed', 'u3', D2, brakes, { ...DESKTOP, store: 'at' }),
      track('Product Viewed', 'u3', D2 + 1, brakes, { ...DESKTOP, store: 'at' }),
      track('Product Added', 'u3', D2 + 2, brakes, { ...DESKTOP, store: 'at' }),
      track('Checkout Started', 'u3', D2 + 3, { products: [brakes] }, { ...DESKTOP, store: 'at' }),
      track('Order Completed', 'u3', D2 + 4, { order_id: 'o-2', products: [brakes] }, { ...DESKTOP, store: 'at' }),
    ]);
    const delayed = {
      delayed_shipments: [{ shipment_id: 's1', carrier: 'dhl', lane: 'A→B', status: 'in_transit', delay_reasons: ['weather'] }],
    };
    await postEvents([
      survey('r1', 'u2', D1 + 40_000, [{ question_id: 'reason', value: 'delivery_time' }], { placement: 'exit_intent' }),
      survey('r2', 'u4', D1 + 41_000, [{ question_id: 'reason', value: 'delivery_time' }], { placement: 'exit_intent' }),
      survey('r3', 'u5', D2 + 42_000, [{ question_id: 'reason', value: 'price' }], { placement: 'exit_intent' }),
      survey(
        'r4',
        'u1',
        D1 + 50_000,
        [
          { question_id: 'csat', value: 2 },
          { question_id: 'nps', value: 3 },
        ],
        { placement: 'post_purchase', context: delayed },
      ),
      survey(
        'r5',
        'u3',
        D2 + 50_000,
        [
          { question_id: 'csat', value: 5 },
          { question_id: 'nps', value: 10 },
        ],
        { placement: 'post_purchase', context: { delayed_shipments: [] } },
      ),
      survey(
        'r6',
        'u6',
        D2 + 51_000,
        [
          { question_id: 'csat', value: 4 },
          { question_id: 'nps', value: 9 },
        ],
        { placement: 'email', context: { delayed_shipments: [] } },
      ),
    ]);
  });

  it('counts each stage and derives the rates: 12 views → 5 adds → 3 checkouts → 2 orders', async () => {
    const { status, body } = await get('/v1/reports/funnel?from=2026-03-02&to=2026-03-03&by=none');
    expect(status).toBe(200);
    expect(body.totals).toMatchObject({ views: 12, adds: 5, checkouts: 3, orders: 2, revenue: 150 });
    expect(body.totals.conversion).toBeCloseTo(2 / 12, 12);
    expect(body.totals.view_to_cart).toBeCloseTo(5 / 12, 12);
    expect(body.totals.checkout_to_order).toBeCloseTo(2 / 3, 12);
    expect(body.totals.checkout_abandonment).toBeCloseTo(1 / 3, 12);
    expect(body.totals.cart_abandonment).toBeCloseTo(1 - 2 / 5, 12);
    expect(body.rows).toEqual([]);
    // `days` counts back from `to`: the same two days.
    const byDays = await get('/v1/reports/funnel?days=2&to=2026-03-03&by=none');
    expect(byDays.body).toMatchObject({ from: '2026-03-02', to: '2026-03-03', totals: { views: 12, orders: 2 } });
  });

  it('breaks down by day, store, category, device and segment', async () => {
    const rows = async (by: string) =>
      Object.fromEntries(
        ((await get(`/v1/reports/funnel?from=2026-03-02&to=2026-03-03&by=${by}`)).body.rows as { key: string }[]).map((r) => [r.key, r]),
      );
    expect(await rows('day')).toMatchObject({ '2026-03-02': { views: 10, orders: 1 }, '2026-03-03': { views: 2, orders: 1 } });
    expect(await rows('store')).toMatchObject({
      de: { views: 10, adds: 4, checkouts: 2, orders: 1, revenue: 100 },
      at: { orders: 1, revenue: 50 },
    });
    expect(await rows('category')).toMatchObject({ Brakes: { views: 8, adds: 4, orders: 2 }, Batteries: { views: 4, adds: 1, orders: 0 } });
    expect(await rows('device')).toMatchObject({ desktop: { views: 8 }, mobile: { views: 4, adds: 1, conversion: 0 } });
    expect(await rows('segment')).toMatchObject({ trade: { views: 6, orders: 1 }, unknown: { views: 6, orders: 1 } });
    const filtered = await get('/v1/reports/funnel?from=2026-03-02&to=2026-03-03&by=none&store=de&device=mobile');
    expect(filtered.body.totals).toMatchObject({ views: 4, adds: 1, checkouts: 0, orders: 0, checkout_abandonment: null });
  });

  it('lists abandonment reasons from survey answers, largest first', async () => {
    const { body } = await get('/v1/reports/funnel?from=2026-03-02&to=2026-03-03');
    expect(body.abandonment_reasons.responses).toBe(3);
    expect(body.abandonment_reasons.reasons).toEqual([
      { reason: 'delivery_time', count: 2, share: 2 / 3 },
      { reason: 'price', count: 1, share: 1 / 3 },
    ]);
  });

  it('scores CSAT and NPS by placement and by shipment context at answer time', async () => {
    const { status, body } = await get('/v1/reports/experience?from=2026-03-02&to=2026-03-03');
    expect(status).toBe(200);
    // CSAT answers 2, 5, 4 → share 4–5 = 2/3; NPS answers 3, 10, 9 → (2 − 1) / 3 = 33.3.
    expect(body.totals.csat).toBeCloseTo(2 / 3, 12);
    expect(body.totals.csat_mean).toBeCloseTo(11 / 3, 12);
    expect(body.totals.nps).toBeCloseTo(100 / 3, 9);
    const ctx = Object.fromEntries((body.by_shipment_context as { context: string }[]).map((r) => [r.context, r]));
    expect(ctx.delayed).toMatchObject({ nps: -100, csat: 0, nps_responses: 1 });
    expect(ctx.on_time).toMatchObject({ nps: 100, csat: 1, nps_responses: 2 });
    const place = Object.fromEntries((body.by_placement as { placement: string }[]).map((r) => [r.placement, r]));
    expect(place.post_purchase).toMatchObject({ nps: 0, csat_responses: 2 });
    expect(body.by_week).toHaveLength(1);
    expect(body.by_week[0].week).toBe('2026-03-02');
  });

  it('pitwall report funnel --json prints what the API answers, from the same store', async () => {
    const args = [PITWALL_BIN, 'report', 'funnel', '--from', '2026-03-02', '--to', '2026-03-03', '--by', 'store', '--json'];
    const out = await outputOf(spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, PITWALL_DATA_DIR: server.dir } }), 60_000);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const api = await get('/v1/reports/funnel?from=2026-03-02&to=2026-03-03&by=store');
    expect(JSON.parse(out.stdout)).toEqual(api.body);
    const bad = await outputOf(
      spawn(process.execPath, [PITWALL_BIN, 'report', 'funel'], {
        cwd: ROOT,
        env: { ...process.env, PITWALL_DATA_DIR: server.dir },
      }),
      60_000,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown report "funel"');
  });

  it('rejects bad query parameters with problem+json PW_QUERY_INVALID and a pointer', async () => {
    for (const [q, pointer] of [
      ['by=colour', '/by'],
      ['from=2026-02-30', '/from'],
      ['from=2026-03-04&to=2026-03-01', '/from'],
      ['sotre=de', '/sotre'],
      ['days=0', '/days'],
      ['days=2.5', '/days'],
      ['days=3&from=2026-03-01', '/days'],
    ] as const) {
      const res = await fetch(`${pw.httpUrl}/v1/reports/funnel?${q}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'PW_QUERY_INVALID', pointer });
    }
    const noKey = await fetch(`${pw.httpUrl}/v1/reports/overview`);
    expect(noKey.status).toBe(401);
    expect((await get('/v1/reports/uplift?window_days=0')).body).toMatchObject({ code: 'PW_QUERY_INVALID', pointer: '/window_days' });
  });
});

describe('uplift, work saved and the ledger over HTTP', () => {
  const customers = Array.from({ length: 40 }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
  const buyers = new Set(customers.slice(0, 20));

  beforeAll(async () => {
    const reg = await fetch(`${pw.httpUrl}/v1/event-types`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'workflow.nudged', description: 'test', schema: { type: 'object' } }),
    });
    expect([200, 201]).toContain(reg.status);
    const yaml = [
      'schemaVersion: 1',
      'id: checkout-nudge',
      'name: Checkout nudge',
      'holdout: 50%',
      'trigger:',
      '  event: commerce.checkout_started',
      'steps:',
      '  - action: emit',
      '    with: { type: workflow.nudged, data: { note: nudged } }',
      'minutesSaved: { emit: 6 }',
    ].join('\n');
    const put = await fetch(`${pw.httpUrl}/v1/workflows/checkout-nudge`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/yaml' },
      body: yaml,
    });
    expect(put.status).toBe(201);
    clock.set(T_UPLIFT);
    await postBatch(customers.map((c, i) => track('Checkout Started', c, T_UPLIFT + i, { products: [{ sku: 'BRK-1', price: 50 }] })));
    while ((await pw.dispatcher.tick()).claimed > 0) {}
    await postBatch(
      [...buyers].map((c, i) =>
        track('Order Completed', c, T_UPLIFT + DAY + i, { order_id: `ou-${c}`, revenue: 80, products: [{ sku: 'BRK-1', price: 80 }] }),
      ),
    );
    // An order after the 7-day window does not count.
    await postBatch([track('Order Completed', 'c40', T_UPLIFT + 8 * DAY, { order_id: 'late', revenue: 80 })]);
  });

  it('reports "not enough data yet" while the windows are still open (pending)', async () => {
    clock.set(T_UPLIFT + 2 * DAY);
    const { body } = await get('/v1/reports/uplift?from=2026-03-10&to=2026-03-10');
    expect(body.workflows[0]).toMatchObject({ workflow_id: 'checkout-nudge', pending: 40, enough_data: false });
    expect(body.workflows[0].verdict).toMatch(/^Not enough data yet/);
  });

  it('compares treated and holdout customers with a Newcombe interval, matching the runs', async () => {
    clock.set(T_UPLIFT + 9 * DAY);
    const runs = await pw.store.db
      .selectFrom('runs')
      .select(['customer_id', 'status'])
      .where('workflow_id', '=', 'checkout-nudge')
      .execute();
    expect(runs).toHaveLength(40);
    const held = runs.filter((r) => r.status === 'holdout').map((r) => r.customer_id as string);
    const treated = runs.filter((r) => r.status !== 'holdout').map((r) => r.customer_id as string);
    expect(held.length).toBeGreaterThan(0);
    expect(treated.length).toBeGreaterThan(0);
    const tx = treated.filter((c) => buyers.has(c)).length;
    const hx = held.filter((c) => buyers.has(c)).length;
    const expected = newcombe(tx, treated.length, hx, held.length);

    const { status, body } = await get('/v1/reports/uplift?from=2026-03-10&to=2026-03-10&min_per_group=5');
    expect(status).toBe(200);
    expect(body.window_days).toBe(7);
    const w = body.workflows[0];
    expect(w.treated).toMatchObject({ customers: treated.length, converted: tx });
    expect(w.holdout).toMatchObject({ customers: held.length, converted: hx });
    expect(w.treated.revenue_per_customer).toBeCloseTo((80 * tx) / treated.length, 9);
    expect(w.conversion_lift.estimate).toBeCloseTo(expected.estimate, 12);
    expect(w.conversion_lift.lower).toBeCloseTo(expected.lower, 12);
    expect(w.conversion_lift.upper).toBeCloseTo(expected.upper, 12);
    expect(w.revenue_lift.lower).toBeLessThanOrEqual(w.revenue_lift.estimate);
    expect(w.revenue_lift.upper).toBeGreaterThanOrEqual(w.revenue_lift.estimate);
    expect(w.pending).toBe(0);
    expect(w.verdict).toContain('95 % CI');

    const strict = await get('/v1/reports/uplift?from=2026-03-10&to=2026-03-10');
    expect(strict.body.workflows[0].verdict).toMatch(/^Not enough data yet: \d+ treated and \d+ holdout customers/);
  });

  it("counts work saved as completed actions × the workflow's minutesSaved, by week", async () => {
    const runs = await pw.store.db
      .selectFrom('runs')
      .select('status')
      .where('workflow_id', '=', 'checkout-nudge')
      .where('status', '!=', 'holdout')
      .execute();
    const { body } = await get('/v1/reports/work-saved?from=2026-03-09&to=2026-03-20');
    expect(body.total_actions).toBe(runs.length);
    expect(body.total_minutes).toBe(6 * runs.length);
    expect(body.by_week).toEqual([{ week: '2026-03-09', actions: runs.length, minutes: 6 * runs.length }]);
    expect(body.rows[0]).toMatchObject({ workflow_id: 'checkout-nudge', action_type: 'emit', minutes_each: 6 });
  });

  it('puts it in one ledger, and the overview and maturity answer', async () => {
    const uplift = (await get('/v1/reports/uplift?from=2026-03-10&to=2026-03-10&min_per_group=5')).body.workflows[0];
    const { body } = await get('/v1/reports/impact?from=2026-03-10&to=2026-03-10&min_per_group=5');
    const line = body.workflows[0];
    expect(line.workflow_id).toBe('checkout-nudge');
    expect(line.incremental_orders.estimate).toBeCloseTo(uplift.conversion_lift.estimate * uplift.treated.customers, 9);
    expect(line.incremental_orders.lower).toBeCloseTo(uplift.conversion_lift.lower * uplift.treated.customers, 9);
    expect(line.minutes_saved).toBe(6 * uplift.treated.customers);
    expect(line.actions_skipped_by_policy).toBe(0);
    expect(body.total.minutes_saved).toBe(line.minutes_saved);
    const overview = await get('/v1/reports/overview?from=2026-03-02&to=2026-03-19&min_per_group=5');
    expect(overview.status).toBe(200);
    expect(overview.body.funnel.orders).toBe(2 + 20 + 1);
    expect(overview.body.maturity.aspects.map((a: { aspect: string }) => a.aspect)).toEqual([
      'data_handling',
      'workflow_impact',
      'financial_insight',
      'tool_use',
    ]);
    // Nothing received for 9 days: the feed is not live.
    expect((await get('/v1/reports/maturity')).body.aspects[0]).toMatchObject({ aspect: 'data_handling', score: 1 });
    await postBatch([track('Product Viewed', 'c01', clock.now(), { sku: 'BRK-1' })]);
    const maturity = (await get('/v1/reports/maturity')).body;
    const by = Object.fromEntries((maturity.aspects as { aspect: string; score: number }[]).map((a) => [a.aspect, a]));
    expect(by.data_handling).toMatchObject({ score: 2, level: 'Event-driven commerce' });
    expect(by.workflow_impact).toMatchObject({ score: 1, level: 'Notifications only' }); // emit only
    expect(by.financial_insight).toMatchObject({ score: 2, level: 'Measured uplift' });
    expect(by.tool_use).toMatchObject({ score: 3, evidence: '3 survey answers in the last 30 days carried IoT context' });
  });
});
