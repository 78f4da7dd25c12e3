/**
 * Act end to end, wired the way main.ts wires it: Segment events in over HTTP → the state
 * consumer folds the cart and derives `cart.abandoned` on its timer → the runner (group
 * `automate`) starts a run and writes the action to the outbox → the dispatcher delivers a
 * signed webhook to a real receiver, verified with `standardwebhooks` → the runs API and "why"
 * answer from the trace. On both backends, on a FakeClock, without sleeping.
 */
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  type ActionExecutor,
  builtInExecutors,
  Dispatcher,
  executorRegistry,
  generateWebhookSecret,
  openOutbox,
  openSecretStore,
  parseActSettings,
  seededRandom,
} from '../src/act/index.ts';
import { ConditionEnvironment, saveWorkflow, validateWorkflow, type WorkflowDefinition } from '../src/automate/index.ts';
import { DEFAULT_POLICY_SETTINGS } from '../src/automate/policy/index.ts';
import { AUTOMATE_TIMER_PREFIX, type Automation, actionKey, contactPolicy, startAutomation } from '../src/automate/runner/index.ts';
import { FakeClock } from '../src/core/index.ts';
import { openTimerStore, TimerRunner } from '../src/detect/index.ts';
import { SchemaRegistry } from '../src/events/index.ts';
import { createKey, KeyAuthenticator } from '../src/govern/index.ts';
import { buildApp } from '../src/http/index.ts';
import { defaultDoors, Ingestor } from '../src/ingest/index.ts';
import { type EventLog, openEventLog } from '../src/log/index.ts';
import { Metrics } from '../src/ops/index.ts';
import { type StateConsumer, startStateConsumer } from '../src/state/index.ts';
import type { Store } from '../src/store/index.ts';
import { type Backend, describeEachBackend } from './support/backends.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.end('ok');
  });
});
let port = 0;
beforeAll(async () => {
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  port = (receiver.address() as net.AddressInfo).port;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});

const workflowYaml = () => `
schemaVersion: 1
id: cart-hook
name: Tell the shop about an abandoned cart
trigger:
  event: cart.abandoned
conditions:
  - "cart.value > 50.0"
steps:
  - action: webhook.send
    with:
      url: "http://127.0.0.1:${port}/hooks"
      secret: shop-hook
      event: cart.rescue
      data: { cart: "{{ cart.cart_id }}", value: "{{ cart.value }}", customer: "{{ run.customer }}" }
  - wait: 1h
  - action: survey.show
    with: { survey: what-stopped-you }
cancelOn:
  - event: commerce.order_completed
`;

