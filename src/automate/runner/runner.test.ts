/**
 * The runner on both backends with real parts: the log, the state consumer (carts, identity),
 * durable timers on a FakeClock, Part A's outbox and executors, Part B's CEL environment and
 * Part D's contact policy and holdouts.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import {
  checkoutOfferExecutor,
  emitExecutor,
  executorRegistry,
  type Outbox,
  openOutbox,
  storefrontMessageExecutor,
  surveyShowExecutor,
} from '../../act/index.ts';
import { FakeClock, isoTime } from '../../core/index.ts';
import { openTimerStore, TimerRunner, type TimerStore } from '../../detect/index.ts';
import { type CloudEvent, SchemaRegistry } from '../../events/index.ts';
import { type EventLog, openEventLog } from '../../log/index.ts';
import { type StateConsumer, startStateConsumer } from '../../state/index.ts';
import type { Store } from '../../store/index.ts';
import { ConditionEnvironment } from '../conditions/environment.ts';
import { saveWorkflow } from '../definitions/store.ts';
import { validateWorkflow } from '../definitions/validate.ts';
import { holdoutBucket } from '../holdouts/index.ts';
import { addSuppression, type ContactPolicySettings, DEFAULT_POLICY_SETTINGS } from '../policy/index.ts';
import { contactPolicy } from './adapters.ts';
import { wakeTimerKey } from './engine.ts';
import { type Automation, createRunner, startAutomation } from './runner.ts';
import { actionKey, getRun, listRuns, type Run, runTrace } from './runs.ts';
import type { WorkflowDefinition } from './types.ts';
import { explainRuns } from './why.ts';

/** The starter "cart rescue" as an author writes it; validated by Part B against the catalogue and the executors. */
const RESCUE_YAML = `
schemaVersion: 1
id: rescue
name: Cart rescue
trigger:
  event: cart.abandoned
conditions:
  - "cart.value > 50.0"
steps:
  - action: survey.show
    with: { survey: what-stopped-you, placement: exit_intent, cart: "{{ event.data.cart_id }}" }
  - wait: 2h
  - if: "cart.status != 'recovered'"
    then:
      - action: checkout.offer
        with: { cart: "{{ cart.cart_id }}", shipping: express, expires_in: 24h }
cancelOn:
  - event: commerce.order_completed
    match: "event.userid == run.customer"
`;

/** Marketing allowed without a stated consent, so only the rule under test blocks. */
const OPEN_POLICY: ContactPolicySettings = {
  ...DEFAULT_POLICY_SETTINGS,
  quietHours: undefined,
  consentDefaults: { marketing: true, service: true, transactional: true },
};

