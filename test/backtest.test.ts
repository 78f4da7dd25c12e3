/**
 * Backtest = live: over random event logs (carts of a few customers, orders, long gaps), a
 * backtest of the stored log decides exactly what live processing decided over the same log — the
 * same runs (ids, statuses, outcomes), the same actions (keys, types, params) and the same policy
 * verdicts — and writes nothing to the live store.
 *
 * Live here is the real thing, on SQLite and on PostgreSQL: the state consumer and the automation subscribed
 * to the log, the detectors deriving `cart.abandoned` on durable timers, a TimerRunner firing every
 * timer at its due time on a FakeClock. Events go in one at a time (each waited for).
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { builtInExecutors, executorRegistry, type Outbox, openOutbox, parseActSettings } from '../src/act/index.ts';
import {
  type Automation,
  backtestWorkflow,
  ConditionEnvironment,
  contactPolicy,
  DEFAULT_POLICY_SETTINGS,
  listRuns,
  saveWorkflow,
  startAutomation,
  summarizeRuns,
  validateWorkflow,
  type WorkflowDefinition,
} from '../src/automate/index.ts';
import { FakeClock, isoTime } from '../src/core/index.ts';
import { openTimerStore, TimerRunner, type TimerStore } from '../src/detect/index.ts';
import { type CloudEvent, SchemaRegistry } from '../src/events/index.ts';
import { createKey } from '../src/govern/index.ts';
import { type EventLog, openEventLog } from '../src/log/index.ts';
import { type StateConsumer, startStateConsumer } from '../src/state/index.ts';
import type { Store } from '../src/store/index.ts';
import { type Backend, describeEachBackend } from './support/backends.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const executors = executorRegistry(builtInExecutors(parseActSettings({}).settings));
const POLICY = { ...DEFAULT_POLICY_SETTINGS, quietHours: undefined };

/** The cart rescue with a holdout, a wait, an if, a cancelOn, one service and one marketing step. */
const YAML = `
schemaVersion: 1
id: rescue
name: Cart rescue
holdout: 25%
trigger:
  event: cart.abandoned
conditions:
  - "cart.value > 50.0"
steps:
  - action: survey.show
    purpose: service
    with: { survey: what-stopped-you, cart: "{{ event.data.cart_id }}" }
  - wait: 2h
  - if: "cart.status != 'recovered'"
    then:
      - action: checkout.offer
        with: { cart: "{{ cart.cart_id }}", shipping: express }
cancelOn:
  - event: commerce.order_completed
`;

type Step =
  | { kind: 'add'; user: number; cart: number; price: number; gap: number }
  | { kind: 'order'; user: number; cart: number; gap: number }
  | { kind: 'consent'; user: number; marketing: boolean; gap: number };

const gap = fc.integer({ min: 1, max: 3 * HOUR });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      user: fc.nat(7),
      cart: fc.nat(2),
      price: fc.integer({ min: 10, max: 150 }),
      gap,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('order' as const), user: fc.nat(7), cart: fc.nat(2), gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('consent' as const), user: fc.nat(7), marketing: fc.boolean(), gap }) },
);

