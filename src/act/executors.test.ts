/** The executors that write to Pitwall's own store and log: directives and `emit`, plus the registry. */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { deterministicId, FakeClock } from '../core/index.ts';
import { SchemaRegistry } from '../events/index.ts';
import { type EventLog, openEventLog } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import {
  type ActionRequest,
  activeDirectives,
  builtInExecutors,
  consumeDirective,
  Dispatcher,
  executorRegistry,
  getDirective,
  type Outbox,
  openOutbox,
  openSecretStore,
  parseActSettings,
  pruneDirectives,
  seededRandom,
} from './index.ts';

const HOUR = 3_600_000;
const executors = builtInExecutors(parseActSettings({}).settings, { validator: new SchemaRegistry() });
const byType = executorRegistry(executors);

describe('the built-in executors', () => {
  it('declare channel, customer reach and minutes saved for the policy and Learn', () => {
    expect(
      executors
        .map((e) => [e.type, e.channel, e.reachesCustomer, e.defaultMinutesSaved])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['alert', 'ops', false, 2],
      ['checkout.offer', 'onsite', true, 15],
      ['email.send', 'email', true, 4],
      ['emit', 'internal', false, 0],
      ['recommend', 'onsite', true, 10],
      ['reminder.schedule', 'reminder', false, 5],
      ['storefront.message', 'onsite', false, 10],
      ['survey.show', 'survey', true, 3],
      ['webhook.send', 'webhook', true, 5],
    ]);
  });

  it('refuse two executors for one type', () => {
    expect(() => executorRegistry([...executors, ...executors.slice(0, 1)])).toThrow('two executors for action type "webhook.send"');
  });

  it.each([
    ['survey.show', { survey: 'what-stopped-you', placement: 'exit_intent' }, []],
    ['survey.show', { survey: 'x', placement: 'popup', expires_in: '30s' }, ['/placement', '/expires_in']],
    ['checkout.offer', { cart: '{{ cart.id }}', shipping: 'express', expires_in: '24h' }, []],
    ['checkout.offer', { cart: 'c1' }, ['']],
    ['checkout.offer', { cart: 'c1', discount: { percent: 10, amount: 5 } }, ['/discount']],
    ['storefront.message', { sku: 'BRK-1', text: 'Ships in 2–3 days', kind: 'delivery_promise' }, []],
    ['storefront.message', { text: 'hello' }, ['']],
    ['webhook.send', { url: '{{ customer.hook }}', secret: 'shop-hook', data: { a: 1 } }, []],
    ['webhook.send', { url: 'ftp://x', secret: 'whsec_abc/def', extra: 1 }, ['/url', '/secret', '/extra']],
    ['alert', { summary: 'x', webhook: { url: 'https://ops.example/hook', secret: 'ops' } }, []],
    ['alert', { summary: 'x', webhook: { url: 'https://ops.example/hook', secret: 'ops' }, email: { to: 'a@b.co' } }, ['']],
    ['alert', { summary: 'x', email: { to: 'nope' } }, ['/email/to']],
    ['emit', { type: 'workflow.reorder_suggested', data: { sku: 'X' } }, []],
    ['emit', { type: 'Not A Type' }, ['/type']],
  ])('%s validates %j', (type, params, pointers) => {
    expect(
      byType
        .get(type)
        ?.validateParams(params)
        .map((p) => p.pointer),
    ).toEqual(pointers);
  });
});