describeEachBackend('runner', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let log: EventLog;
  let timers: TimerStore;
  let outbox: Outbox;
  let state: StateConsumer;
  let auto: Automation;
  let ticker: TimerRunner;
  let policy: ContactPolicySettings;
  let RESCUE: WorkflowDefinition;
  let registry: SchemaRegistry;
  const executors = executorRegistry([surveyShowExecutor(), checkoutOfferExecutor(), storefrontMessageExecutor(), emitExecutor()]);
  let n = 0;

  async function start(settings: ContactPolicySettings = OPEN_POLICY) {
    policy = settings;
    auto = startAutomation({
      log,
      store,
      timers,
      clock,
      eventTypes: registry,
      outbox,
      actions: executors,
      policy: contactPolicy(policy),
      stateCaughtUp: (seq) => state.caughtUp(seq),
      from: 'start',
      pollMs: 20,
    });
    ticker = new TimerRunner(timers, clock, (t) => (t.key.startsWith('automate:') ? auto.fire(t) : state.fire(t)));
  }

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock(Date.parse('2026-01-05T09:00:00Z'));
    log = openEventLog(store, clock);
    timers = openTimerStore(store, clock);
    outbox = openOutbox(store, clock);
    state = startStateConsumer({ log, store, timers, clock, pollMs: 20 });
    registry = await new SchemaRegistry().load(store.db);
    const environment = new ConditionEnvironment(registry);
    const checked = validateWorkflow(RESCUE_YAML, { environment, executors });
    expect(checked.problems).toEqual([]);
    RESCUE = checked.definition as WorkflowDefinition;
  });

  afterEach(async () => {
    await auto?.stop();
    await state.stop();
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  it('is caught up with an event only once the state it reads has folded it, even an event before its start', async () => {
    const [first] = await log.append([{ event: event('commerce.product_viewed', { sku: 'BRK-1' }), receivedAt: clock.now() }]);
    const seq = first?.seq ?? 0;
    let fold: () => void = () => undefined;
    const folded = new Promise<void>((resolve) => {
      fold = resolve;
    });
    // Starts from the end, after `seq`: the subscription alone counts it as handled at once.
    auto = startAutomation({
      log,
      store,
      timers,
      clock,
      eventTypes: registry,
      outbox,
      actions: executors,
      stateCaughtUp: (s) => (s === seq ? folded : state.caughtUp(s)),
      from: 'end',
      pollMs: 20,
    });
    const [second] = await log.append([{ event: event('commerce.product_viewed', { sku: 'BRK-2' }), receivedAt: clock.now() }]);
    await auto.caughtUp(second?.seq ?? 0); // the subscription has started and handled the later event
    const settled = () => new Promise((resolve) => setImmediate(() => resolve('pending')));
    const waiting = auto.caughtUp(seq).then(() => 'caught up');
    expect(await Promise.race([waiting, settled()])).toBe('pending');
    fold();
    expect(await waiting).toBe('caught up');
  });

  /** A new version in Part B's workflow store, as the API saves it. */
  const save = (def: WorkflowDefinition) => saveWorkflow(store.db, def, { source: 'api', nowMs: clock.now() });

  const event = (type: string, data: Record<string, unknown>, attrs: Partial<CloudEvent> = {}): CloudEvent => ({
    specversion: '1.0',
    id: `e-${++n}`,
    source: 'test',
    type,
    time: isoTime(clock.now()),
    datacontenttype: 'application/json',
    data,
    ...attrs,
  });

  async function append(...events: CloudEvent[]): Promise<number> {
    const out = await log.append(events.map((e) => ({ event: e, receivedAt: clock.now() })));
    const seq = Math.max(...out.map((o) => o.seq));
    await auto.caughtUp(seq);
    return seq;
  }

  /** A cart of `value` for `user`, idle for 30 minutes: the carts detector derives `cart.abandoned` (no user id on it). */
  async function abandon(user: string, cart: string, value: number): Promise<void> {
    await append(
      event(
        'commerce.product_added',
        { event: 'Product Added', properties: { cart_id: cart, sku: 'BRK-1', price: value, quantity: 1 } },
        { userid: user },
      ),
    );
    clock.advance(30 * 60_000);
    await ticker.tick();
    await auto.caughtUp(await log.head());
  }

  const runs = () => listRuns(store.db, { limit: 100 });
  const actions = async () => (await outbox.list({ limit: 100 })).actions.sort((a, b) => a.stepPath.localeCompare(b.stepPath));
  const only = async (): Promise<Run> => {
    const all = await runs();
    expect(all).toHaveLength(1);
    return all[0] as Run;
  };

  it('starts one run for a trigger, checks the condition over the cart, and enqueues the first action under its idempotency key', async () => {
    await save(RESCUE);
    await start();
    await abandon('u-1', 'c-1', 80);
    const run = await only();
    expect(run).toMatchObject({
      workflowId: 'rescue',
      workflowVersion: 1,
      customerId: 'u-1',
      status: 'waiting',
      stepPath: 'steps.1',
      actions: 1,
      subject: 'c-1',
    });
    const acts = await actions();
    expect(acts.map((a) => [a.type, a.key, a.params])).toEqual([
      ['survey.show', actionKey(run.id, 'steps.0'), { survey: 'what-stopped-you', placement: 'exit_intent', cart: 'c-1' }],
    ]);
    expect(acts[0]).toMatchObject({ runId: run.id, customerId: 'u-1', workflowId: 'rescue', workflowVersion: 1 });
    const trace = await runTrace(store.db, run.id);
    expect(trace.map((t) => t.kind)).toEqual(['trigger', 'condition', 'policy', 'action', 'wait']);
    expect(trace[1]?.detail).toEqual({ expression: 'cart.value > 50.0', value: true });
    expect(await timers.get(wakeTimerKey('wait', run.id, 'steps.1'))).toMatchObject({ dueAt: clock.now() + 2 * 3_600_000 });
  });

  it('creates no second run and no second action when a batch is handled again', async () => {
    await save(RESCUE);
    await start();
    await abandon('u-1', 'c-1', 80);
    const batch = await log.read(0, 100);
    await auto.handle(batch);
    await auto.handle(batch);
    expect(await runs()).toHaveLength(1);
    expect(await actions()).toHaveLength(1);
  });

  it('gives a waiting run its timer back when the trigger is seen again after a crash lost it', async () => {
    await save(RESCUE);
    await start();
    await abandon('u-1', 'c-1', 80);
    const run = await only();
    const key = wakeTimerKey('wait', run.id, 'steps.1');
    const due = (await timers.get(key))?.dueAt;
    await timers.cancel(key);
    await auto.handle(await log.read(0, 100));
    expect((await timers.get(key))?.dueAt).toBe(due);
    expect(await actions()).toHaveLength(1);
  });

  it('records a false condition as a skipped run and acts on nothing', async () => {
    await save(RESCUE);
    await start();
    await abandon('u-2', 'c-2', 20);
    const run = await only();
    expect(run).toMatchObject({ status: 'skipped', outcome: 'conditions_false', actions: 0 });
    expect(await actions()).toEqual([]);
  });

  it('resumes after the wait on its timer and takes the if branch over fresh state', async () => {
    await save(RESCUE);
    await start();
    await abandon('u-1', 'c-1', 80);
    clock.advance(2 * 3_600_000 - 1);
    expect((await ticker.tick()).completed).toBe(0);
    clock.advance(1);
    await ticker.tick();
    const run = await only();
    expect(run).toMatchObject({ status: 'completed', outcome: 'acted', actions: 2, stepPath: 'steps.2.then.0' });
    const acts = await actions();
    expect(acts.map((a) => [a.stepPath, a.type, a.params])).toEqual([
      ['steps.0', 'survey.show', { survey: 'what-stopped-you', placement: 'exit_intent', cart: 'c-1' }],
      ['steps.2.then.0', 'checkout.offer', { cart: 'c-1', shipping: 'express', expires_in: '24h' }],
    ]);
    expect(acts[1]?.key).toBe(actionKey(run.id, 'steps.2.then.0'));
    // The timer fires again (a crash before complete): nothing more happens.
    await auto.fire({
      key: wakeTimerKey('wait', run.id, 'steps.1'),
      dueAt: 0,
      payload: { runId: run.id, stepPath: 'steps.1' },
      attempts: 2,
      token: 'x',
    });
    expect(await actions()).toHaveLength(2);
  });

  it('cancels a waiting run on its cancelOn event and drops its timer', async () => {
    await save(RESCUE);
    await start();
    await abandon('u-1', 'c-1', 80);
    await abandon('u-9', 'c-9', 90);
    await append(
      event(
        'commerce.order_completed',
        { event: 'Order Completed', properties: { order_id: 'o-1', cart_id: 'c-1', total: 80 } },
        { userid: 'u-1' },
      ),
    );
    const all = await runs();
    const mine = all.find((r) => r.customerId === 'u-1') as Run;
    const other = all.find((r) => r.customerId === 'u-9') as Run;
    expect(mine).toMatchObject({ status: 'cancelled', outcome: 'cancelled' });
    expect(other.status).toBe('waiting');
    expect(await timers.get(wakeTimerKey('wait', mine.id, 'steps.1'))).toBeUndefined();
    const cancel = (await runTrace(store.db, mine.id)).at(-1);
    expect(cancel).toMatchObject({ kind: 'cancel', detail: { match: 'event.userid == run.customer' } });
    clock.advance(3 * 3_600_000);
    await ticker.tick();
    expect((await actions()).filter((a) => a.runId === mine.id).map((a) => a.type)).toEqual(['survey.show']);
  });

  it('records a condition that fails at run time as a non-match with its reason', async () => {
    await save({ ...RESCUE, conditions: ['shipment.delayed'] });
    await start();
    await abandon('u-1', 'c-1', 80);
    const run = await only();
    expect(run).toMatchObject({ status: 'skipped', outcome: 'condition_error' });
    const c = (await runTrace(store.db, run.id)).find((t) => t.kind === 'condition');
    expect(c?.detail).toMatchObject({ expression: 'shipment.delayed', value: false, missing: ['shipment'] });
    expect(String(c?.detail.error)).not.toBe('');
    expect((await explainRuns(store.db, 'rescue', 'u-1')).answer).toMatch(/could not be evaluated .* counts as not met/);
  });

  it('keeps a holdout customer out: the run would have acted and does nothing', async () => {
    const id = 'rescue';
    const inHoldout = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((x) => `u-${x}`).find((u) => holdoutBucket(id, u) < 5000) as string;
    await save({ ...RESCUE, holdoutPercent: 50 });
    await start();
    await abandon(inHoldout, 'c-h', 80);
    const run = await only();
    expect(run).toMatchObject({ status: 'holdout', actions: 0 });
    expect(await actions()).toEqual([]);
    const h = (await runTrace(store.db, run.id)).find((t) => t.kind === 'holdout');
    expect(h?.detail).toMatchObject({ assignment: 'holdout', percent: 50, would_have_acted: true });
    expect(h?.detail.actions).toEqual([
      { step: 'steps.0', action: 'survey.show' },
      { step: 'steps.2.then.0', action: 'checkout.offer' },
    ]);
  });

  it('skips an action the policy refuses (suppression) and goes on with the run', async () => {
    await save(RESCUE);
    await start();
    await addSuppression(store.db, { kind: 'customer', value: 'u-1', reason: 'asked us to stop' }, clock.now());
    await abandon('u-1', 'c-1', 80);
    const run = await only();
    expect(run).toMatchObject({ status: 'waiting', actions: 0 });
    const p = (await runTrace(store.db, run.id)).find((t) => t.kind === 'policy');
    expect(p?.detail).toMatchObject({ action: 'survey.show', verdict: 'skip' });
    expect(await actions()).toEqual([]);
  });

  it('defers an action in quiet hours when the workflow says defer, and sends it when they end', async () => {
    clock.set(Date.parse('2026-01-05T22:00:00Z'));
    await save({
      ...RESCUE,
      onPolicyBlock: 'defer',
      steps: [{ kind: 'action', action: 'survey.show', with: { survey: 'what-stopped-you' } }],
    });
    await start({ ...OPEN_POLICY, quietHours: { startMinute: 21 * 60, endMinute: 8 * 60, channels: ['survey'] } });
    await abandon('u-1', 'c-1', 80);
    let run = await only();
    expect(run).toMatchObject({ status: 'waiting', wakeKind: 'defer', wakeAt: Date.parse('2026-01-06T08:00:00Z'), stepPath: 'steps.0' });
    expect(await actions()).toEqual([]);
    clock.set(Date.parse('2026-01-06T08:00:00Z'));
    await ticker.tick();
    run = await only();
    expect(run).toMatchObject({ status: 'completed', actions: 1 });
    expect((await actions()).map((a) => a.key)).toEqual([actionKey(run.id, 'steps.0')]);
  });

  it('skips an action in quiet hours when the workflow says skip, with the reason', async () => {
    clock.set(Date.parse('2026-01-05T22:00:00Z'));
    await save({ ...RESCUE, steps: [{ kind: 'action', action: 'survey.show', with: { survey: 'what-stopped-you' } }] });
    await start({ ...OPEN_POLICY, quietHours: { startMinute: 21 * 60, endMinute: 8 * 60, channels: ['survey'] } });
    await abandon('u-1', 'c-1', 80);
    const run = await only();
    expect(run).toMatchObject({ status: 'completed', outcome: 'no_action', actions: 0 });
    const p = (await runTrace(store.db, run.id)).find((t) => t.kind === 'policy');
    expect(p?.detail).toMatchObject({ verdict: 'skip', action: 'survey.show' });
    expect(String(p?.detail.reason)).toMatch(/skips instead of deferring/);
    expect((await explainRuns(store.db, 'rescue', 'u-1')).answer).toMatch(
      /finished without acting; the contact policy skipped survey.show/,
    );
  });

  it('starts no run when the trigger filter is false, and records a filter that fails as a skipped run', async () => {
    await save({ ...RESCUE, trigger: { kind: 'event', event: 'cart.abandoned', filter: 'event.data.value > 100.0' } });
    await start();
    await abandon('u-1', 'c-1', 80);
    expect(await runs()).toEqual([]);
    await save({ ...RESCUE, trigger: { kind: 'event', event: 'cart.abandoned', filter: 'cart.checkout_step > 1' } });
    await abandon('u-2', 'c-2', 80);
    const run = await only();
    expect(run).toMatchObject({ status: 'skipped', outcome: 'filter_error', customerId: 'u-2' });
    expect((await explainRuns(store.db, 'rescue', 'u-2')).answer).toMatch(/^the trigger filter `cart.checkout_step > 1` failed/);
  });

  it('starts no run for a history-mode event', async () => {
    await save(RESCUE);
    await start();
    await append(
      event(
        'commerce.product_added',
        { event: 'Product Added', properties: { cart_id: 'c-1', sku: 'BRK-1', price: 80, quantity: 1 } },
        { userid: 'u-1' },
      ),
    );
    await append(event('cart.abandoned', { cart_id: 'c-1', value: 80 }, { pitwallhistory: true }));
    expect(await runs()).toEqual([]);
  });

  it('starts the runs of a batch together, and a run that throws rolls back alone and is recorded as failed', async () => {
    await save({
      ...RESCUE,
      id: 'flaky',
      trigger: { kind: 'event', event: 'commerce.product_viewed' },
      conditions: [],
      cancelOn: [],
      holdoutPercent: 0,
      steps: [{ kind: 'action', action: 'flaky.send', with: { id: '{{ event.id }}' } }],
    });
    const viewed = [1, 2, 3].map((u) => event('commerce.product_viewed', { sku: 'BRK-1' }, { userid: `u-${u}` }));
    const bad = viewed[1]?.id;
    const flaky = {
      channel: 'onsite' as const,
      reachesCustomer: true,
      // Thrown after the run recorded its contact (a write), in the middle of the batch.
      dispatchAt: (p: Record<string, unknown>) => {
        if (p.id === bad) throw new Error('no due time for this one');
        return undefined;
      },
    };
    const runner = createRunner({
      log,
      store,
      timers,
      clock,
      eventTypes: registry,
      outbox,
      policy: contactPolicy(OPEN_POLICY),
      actions: new Map([['flaky.send', flaky]]),
    });
    await log.append(viewed.map((e) => ({ event: e, receivedAt: clock.now() })));
    await runner.handle(await log.read(0, 100));
    const byEvent = (await runs()).map((r) => [r.triggerEventIds[0], r.status, r.actions]).sort();
    expect(byEvent).toEqual([
      [viewed[0]?.id, 'completed', 1],
      [bad, 'failed', 0],
      [viewed[2]?.id, 'completed', 1],
    ]);
    expect((await actions()).map((a) => a.params.id).sort()).toEqual([viewed[0]?.id, viewed[2]?.id]);
    const failed = (await runs()).find((r) => r.status === 'failed') as Run;
    expect((await runTrace(store.db, failed.id)).map((t) => [t.kind, t.detail.error])).toEqual([
      ['trigger', undefined],
      ['policy', undefined],
      ['error', 'no due time for this one'],
    ]);
    // Its contact was rolled back with its savepoint; the others' were kept.
    const contacts = await store.db.selectFrom('contact_log').select('customer_id').orderBy('customer_id').execute();
    expect(contacts.map((c) => c.customer_id)).toEqual(['u-1', 'u-3']);
    // Handled again (a crash before the ack): the same three runs, nothing new.
    await runner.handle(await log.read(0, 100));
    expect(await runs()).toHaveLength(3);
    expect(await actions()).toHaveLength(2);
  });

  it('fails a run whose template cannot be rendered, with the pointer and the error', async () => {
    await save({
      ...RESCUE,
      steps: [{ kind: 'action', action: 'checkout.offer', with: { cart: '{{ shipment.shipment_id }}', shipping: 'express' } }],
    });
    await start();
    await abandon('u-1', 'c-1', 80);
    const run = await only();
    expect(run).toMatchObject({ status: 'failed', outcome: 'action_failed' });
    const e = (await runTrace(store.db, run.id)).at(-1);
    expect(e).toMatchObject({ kind: 'error', detail: { code: 'PW_RUN_TEMPLATE', pointer: '/cart' } });
    expect(await getRun(store.db, run.id)).toMatchObject({ status: 'failed' });
  });
});