describeEachBackend('backtest', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let log: EventLog;
  let timers: TimerStore;
  let outbox: Outbox;
  let state: StateConsumer;
  let auto: Automation;
  let registry: SchemaRegistry;
  let definition: WorkflowDefinition;
  let n = 0;
  const seenBefore = new Set<string>();

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock(Date.parse('2026-02-02T10:00:00Z'));
    log = openEventLog(store, clock);
    timers = openTimerStore(store, clock);
    outbox = openOutbox(store, clock);
    registry = await new SchemaRegistry().load(store.db);
    const checked = validateWorkflow(YAML, { environment: new ConditionEnvironment(registry), executors });
    expect(checked.problems).toEqual([]);
    definition = checked.definition as WorkflowDefinition;
    await saveWorkflow(store.db, definition, { source: 'api', nowMs: clock.now() });
    state = startStateConsumer({ log, store, timers, clock, pollMs: 5, batchSize: 1 });
    auto = startAutomation({
      log,
      store,
      timers,
      clock,
      eventTypes: registry,
      outbox,
      actions: executors,
      policy: contactPolicy(POLICY),
      stateCaughtUp: (seq) => state.caughtUp(seq),
      from: 'start',
      pollMs: 5,
      batchSize: 1,
    });
  });
  afterEach(async () => {
    await auto?.stop();
    await state?.stop();
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  const ticker = () => new TimerRunner(timers, clock, (t) => (t.key.startsWith('automate:') ? auto.fire(t) : state.fire(t)));
  const settle = async () => auto.caughtUp(await log.head());
  /** Live time passes: every timer fires at its due time, and what it appended is processed. */
  async function passUntil(ms: number) {
    const t = ticker();
    for (;;) {
      const next = await timers.nextDueAt();
      if (next === undefined || next > ms) break;
      clock.set(Math.max(clock.now(), next));
      await t.tick();
      await settle();
    }
    clock.set(ms);
  }
  const event = (type: string, user: number, data: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0',
    id: `e-${++n}`,
    source: 'shop',
    type,
    time: isoTime(clock.now()),
    userid: `u-${user}`,
    datacontenttype: 'application/json',
    data,
  });
  function toEvent(s: Step): CloudEvent {
    const cart = `c-${s.kind === 'consent' ? 0 : s.cart}-u${s.user}`;
    if (s.kind === 'add')
      return event('commerce.product_added', s.user, {
        event: 'Product Added',
        properties: { cart_id: cart, sku: 'BRK-1', price: s.price, quantity: 1 },
      });
    if (s.kind === 'order')
      return event('commerce.order_completed', s.user, {
        event: 'Order Completed',
        properties: { order_id: `o-${n}`, cart_id: cart, total: 10, products: [] },
      });
    return event('customer.consent_updated', s.user, { purposes: { marketing: s.marketing } });
  }

  it('decides exactly what live processing decided over the same log, and writes nothing live', async () => {
    let iteration = 0;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 20 }), async (steps) => {
        // One live world per iteration: a fresh window of time on the same store.
        const from = clock.now() + 30 * 24 * HOUR * ++iteration;
        await passUntil(from);
        const runsBefore = (await listRuns(store.db, { limit: 10_000 })).length;
        for (const s of steps) {
          await passUntil(clock.now() + s.gap);
          const e = toEvent(s);
          const [out] = await log.append([{ event: e, receivedAt: clock.now() }]);
          expect(out?.status).toBe('accepted');
          await settle();
        }
        const to = clock.now() + 2 * 24 * HOUR;
        await passUntil(to);

        const liveAll = await summarizeRuns({ definition, fromMs: from, toMs: to }, store, outbox, { folded: 0, handled: 0 });
        // Runs of earlier iterations (earlier windows of the same store) are not this window's.
        const live = liveAll.detail.filter((r) => !seenBefore.has(r.id));
        const head = await log.head();
        const report = await backtestWorkflow({
          log,
          definition,
          fromMs: from,
          toMs: to + 1,
          eventTypes: registry,
          actions: executors,
          policy: POLICY,
        });
        expect(report.detail).toEqual(live);
        expect(report.runs.total).toBe(live.length);
        for (const r of live) {
          seenBefore.add(r.id);
          seen.add(r.outcome ?? 'none');
          for (const p of r.policy) seen.add(`policy:${String(p.verdict)}`);
        }
        // Nothing written live: no event, no run.
        expect(await log.head()).toBe(head);
        expect((await listRuns(store.db, { limit: 10_000 })).length).toBe(runsBefore + live.length);
      }),
      { numRuns: Number(process.env.PITWALL_BACKTEST_RUNS ?? 15), seed: Number(process.env.PITWALL_BACKTEST_SEED ?? 4242) },
    );
    // The logs were rich enough to exercise what the backtest must reproduce.
    expect([...seen].sort()).toEqual(
      expect.arrayContaining(['acted', 'cancelled', 'conditions_false', 'holdout', 'policy:allow', 'policy:skip']),
    );
  }, 600_000);
});

describe('backtest over HTTP', () => {
  const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
  let server: TestServer;
  let admin: string;
  let reader: string;
  const WF = `
schemaVersion: 1
id: pad-check
name: Pad check
trigger: { event: part.service_due }
steps:
  - action: survey.show
    purpose: service
    with: { survey: pad-check }
  - action: checkout.offer
    with: { cart: c-1, shipping: express }
`;

  beforeAll(async () => {
    server = await startTestServer({ name: 'backtest', clock });
    admin = (await createKey(server.pw.store.db, clock, { name: 'a', scopes: ['admin'] })).key;
    reader = (await createKey(server.pw.store.db, clock, { name: 'r', scopes: ['read'] })).key;
    for (const u of ['u-1', 'u-2', 'u-1']) {
      clock.advance(HOUR);
      await server.pw.log.append([
        {
          event: {
            specversion: '1.0',
            id: `sd-${clock.now()}`,
            source: 'pitwall:detect',
            type: 'part.service_due',
            time: isoTime(clock.now()),
            userid: u,
            data: { part: 'PAD-1', reason: 'worn' },
          },
          receivedAt: clock.now(),
        },
      ]);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = async (query: string, body: string, key = admin) => {
    const res = await fetch(`${server.pw.httpUrl}/v1/workflows/backtest${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/yaml' },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('reports runs, actions by type, customers reached and policy skips, and acts on nothing', async () => {
    const r = await post('?from=2026-06-01&to=2026-06-02T00:00:00Z', WF);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      workflow: { id: 'pad-check' },
      events: { folded: 3, handled: 3 },
      runs: { total: 3, byStatus: { completed: 3 } },
      // The survey (service) passes for everyone, but only once a day; the offer (marketing) needs consent.
      actions: { total: 2, byType: { 'survey.show': 2 } },
      customersReached: 2,
      policy: { skips: 4, deferrals: 0, byCode: { PW_POLICY_CONSENT_MISSING: 3, PW_POLICY_CAP: 1 } },
      holdouts: 0,
    });
    expect(await listRuns(server.pw.store.db, { limit: 10 })).toEqual([]);
    expect((await server.pw.log.head()) > 0).toBe(true);
    // `2h` = two hours before now; `to` defaults to now, exclusive: the events of 1 h and 2 h ago.
    expect((await post('?from=2h', WF)).body).toMatchObject({ events: { folded: 2, handled: 2 } });
  });

  it('refuses read keys, a bad window and an invalid workflow with problem codes', async () => {
    expect((await post('?from=2026-06-01', WF, reader)).status).toBe(403);
    expect(await post('?from=yesterday', WF)).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await post('?from=2026-06-02&to=2026-06-01', WF)).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    const bad = await post('?from=2026-06-01', WF.replace('purpose: service', 'purpose: spam'));
    expect(bad).toMatchObject({ status: 422, body: { code: 'PW_WORKFLOW_INVALID' } });
  });
});
