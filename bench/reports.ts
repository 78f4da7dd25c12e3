/**
 * `reports`: Learn's report queries over a large stored log, warm, beside a plain count.
 *
 * Appends a seeded storefront mix (product views, adds, checkouts, orders, identifies, survey
 * answers, sensor readings) to an embedded SQLite log — 10 M events is the issue's figure; the
 * default here is 2 M (`--events=N` to choose, `--quick` 200,000) because generating 10 M on a
 * shared 2-core machine takes long — folds it with group `learn`'s fold (2,000 per batch), adds
 * 20,000 workflow runs (two workflows, 10 % holdout) and then times, warm (median of 5):
 * - `overview_ms`: `overviewReport` (funnel totals, uplift + bootstrap, work saved, CX, ledger, maturity) over 90 days;
 * - `funnel_ms`: `funnelReport` by day over 90 days;
 * - `count_ms`: `select count(*) from events` — the baseline: the cheapest full look at the same table.
 * `ratio` = overview_ms / count_ms. Also: the fold's rate (events/s). `PITWALL_BENCH_PARTS=1` times
 * uplift, impact, experience and maturity on their own first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { FakeClock } from '../src/core/index.ts';
import type { CloudEvent } from '../src/events/index.ts';
import { dayRange, foldLearn, funnelReport, overviewReport, UPLIFT_DEFAULTS } from '../src/learn/index.ts';
import { type LoggedEvent, openEventLog } from '../src/log/index.ts';
import { openStore } from '../src/store/index.ts';
import { round } from './lib.ts';

const DAY = 86_400_000;
const BASE = Date.parse('2026-01-05T00:00:00Z');
const DAYS = 90;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const STORES = ['de', 'at', 'ch'];
const CATEGORIES = Array.from({ length: 20 }, (_, i) => `cat-${i}`);
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (iPhone) Mobile', 'Mozilla/5.0 (iPad; Tablet)'];
const SEGMENTS = ['retail', 'trade', 'fleet', 'workshop'];

function* storefrontMix(n: number): Generator<CloudEvent> {
  const r = lcg(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  for (let i = 0; i < n; i++) {
    const at = BASE + Math.floor((i / n) * DAYS * DAY);
    const user = `u${Math.floor(r() * 50_000)}`;
    const base = {
      specversion: '1.0' as const,
      id: `b${i}`,
      source: 'urn:bench:shop',
      time: new Date(at).toISOString(),
      userid: user,
      store: pick(STORES),
    };
    const x = r();
    const context = { userAgent: pick(AGENTS) };
    const category = pick(CATEGORIES);
    const sku = `${category}-${Math.floor(r() * 50)}`;
    if (x < 0.68)
      yield {
        ...base,
        type: 'commerce.product_viewed',
        data: { event: 'Product Viewed', properties: { sku, category, price: 40 }, context },
      };
    else if (x < 0.83)
      yield {
        ...base,
        type: 'commerce.product_added',
        data: { event: 'Product Added', properties: { sku, category, price: 40 }, context },
      };
    else if (x < 0.9)
      yield {
        ...base,
        type: 'commerce.checkout_started',
        data: { event: 'Checkout Started', properties: { products: [{ sku, category }] }, context },
      };
    else if (x < 0.93)
      yield {
        ...base,
        type: 'commerce.order_completed',
        data: {
          event: 'Order Completed',
          properties: { order_id: `o${i}`, revenue: 80, products: [{ sku, category, price: 40, quantity: 2 }] },
          context,
        },
      };
    else if (x < 0.94) yield { ...base, type: 'customer.identified', data: { traits: { segment: pick(SEGMENTS) } } };
    else if (x < 0.95)
      yield {
        ...base,
        type: 'survey.response',
        data: {
          survey_id: 'post-purchase-csat',
          placement: 'post_purchase',
          answers: [
            { question_id: 'csat', value: 1 + Math.floor(r() * 5) },
            { question_id: 'nps', value: Math.floor(r() * 11) },
          ],
          context: { delayed_shipments: r() < 0.2 ? [{ shipment_id: 's' }] : [] },
        },
      };
    else yield { ...base, type: 'sensor.reading', data: { n: 'temp', v: 4 + r(), u: 'Cel' } };
  }
}

async function median(fn: () => Promise<unknown>, times = 5): Promise<number> {
  await fn(); // warm
  const xs: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] as number;
}

export async function runReportsBench(opts: { quick: boolean; events?: number }): Promise<Record<string, unknown>> {
  const n = opts.events ?? (opts.quick ? 200_000 : 2_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-bench-reports-'));
  const clock = new FakeClock(BASE + DAYS * DAY);
  const store = await openStore({ sqliteFile: path.join(dir, 'reports.db') });
  const log = openEventLog(store, clock);
  try {
    let t = performance.now();
    let chunk: { event: CloudEvent; receivedAt: number }[] = [];
    for (const event of storefrontMix(n)) {
      chunk.push({ event, receivedAt: Date.parse(event.time) });
      if (chunk.length === 5_000) {
        await log.append(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) await log.append(chunk);
    const appendS = (performance.now() - t) / 1000;

    t = performance.now();
    let pos = 0;
    for (;;) {
      const page: LoggedEvent[] = await log.read(pos, 2_000);
      if (page.length === 0) break;
      await foldLearn(store, page);
      pos = (page[page.length - 1] as LoggedEvent).seq;
    }
    const foldS = (performance.now() - t) / 1000;

    const r = lcg(11);
    const runs = Array.from({ length: 20_000 }, (_, i) => {
      const at = BASE + Math.floor(r() * (DAYS - 10) * DAY);
      return {
        id: `run${i}`,
        workflow_id: i % 2 === 0 ? 'delay-notice' : 'checkout-rescue',
        workflow_version: 1,
        customer_id: `u${Math.floor(r() * 50_000)}`,
        status: r() < 0.1 ? 'holdout' : 'completed',
        trigger_kind: 'event',
        trigger_event_ids: '[]',
        trigger_events: '[]',
        subject: null,
        step_path: null,
        wake_ms: null,
        wake_kind: null,
        actions: 1,
        trace_count: 0,
        outcome: null,
        started_ms: at,
        updated_ms: at,
        ended_ms: at,
      };
    });
    for (let i = 0; i < runs.length; i += 500)
      await store.db
        .insertInto('runs')
        .values(runs.slice(i, i + 500))
        .execute();

    const range = dayRange({ from: '2026-01-05', to: '2026-04-04' }, clock.now());
    const uplift = { ...UPLIFT_DEFAULTS, nowMs: clock.now() };
    if (process.env.PITWALL_BENCH_PARTS) {
      const { upliftReport, experienceReport, maturityReport, impactReport } = await import('../src/learn/index.ts');
      for (const [name, fn] of [
        ['uplift', () => upliftReport(store.db, range, uplift)],
        ['uplift without bootstrap', () => upliftReport(store.db, range, { ...uplift, bootstrapReps: 1 })],
        ['impact', () => impactReport(store.db, range, uplift, new Map())],
        ['experience', () => experienceReport(store.db, range)],
        ['maturity', () => maturityReport(store.db, clock.now())],
      ] as const)
        console.log(name, round(await median(fn), 1), 'ms');
    }
    const overviewMs = await median(() => overviewReport(store.db, range, uplift, new Map()));
    const funnelMs = await median(() => funnelReport(store.db, range, 'day'));
    const countMs = await median(() => sql`select count(*) as n from events`.execute(store.db));
    const rollupRows = Number((await sql<{ n: number }>`select count(*) as n from learn_funnel_daily`.execute(store.db)).rows[0]?.n ?? 0);

    const result = {
      bench: 'reports',
      events: n,
      rollup_rows: rollupRows,
      append_events_per_s: Math.round(n / appendS),
      fold_events_per_s: Math.round(n / foldS),
      overview_ms: round(overviewMs, 1),
      funnel_ms: round(funnelMs, 1),
      count_ms: round(countMs, 1),
      ratio: round(overviewMs / countMs, 3),
    };
    console.log(
      `${n} events folded at ${result.fold_events_per_s} ev/s into ${rollupRows} rollup rows; warm: overview ${result.overview_ms} ms, funnel by day ${result.funnel_ms} ms, count(*) of events ${result.count_ms} ms (ratio ${result.ratio})`,
    );
    return result;
  } finally {
    await log.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
