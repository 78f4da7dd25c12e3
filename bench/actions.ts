/**
 * `npm run bench -- actions [--quick]`: the Act stage.
 * 1. Event → action latency: events POSTed one per request at a paced 1,000/s (PITWALL_BENCH_RATE)
 *    to a Pitwall child (Decide on, a workflow sending an `alert` webhook per
 *    `commerce.product_viewed`); latency = the webhook's arrival at a local receiver − the event's
 *    acceptance (its 2xx response). p50/p99.
 * 2. Outbox dispatch rate (SQLite file, and PostgreSQL when reachable): N actions enqueued, then
 *    dispatched by `Dispatcher.tick` (batch 500) to a no-op executor. Baseline: the timer store's
 *    claim/complete of N timers with a no-op handler (the same job-word loop).
 * 3. Condition evaluation rate with 100 workflows loaded (compiled CEL), over one activation.
 *    Baseline: the same comparisons as plain JavaScript functions.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { Agent } from 'undici';
import { type ActionExecutor, type ActionRequest, Dispatcher, openOutbox, openSecretStore, seededRandom } from '../src/act/index.ts';
import { ConditionEnvironment, compileCondition } from '../src/automate/index.ts';
import { systemClock } from '../src/core/index.ts';
import { openTimerStore, TimerRunner } from '../src/detect/index.ts';
import { SchemaRegistry } from '../src/events/index.ts';
import { openEventLog } from '../src/log/index.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { percentile, startScript } from './lib.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const PG_URL = process.env.PITWALL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function latency(quick: boolean): Promise<{ p50_ms: number; p99_ms: number; sent: number; received: number; rate: number }> {
  // Latency runs from the event's acceptance (the 2xx response) to the webhook's arrival.
  const sentAt = new Map<string, number>();
  const arrived = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      try {
        const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { summary?: string } }).data?.summary;
        if (id !== undefined) arrived.set(id, at);
      } catch {
        // counted as not received
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  const child = await startScript<{ url: string; key: string }>('act', path.join(here, 'servers', 'act.ts'), [
    `http://127.0.0.1:${port}/hook`,
  ]);
  const agent = new Agent({ connections: 50, pipelining: 1 });
  const auth = `Basic ${Buffer.from(`${child.info.key}:`).toString('base64')}`;
  const send = async (id: string) => {
    const body = JSON.stringify({
      specversion: '1.0',
      id,
      source: 'bench',
      type: 'commerce.product_viewed',
      time: new Date().toISOString(),
      data: { event: 'Product Viewed', properties: { sku: 'BRK-1', product_id: 'BRK-1' } },
    });
    const r = await fetch(`${child.info.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: auth },
      body,
      // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
      dispatcher: agent,
    });
    await r.arrayBuffer();
    if (r.ok) sentAt.set(id, performance.now());
  };
  try {
    // Warm-up, then paced load: 10 events every 10 ms (1,000/s).
    for (let i = 0; i < 50; i++) await send(`warm-${i}`);
    await new Promise((r) => setTimeout(r, 2000));
    const perSecond = Number(process.env.PITWALL_BENCH_RATE ?? 1000);
    const seconds = quick ? 3 : 10;
    const total = seconds * perSecond;
    const ids: string[] = [];
    const started = performance.now();
    const inflight: Promise<void>[] = [];
    let n = 0;
    while (n < total) {
      const due = started + (n / perSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      for (let k = 0; k < 10 && n < total; k++, n++) {
        const id = randomUUID();
        ids.push(id);
        inflight.push(send(id).catch(() => undefined));
      }
    }
    await Promise.all(inflight);
    const rate = total / ((performance.now() - started) / 1000);
    const deadline = performance.now() + 30_000;
    while (ids.some((id) => !arrived.has(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const lat = ids.flatMap((id) => {
      const a = arrived.get(id);
      const s0 = sentAt.get(id);
      return a !== undefined && s0 !== undefined ? [Math.max(0, a - s0)] : [];
    });
    const sorted = lat.sort((a, b) => a - b);
    return {
      p50_ms: Math.round(percentile(sorted, 50) * 10) / 10,
      p99_ms: Math.round(percentile(sorted, 99) * 10) / 10,
      sent: total,
      received: ids.filter((id) => arrived.has(id)).length,
      rate: Math.round(rate),
    };
  } finally {
    await agent.close();
    await child.stop();
    receiver.close();
  }
}

const noop: ActionExecutor = {
  type: 'bench.noop',
  channel: 'internal',
  reachesCustomer: false,
  defaultMinutesSaved: 0,
  validateParams: () => [],
  execute: async () => ({}),
};

async function dispatchRate(store: Store, n: number): Promise<{ actions_per_s: number; timers_per_s: number }> {
  const clock = systemClock;
  const outbox = openOutbox(store, clock);
  const now = clock.now();
  for (let i = 0; i < n; i += 500) {
    const reqs: ActionRequest[] = [];
    for (let k = i; k < Math.min(n, i + 500); k++)
      reqs.push({
        key: `a-${k}`,
        runId: `r-${k}`,
        workflowId: 'bench',
        workflowVersion: 1,
        stepPath: 'steps.0',
        type: 'bench.noop',
        params: { k },
        createdAtMs: now,
      });
    await outbox.enqueue(store.db, reqs);
  }
  const log = openEventLog(store, clock);
  const dispatcher = new Dispatcher(
    outbox,
    new Map([['bench.noop', noop]]),
    { clock, log, db: store.db, secrets: openSecretStore(store, clock), logger: pino({ level: 'silent' }) },
    { random: seededRandom(1), batch: 500 },
  );
  let t = performance.now();
  let done = 0;
  while (done < n) {
    const r = await dispatcher.tick();
    if (r.claimed === 0) break;
    done += r.completed;
  }
  const actions = done / ((performance.now() - t) / 1000);

  const timers = openTimerStore(store, clock);
  for (let i = 0; i < n; i += 500)
    await timers.scheduleMany(Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ key: `t-${i + k}`, dueAt: now, payload: null })));
  const runner = new TimerRunner(timers, clock, async () => undefined, { batch: 500 });
  t = performance.now();
  let fired = 0;
  while (fired < n) {
    const r = await runner.tick();
    if (r.claimed === 0) break;
    fired += r.completed;
  }
  const timersRate = fired / ((performance.now() - t) / 1000);
  await log.close();
  return { actions_per_s: Math.round(actions), timers_per_s: Math.round(timersRate) };
}

async function conditions(quick: boolean): Promise<{ conditions_per_s: number; js_per_s: number }> {
  const env = new ConditionEnvironment(new SchemaRegistry());
  const scope = env.scope({ event: 'cart.abandoned', run: true, state: true });
  const compiled = Array.from({ length: 100 }, (_, i) =>
    compileCondition(`cart.value > ${i}.0 && event.data.idle_minutes >= ${i % 60} && has(cart.cart_id)`, scope),
  );
  const js = Array.from(
    { length: 100 },
    (_, i) => (a: { cart: { value: number; cart_id?: string }; event: { data: { idle_minutes: number } } }) =>
      a.cart.value > i && a.event.data.idle_minutes >= i % 60 && a.cart.cart_id !== undefined,
  );
  const activation = {
    nowMs: Date.now(),
    event: { type: 'cart.abandoned', data: { cart_id: 'c-1', idle_minutes: 45, value: 80 } },
    run: null,
    cart: { cart_id: 'c-1', value: 80, status: 'abandoned' },
  };
  const ms = quick ? 1000 : 3000;
  let evals = 0;
  let t = performance.now();
  while (performance.now() - t < ms) {
    for (const c of compiled) c.evaluate(activation as never);
    evals += compiled.length;
  }
  const cel = evals / ((performance.now() - t) / 1000);
  let jsEvals = 0;
  let sink = 0;
  t = performance.now();
  while (performance.now() - t < ms) {
    for (const f of js) sink += f(activation) ? 1 : 0;
    jsEvals += js.length;
  }
  if (sink < 0) console.log(sink);
  return { conditions_per_s: Math.round(cel), js_per_s: Math.round(jsEvals / ((performance.now() - t) / 1000)) };
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function runActionsBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  // PITWALL_BENCH_LATENCY_ONLY=1: only the event → webhook part (for paired before/after runs).
  if (process.env.PITWALL_BENCH_LATENCY_ONLY === '1') {
    const l = await latency(opts.quick);
    console.log(`event → webhook: p50 ${l.p50_ms} ms  p99 ${l.p99_ms} ms  (${l.received}/${l.sent} received, sent at ${l.rate}/s)`);
    return { bench: 'actions', ...l };
  }
  const n = opts.quick ? 5000 : 20_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-bench-actions-'));
  const sqlite = await openStore({ sqliteFile: path.join(dir, 'bench.db') });
  const sq = await dispatchRate(sqlite, n);
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`outbox dispatch, SQLite: ${sq.actions_per_s} actions/s (timers claim/complete: ${sq.timers_per_s}/s)  n=${n}`);
  let pgr: { actions_per_s: number; timers_per_s: number } | undefined;
  if (await pgReachable()) {
    const schema = `bench_actions_${process.pid}`;
    const store = await openStore({ databaseUrl: PG_URL, pgSchema: schema });
    try {
      pgr = await dispatchRate(store, n);
    } finally {
      await store.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await store.close();
    }
    console.log(`outbox dispatch, PostgreSQL: ${pgr.actions_per_s} actions/s (timers claim/complete: ${pgr.timers_per_s}/s)  n=${n}`);
  }
  const c = await conditions(opts.quick);
  console.log(`conditions (100 workflows, CEL): ${c.conditions_per_s}/s; plain JS: ${c.js_per_s}/s`);
  const l = await latency(opts.quick);
  console.log(`event → webhook: p50 ${l.p50_ms} ms  p99 ${l.p99_ms} ms  (${l.received}/${l.sent} received, sent at ${l.rate}/s)`);
  return {
    bench: 'actions',
    p50_ms: l.p50_ms,
    p99_ms: l.p99_ms,
    received: l.received,
    sent: l.sent,
    send_rate: l.rate,
    actions_per_s: sq.actions_per_s,
    actions_per_s_pg: pgr?.actions_per_s ?? null,
    conditions_per_s: c.conditions_per_s,
    baseline_timers_per_s: sq.timers_per_s,
    ratio_actions_to_timers: Math.round((sq.actions_per_s / sq.timers_per_s) * 100) / 100,
    baseline_js_conditions_per_s: c.js_per_s,
    ratio_cel_to_js: Math.round((c.conditions_per_s / c.js_per_s) * 1000) / 1000,
  };
}