describeEachBackend('automation end to end', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let log: EventLog;
  let state: StateConsumer;
  let auto: Automation;
  let ticker: TimerRunner;
  let dispatcher: Dispatcher;
  let executors: ActionExecutor[];
  let app: FastifyInstance;
  let key: string;
  let secret: string;
  let n = 0;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    // Near real time once the cart has been idle: standardwebhooks rejects timestamps 5 minutes off.
    clock = new FakeClock(Date.now() - 30 * 60_000);
    log = openEventLog(store, clock);
    const registry = await new SchemaRegistry().load(store.db);
    const timers = openTimerStore(store, clock);
    const outbox = openOutbox(store, clock);
    const secrets = openSecretStore(store, clock);
    secret = generateWebhookSecret();
    await secrets.set('shop-hook', secret);
    executors = builtInExecutors(parseActSettings({ PITWALL_WEBHOOK_ALLOW: '127.0.0.0/8' }).settings);
    const registryOfExecutors = executorRegistry(executors);

    const checked = validateWorkflow(workflowYaml(), { environment: new ConditionEnvironment(registry), executors: registryOfExecutors });
    expect(checked.problems).toEqual([]);
    await saveWorkflow(store.db, checked.definition as WorkflowDefinition, { source: 'api', nowMs: clock.now() });

    // What main.ts wires: the state consumer, the runner behind it, one timer runner for both.
    state = startStateConsumer({ log, store, timers, clock, pollMs: 20 });
    auto = startAutomation({
      log,
      store,
      timers,
      clock,
      eventTypes: registry,
      actions: registryOfExecutors,
      outbox,
      policy: contactPolicy({ ...DEFAULT_POLICY_SETTINGS, quietHours: undefined, consentDefaults: { marketing: true } }),
      stateCaughtUp: (seq) => state.caughtUp(seq),
      pollMs: 20,
    });
    ticker = new TimerRunner(timers, clock, (t) => (t.key.startsWith(AUTOMATE_TIMER_PREFIX) ? auto.fire(t) : state.fire(t)));
    dispatcher = new Dispatcher(outbox, registryOfExecutors, { clock, log, db: store.db, secrets }, { random: seededRandom(7) });

    const metrics = new Metrics({ defaults: false });
    const ingestor = new Ingestor({ store, log, registry, clock, metrics, maxPendingEvents: 10_000, doors: defaultDoors() });
    const keys = new KeyAuthenticator(store.db, clock);
    app = buildApp({ store, log, registry, ingestor, keys, metrics, clock, logger: pino({ level: 'silent' }), isReady: () => true, state });
    key = (await createKey(store.db, clock, { name: 't', scopes: ['ingest', 'read'] })).key;
    received.length = 0;
  });

  afterEach(async () => {
    await app.close();
    await auto.stop();
    await state.stop();
    for (const e of executors) await e.close?.();
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  async function track(userId: string, event: string, properties: Record<string, unknown>): Promise<void> {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { authorization: `Bearer ${key}` },
      payload: { userId, event, properties, messageId: `m-${++n}`, timestamp: new Date(clock.now()).toISOString() },
    });
    expect(res.statusCode).toBe(200);
    await auto.caughtUp((res.json() as { seq: number }).seq);
  }

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  it('acts on an abandoned cart with a signed webhook whose id is the action key, once, and explains it', async () => {
    await track('u-1', 'Product Added', { cart_id: 'c-1', sku: 'BRK-PAD-1', price: 80, quantity: 1 });
    await track('u-2', 'Product Viewed', { sku: 'BRK-PAD-1' });
    clock.advance(30 * 60_000);
    await ticker.tick(); // the carts detector derives cart.abandoned
    await auto.caughtUp(await log.head());
    expect((await dispatcher.tick()).completed).toBe(1);

    const list = await get('/v1/runs?workflow=cart-hook');
    expect(list.status).toBe(200);
    const runs = list.body.runs as { id: string; status: string; customer_id: string }[];
    expect(runs).toHaveLength(1);
    const run = runs[0] as { id: string; status: string; customer_id: string };
    expect(run).toMatchObject({ status: 'waiting', customer_id: 'u-1' });

    expect(received).toHaveLength(1);
    const hook = received[0] as Received;
    expect(hook.headers['webhook-id']).toBe(actionKey(run.id, 'steps.0'));
    const body = new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>) as { type: string; data: unknown };
    expect(body).toMatchObject({ type: 'cart.rescue', data: { cart: 'c-1', value: 80, customer: 'u-1' } });

    // The whole log handled again (a crash before the ack): no second run, no second delivery.
    await auto.handle(await log.read(0, 1000));
    await dispatcher.tick();
    expect(received).toHaveLength(1);
    expect(((await get('/v1/runs')).body.runs as unknown[]).length).toBe(1);

    const one = await get(`/v1/runs/${run.id}`);
    expect(one.status).toBe(200);
    expect((one.body.trace as { kind: string }[]).map((t) => t.kind)).toEqual(['trigger', 'condition', 'policy', 'action', 'wait']);

    const why = await get('/v1/workflows/cart-hook/why?customer=u-1');
    expect(why.body).toMatchObject({ customer_id: 'u-1' });
    expect(String(why.body.answer)).toMatch(/^waiting after webhook.send at steps.1 until /);
    expect((await get('/v1/workflows/cart-hook/why?customer=u-2')).body.answer).toBe('no trigger event seen for this customer');
    expect(String((await get('/v1/workflows/cart-hook/why?customer=email:nobody@example.com')).body.answer)).toMatch(
      /no customer is known/,
    );
  });

  it('cancels the waiting run when the customer orders, so the later step never acts', async () => {
    await track('u-1', 'Product Added', { cart_id: 'c-1', sku: 'BRK-PAD-1', price: 80, quantity: 1 });
    clock.advance(30 * 60_000);
    await ticker.tick();
    await auto.caughtUp(await log.head());
    await track('u-1', 'Order Completed', { order_id: 'o-1', cart_id: 'c-1', total: 80 });
    const [run] = (await get('/v1/runs?customer=u-1&status=cancelled')).body.runs as { id: string }[];
    expect(run).toBeDefined();
    clock.advance(2 * 3_600_000);
    await ticker.tick();
    await dispatcher.tick();
    const detail = await get(`/v1/runs/${run?.id}`);
    expect(detail.body).toMatchObject({ status: 'cancelled', actions: 1 });
    expect(String((await get('/v1/workflows/cart-hook/why?customer=u-1')).body.answer)).toMatch(/^cancelled by commerce.order_completed/);
  });

  it('answers problem+json for an unknown run and a bad query', async () => {
    const missing = await get('/v1/runs/nope');
    expect(missing).toMatchObject({ status: 404, body: { code: 'PW_RUN_NOT_FOUND' } });
    expect(await get('/v1/runs?status=sleeping')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/workflows/cart-hook/why')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/runs?cursor=zzz')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/workflows/nope/why?customer=u-1')).toMatchObject({ status: 404, body: { code: 'PW_WORKFLOW_NOT_FOUND' } });
  });
});