describeEachBackend('directives and emit', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let outbox: Outbox;
  let log: EventLog;
  let dispatcher: Dispatcher;
  let registry: SchemaRegistry;
  let live: ReturnType<typeof executorRegistry>;
  let n = 0;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock();
    outbox = openOutbox(store, clock);
    log = openEventLog(store, clock);
    registry = await new SchemaRegistry().load(store.db);
    live = executorRegistry(builtInExecutors(parseActSettings({}).settings, { validator: registry }));
    dispatcher = new Dispatcher(
      outbox,
      live,
      { clock, log, db: store.db, secrets: openSecretStore(store, clock), logger: pino({ level: 'silent' }) },
      { random: seededRandom(5) },
    );
  });
  afterEach(async () => {
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  const action = (type: string, params: Record<string, unknown>, over: Partial<ActionRequest> = {}): ActionRequest => {
    const runId = `run-${++n}`;
    return {
      key: deterministicId('pitwall.action', runId, 'steps.0'),
      runId,
      workflowId: 'delivery-concern-rescue',
      workflowVersion: 1,
      stepPath: 'steps.0',
      type,
      params,
      customerId: 'cust-anna',
      createdAtMs: clock.now(),
      ...over,
    };
  };
  const run = async (...reqs: ActionRequest[]) => {
    await outbox.enqueue(store.db, reqs);
    return dispatcher.tick();
  };

  it('writes each storefront directive once, scoped, with an expiry from when the action was created', async () => {
    const survey = action('survey.show', { survey: 'what-stopped-you', placement: 'exit_intent' });
    const offer = action('checkout.offer', { cart: 'cart-9', shipping: 'express', message: 'Express on us', expires_in: '24h' });
    const message = action(
      'storefront.message',
      { sku: 'BAT-70AH', region: 'DE', text: 'Delivery in 4–6 days', kind: 'delivery_promise' },
      { customerId: undefined },
    );
    expect(await run(survey, offer, message)).toMatchObject({ completed: 3 });
    expect(await getDirective(store.db, survey.key)).toMatchObject({
      type: 'survey.show',
      customerId: 'cust-anna',
      cartId: undefined,
      payload: { survey: 'what-stopped-you', placement: 'exit_intent' },
      expiresAtMs: survey.createdAtMs + 7 * 24 * HOUR,
    });
    expect(await getDirective(store.db, offer.key)).toMatchObject({
      cartId: 'cart-9',
      customerId: undefined,
      payload: { shipping: 'express', message: 'Express on us' },
      expiresAtMs: offer.createdAtMs + 24 * HOUR,
    });
    expect(await getDirective(store.db, message.key)).toMatchObject({
      sku: 'BAT-70AH',
      region: 'DE',
      payload: { text: 'Delivery in 4–6 days', kind: 'delivery_promise' },
    });
    // A second run of the same actions (a crash before complete) changes nothing.
    clock.advance(HOUR);
    for (const t of ['survey.show', 'checkout.offer']) {
      const a = [survey, offer].find((x) => x.type === t) as ActionRequest;
      await byType.get(t)?.execute({ ...a, attempts: 2, token: 't' }, { clock, log, db: store.db, secrets: openSecretStore(store, clock) });
    }
    expect((await getDirective(store.db, offer.key))?.createdAtMs).toBe(offer.createdAtMs);
  });

  it('serves directives whose every named scope matches the page, until they expire or are consumed', async () => {
    const survey = action('survey.show', { survey: 's1' });
    const offer = action('checkout.offer', { cart: 'cart-9', shipping: 'express', expires_in: '2h' });
    const skuRegion = action('storefront.message', { sku: 'BAT-70AH', region: 'DE', text: 'DE only' }, { customerId: undefined });
    const skuOnly = action('storefront.message', { sku: 'BAT-70AH', text: 'everywhere' }, { customerId: undefined });
    const regionOnly = action('storefront.message', { region: 'FR', text: 'FR banner' }, { customerId: undefined });
    await run(survey, offer, skuRegion, skuOnly, regionOnly);
    const keys = async (scope: Parameters<typeof activeDirectives>[1]) =>
      (await activeDirectives(store.db, scope, clock.now())).map((d) => d.key).sort();
    const sorted = (...k: string[]) => [...k].sort();

    expect(await keys({ customerId: 'cust-anna', cartId: 'cart-9', skus: ['BAT-70AH'], region: 'DE' })).toEqual(
      sorted(survey.key, offer.key, skuRegion.key, skuOnly.key),
    );
    expect(await keys({ customerId: 'cust-bob', skus: ['BAT-70AH'], region: 'FR' })).toEqual(sorted(skuOnly.key, regionOnly.key));
    expect(await keys({ customerId: 'cust-anna' })).toEqual([survey.key]);
    expect(await keys({})).toEqual([]);
    expect(await keys({ customerId: 'cust-anna', cartId: 'cart-9', types: ['checkout.offer'] })).toEqual([offer.key]);

    expect(await consumeDirective(store.db, survey.key, clock.now())).toBe(true);
    expect(await consumeDirective(store.db, survey.key, clock.now())).toBe(false);
    expect(await keys({ customerId: 'cust-anna' })).toEqual([]);

    clock.advance(2 * HOUR);
    expect(await keys({ cartId: 'cart-9' })).toEqual([]);
    expect(await pruneDirectives(store.db, clock.now() + 1)).toBe(1);
  });

  it('dead-letters a survey with no one to show it to', async () => {
    const a = action('survey.show', { survey: 's1' }, { customerId: undefined });
    expect(await run(a)).toMatchObject({ dead: 1 });
    expect((await outbox.get(a.key))?.lastError).toMatch(/^PW_DIRECTIVE_SCOPE_MISSING/);
  });

  it('emits a custom event once, with the action key as id, even when executed twice', async () => {
    await registry.register(store.db, clock, {
      type: 'workflow.reorder_suggested',
      description: 'a reorder suggestion',
      schema: { type: 'object' },
    });
    const a = action('emit', { type: 'workflow.reorder_suggested', data: { sku: 'BRK-PAD-001', quantity: 40 }, subject: 'BRK-PAD-001' });
    expect(await run(a)).toMatchObject({ completed: 1 });
    await live
      .get('emit')
      ?.execute({ ...a, attempts: 2, token: 't' }, { clock, log, db: store.db, secrets: openSecretStore(store, clock) });
    const events = await log.query({ type: 'workflow.reorder_suggested', order: 'asc', limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toMatchObject({
      id: a.key,
      source: 'pitwall:workflow/delivery-concern-rescue',
      subject: 'BRK-PAD-001',
      userid: 'cust-anna',
      time: new Date(a.createdAtMs).toISOString(),
      data: { sku: 'BRK-PAD-001', quantity: 40 },
    });
    expect((await outbox.get(a.key))?.result?.detail).toMatchObject({ event_id: a.key, duplicate: false });
  });

  it('refuses to emit an event of an unregistered type or one that breaks its schema', async () => {
    const unknown = action('emit', { type: 'workflow.never_registered', data: {} });
    const broken = action('emit', { type: 'commerce.order_completed', data: { nonsense: true } });
    expect(await run(unknown, broken)).toMatchObject({ dead: 2 });
    expect((await outbox.get(unknown.key))?.lastError).toMatch(/^PW_ACTION_EMIT_INVALID: .*workflow.never_registered/);
    expect((await outbox.get(broken.key))?.lastError).toMatch(/^PW_ACTION_EMIT_INVALID/);
    expect(await log.head()).toBe(0);
  });
});
