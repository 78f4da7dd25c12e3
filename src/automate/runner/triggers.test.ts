/**
 * Absence, correlation and schedule triggers and flow control, end to end through the runner on
 * both backends: the log, the state consumer, durable timers on a FakeClock, Part A's outbox and
 * executors, Part B's validation and CEL environment, Part D's policy.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { checkoutOfferExecutor, emitExecutor, executorRegistry, type Outbox, openOutbox, surveyShowExecutor } from '../../act/index.ts';
import { FakeClock, isoTime } from '../../core/index.ts';
import { openTimerStore, TimerRunner, type TimerStore } from '../../detect/index.ts';
import { type CloudEvent, SchemaRegistry } from '../../events/index.ts';
import { type EventLog, openEventLog } from '../../log/index.ts';
import { type StateConsumer, startStateConsumer } from '../../state/index.ts';
import type { Store } from '../../store/index.ts';
import { ConditionEnvironment } from '../conditions/environment.ts';
import { saveWorkflow } from '../definitions/store.ts';
import { validateWorkflow } from '../definitions/validate.ts';
import { DEFAULT_POLICY_SETTINGS } from '../policy/index.ts';
import { contactPolicy } from './adapters.ts';
import { type Automation, startAutomation } from './runner.ts';
import { getRun, listRuns, type Run, runId, runTrace } from './runs.ts';
import { scheduleTimerKey } from './schedules.ts';
import { absenceTimerKey } from './sequences.ts';
import type { WorkflowDefinition } from './types.ts';
import { explainRuns } from './why.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

describeEachBackend('runner triggers and flow control', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let log: EventLog;
  let timers: TimerStore;
  let outbox: Outbox;
  let state: StateConsumer;
  let auto: Automation | undefined;
  let ticker: TimerRunner;
  let environment: ConditionEnvironment;
  let registry: SchemaRegistry;
  const executors = executorRegistry([surveyShowExecutor(), checkoutOfferExecutor(), emitExecutor()]);
  let n = 0;

  async function start() {
    auto = startAutomation({
      log,
      store,
      timers,
      clock,
      eventTypes: registry,
      outbox,
      actions: executors,
      policy: contactPolicy({
        ...DEFAULT_POLICY_SETTINGS,
        quietHours: undefined,
        consentDefaults: { marketing: true, service: true, transactional: true },
      }),
      stateCaughtUp: (seq) => state.caughtUp(seq),
      from: 'start',
      pollMs: 20,
    });
    const a = auto;
    ticker = new TimerRunner(timers, clock, (t) => (t.key.startsWith('automate:') ? a.fire(t) : state.fire(t)));
    await a.sync();
    return a;
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
    environment = new ConditionEnvironment(registry);
  });

  afterEach(async () => {
    await auto?.stop();
    auto = undefined;
    await state.stop();
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  /** Validated by Part B as an author's file would be, then saved as a new version. */
  async function save(yaml: string): Promise<WorkflowDefinition> {
    const checked = validateWorkflow(yaml, { environment, executors });
    expect(checked.problems).toEqual([]);
    const def = checked.definition as WorkflowDefinition;
    await saveWorkflow(store.db, def, { source: 'api', nowMs: clock.now() });
    return def;
  }

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

  async function append(...events: CloudEvent[]): Promise<void> {
    const out = await log.append(events.map((e) => ({ event: e, receivedAt: clock.now() })));
    await auto?.caughtUp(Math.max(...out.map((o) => o.seq)));
  }

  /** Runs by start time, then by their (numbered) last trigger event: the order they were matched in. */
  const runs = async (): Promise<Run[]> => {
    const num = (r: Run) => Number((r.triggerEventIds.at(-1) ?? 'e-0').slice(2));
    return (await listRuns(store.db, { limit: 100 })).sort((a, b) => a.startedAt - b.startedAt || num(a) - num(b));
  };
  const actions = async () => (await outbox.list({ limit: 100 })).actions;
  const pending = async () => (await store.db.selectFrom('trigger_pending').select('event_id').execute()).length;

  // ── absence ──────────────────────────────────────────────────────────────────────────────

  const ABSENCE = `
schemaVersion: 1
id: undelivered
name: Not delivered three days after booking
trigger:
  first: { event: shipment.created, key: "event.data.shipment_id" }
  missing: { event: shipment.delivered, key: "event.data.shipment_id" }
  within: 3d
steps:
  - action: emit
    with: { type: ops.shipment_overdue, data: { shipment: "{{ event.data.shipment_id }}" } }
`;
  const created = (id: string) =>
    event('shipment.created', {
      shipment_id: id,
      carrier: 'dhl',
      origin: 'DE-HAM-1',
      destination: 'DE-BY',
      promised_at: '2026-01-08T18:00:00Z',
    });
  const delivered = (id: string) => event('shipment.delivered', { shipment_id: id });

  it('absence: starts a run when the window ends without the missing event, once', async () => {
    await save(ABSENCE);
    await start();
    const a = created('s-1');
    await append(a);
    expect(await timers.get(absenceTimerKey('undelivered', a))).toMatchObject({ dueAt: clock.now() + 72 * HOUR });
    clock.advance(72 * HOUR - 1);
    await ticker.tick();
    expect(await runs()).toEqual([]);
    clock.advance(1);
    await ticker.tick();
    const [run, ...more] = await runs();
    expect(more).toEqual([]);
    expect(run).toMatchObject({
      id: runId('undelivered', 'absence', ['test', a.id]),
      triggerKind: 'absence',
      status: 'completed',
      actions: 1,
    });
    expect((await actions()).map((x) => x.params)).toEqual([{ type: 'ops.shipment_overdue', data: { shipment: 's-1' } }]);
    expect(await pending()).toBe(0);
    // The batch handled again (a crash before the ack) opens the window again; it finds the run.
    await auto?.handle(await log.read(0, 100));
    clock.advance(72 * HOUR);
    await ticker.tick();
    expect(await runs()).toHaveLength(1);
    expect(await actions()).toHaveLength(1);
  });

  it('absence: the missing event inside the window cancels the pending half and its timer; other keys go on', async () => {
    await save(ABSENCE);
    await start();
    const a = created('s-1');
    const b = created('s-2');
    await append(a, b);
    clock.advance(71 * HOUR);
    await append(delivered('s-1'));
    expect(await timers.get(absenceTimerKey('undelivered', a))).toBeUndefined();
    clock.advance(2 * HOUR);
    await ticker.tick();
    const all = await runs();
    expect(all.map((r) => r.triggerEventIds)).toEqual([[b.id]]);
  });

  it('absence: a restart in the middle of the window still fires once', async () => {
    await save(ABSENCE);
    await start();
    const a = created('s-1');
    await append(a);
    clock.advance(30 * HOUR);
    await auto?.stop();
    auto = undefined;
    clock.advance(10 * HOUR);
    const again = await start(); // a new process: the pending half and its timer are in the store
    clock.advance(40 * HOUR);
    const first = await ticker.tick();
    expect(first.claimed).toBeGreaterThan(0);
    // The same firing delivered twice (a crash before it was completed): still one run.
    await again.fire({
      key: absenceTimerKey('undelivered', a),
      dueAt: 0,
      payload: { workflowId: 'undelivered', source: 'test', id: a.id },
      attempts: 2,
      token: 'x',
    });
    expect(await runs()).toHaveLength(1);
    expect(await actions()).toHaveLength(1);
  });

  // ── correlation ──────────────────────────────────────────────────────────────────────────

  const CORRELATION = `
schemaVersion: 1
id: late-and-damaged
name: Late and damaged
trigger:
  correlate:
    - { event: shipment.delayed, key: "event.data.shipment_id" }
    - { event: shipment.condition_breach, key: "[event.data.shipment_id]", filter: "event.data.kind == 'shock'" }
  within: 1h
  lookback: 2h
conditions:
  - "correlated.second.data.kind == 'shock'"
steps:
  - action: emit
    with:
      type: ops.late_and_damaged
      data: { shipment: "{{ correlated.first.data.shipment_id }}", reason: "{{ correlated.first.data.reason }}", last: "{{ event.type }}" }
`;
  const delayed = (id: string) => event('shipment.delayed', { shipment_id: id, reason: 'stuck_at_hub' });
  const breach = (id: string, kind = 'shock') => event('shipment.condition_breach', { shipment_id: id, kind, value: 9 });

  it('correlation: pairs the events in the YAML order, with `correlated` in conditions and templates', async () => {
    await save(CORRELATION);
    await start();
    const a = delayed('s-1');
    await append(a);
    clock.advance(59 * MINUTE);
    const b = breach('s-1');
    await append(breach('s-2'), breach('s-1', 'temperature'), b);
    const [run, ...more] = await runs();
    expect(more).toEqual([]);
    expect(run).toMatchObject({
      id: runId('late-and-damaged', 'correlation', ['test', a.id, 'test', b.id]),
      triggerKind: 'correlation',
      triggerEventIds: [a.id, b.id],
      status: 'completed',
    });
    expect((await actions()).map((x) => x.params)).toEqual([
      { type: 'ops.late_and_damaged', data: { shipment: 's-1', reason: 'stuck_at_hub', last: 'shipment.condition_breach' } },
    ]);
    const trace = await runTrace(store.db, (run as Run).id);
    expect(trace.find((t) => t.kind === 'condition')?.detail).toEqual({
      expression: "correlated.second.data.kind == 'shock'",
      value: true,
    });
  });

  it('correlation: finds the earlier event when the second entry arrives first (within the lookback)', async () => {
    await save(CORRELATION);
    await start();
    const b = breach('s-1');
    await append(b);
    clock.advance(2 * HOUR);
    const a = delayed('s-1');
    await append(a);
    const [run, ...more] = await runs();
    expect(more).toEqual([]);
    expect(run).toMatchObject({
      id: runId('late-and-damaged', 'correlation', ['test', a.id, 'test', b.id]),
      triggerEventIds: [b.id, a.id],
    });
    expect((await actions()).map((x) => x.params)).toEqual([
      { type: 'ops.late_and_damaged', data: { shipment: 's-1', reason: 'stuck_at_hub', last: 'shipment.delayed' } },
    ]);
    // The same events handled again: the same run, nothing more.
    await auto?.handle(await log.read(0, 100));
    expect(await runs()).toHaveLength(1);
    expect(await actions()).toHaveLength(1);
  });

  it('correlation: no pair outside the window (after `within`) or the lookback (before it)', async () => {
    await save(CORRELATION);
    await start();
    await append(delayed('s-1'));
    clock.advance(HOUR + 1);
    await append(breach('s-1')); // 1 h + 1 ms after the first entry: outside `within`
    clock.advance(2 * HOUR + 1);
    await append(delayed('s-1')); // 2 h + 1 ms after the breach: outside the lookback
    expect(await runs()).toEqual([]);
    // Expired halves are pruned after a batch.
    expect(await pending()).toBe(1);
  });

  it('starter workflow #1 (delivery-concern rescue) runs on a cart abandoned while a shipment of one of its SKUs is late', async () => {
    const yaml = readFileSync(new URL('../../../workflows/examples/delivery-concern-rescue.yaml', import.meta.url), 'utf8');
    await save(yaml.replace('enabled: false', 'enabled: true').replace('holdout: 10%', 'holdout: 0%'));
    await start();
    // A shipment carrying BRK-PAD-F-4471 is booked and then predicted late …
    await append(
      event('shipment.created', {
        shipment_id: 'shp-1',
        carrier: 'dhl',
        origin: 'DE-HAM-1',
        destination: 'DE-BY',
        promised_at: '2026-01-06T18:00:00Z',
        lines: [
          { sku: 'BRK-PAD-F-4471', quantity: 40 },
          { sku: 'BAT-AGM-70AH', quantity: 5 },
        ],
      }),
    );
    const late = event('shipment.delayed', {
      shipment_id: 'shp-1',
      predicted_p90: '2026-01-07T14:00:00Z',
      promised_at: '2026-01-06T18:00:00Z',
      reason: 'stuck_at_hub',
    });
    await append(late);
    clock.advance(3 * HOUR);
    // … and, later, a shopper leaves a cart with that SKU: the earlier delay is found.
    await append(
      event(
        'commerce.product_added',
        { event: 'Product Added', properties: { cart_id: 'cart-1', sku: 'BRK-PAD-F-4471', price: 89.9, quantity: 1 } },
        { userid: 'u-1' },
      ),
    );
    await append(
      event(
        'commerce.product_added',
        { event: 'Product Added', properties: { cart_id: 'cart-2', sku: 'WIPER-600', price: 19.9, quantity: 4 } },
        { userid: 'u-2' },
      ),
    );
    clock.advance(30 * MINUTE);
    await ticker.tick(); // the carts detector derives cart.abandoned for both carts
    await auto?.caughtUp(await log.head());
    const all = await runs();
    expect(all).toHaveLength(1);
    const run = all[0] as Run;
    expect(run).toMatchObject({ workflowId: 'delivery-concern-rescue', triggerKind: 'correlation', customerId: 'u-1', status: 'waiting' });
    expect(run.triggerEventIds[0]).toBe(late.id);
    const acts = await actions();
    expect(acts.map((a) => [a.type, a.params])).toEqual([
      ['survey.show', { survey: 'what-stopped-you', placement: 'exit_intent', cart: 'cart-1', expires_in: '24h' }],
    ]);
  });

  // ── schedule ─────────────────────────────────────────────────────────────────────────────

  const SCHEDULE = `
schemaVersion: 1
id: morning
name: Every morning in Berlin
trigger:
  schedule: "0 7 * * *"
  timezone: Europe/Berlin
steps:
  - action: emit
    with: { type: ops.morning, data: { at: "{{ now }}" } }
`;

  it('schedule: fires at the cron time in its zone, moves to the next slot, fires missed slots once', async () => {
    await save(SCHEDULE);
    await start();
    const key = scheduleTimerKey('morning');
    const first = Date.parse('2026-01-06T06:00:00Z'); // 07:00 in Berlin (CET)
    expect((await timers.get(key))?.dueAt).toBe(first);
    clock.set(first);
    await ticker.tick();
    let all = await runs();
    expect(all.map((r) => [r.id, r.triggerKind, r.status])).toEqual([
      [runId('morning', 'schedule', [isoTime(first)]), 'schedule', 'completed'],
    ]);
    expect((await timers.get(key))?.dueAt).toBe(first + 24 * HOUR);
    // Down for three days: one run for the missed slots (keyed by the first), then the next slot after now.
    clock.set(first + 3 * 24 * HOUR + 5 * HOUR);
    await ticker.tick();
    all = await runs();
    expect(all.map((r) => r.id)).toEqual([
      runId('morning', 'schedule', [isoTime(first)]),
      runId('morning', 'schedule', [isoTime(first + 24 * HOUR)]),
    ]);
    expect((await timers.get(key))?.dueAt).toBe(first + 4 * 24 * HOUR);
  });

  it('schedule: an edit reschedules the timer and disabling the workflow cancels it', async () => {
    await save(SCHEDULE);
    await start();
    const key = scheduleTimerKey('morning');
    await save(SCHEDULE.replace('"0 7 * * *"', '"30 18 * * *"'));
    await auto?.sync();
    expect((await timers.get(key))?.dueAt).toBe(Date.parse('2026-01-05T17:30:00Z'));
    await save(SCHEDULE.replace('name:', 'enabled: false\nname:'));
    await append(delayed('s-x')); // any batch brings the timers in line
    expect(await timers.get(key)).toBeUndefined();
    clock.advance(48 * HOUR);
    await ticker.tick();
    expect(await runs()).toEqual([]);
  });

  // ── flow control ─────────────────────────────────────────────────────────────────────────

  const EVENT_WORKFLOW = (
    flow: string,
    steps = '  - action: emit\n    with: { type: ops.noted, data: { shipment: "{{ event.data.shipment_id }}" } }',
  ) => `
schemaVersion: 1
id: flowed
name: Flow-controlled
trigger:
  event: shipment.delayed
steps:
${steps}
flow:
${flow}
`;

  it('idempotency: one run per key within 24 h; a repeat is a skipped run that names the first', async () => {
    await save(EVENT_WORKFLOW('  idempotency: "event.data.shipment_id"'));
    await start();
    await append(delayed('s-1'));
    clock.advance(HOUR);
    await append(delayed('s-1'), delayed('s-2'));
    let all = await runs();
    expect(all.map((r) => [r.status, r.outcome])).toEqual([
      ['completed', 'acted'],
      ['skipped', 'idempotent'],
      ['completed', 'acted'],
    ]);
    const skipped = (await runTrace(store.db, (all[1] as Run).id)).find((t) => t.kind === 'flow');
    expect(skipped?.detail).toMatchObject({ control: 'idempotency', key: 's-1', decision: 'skipped', run: (all[0] as Run).id });
    clock.advance(24 * HOUR);
    await append(delayed('s-1'));
    all = await runs();
    expect(all.at(-1)).toMatchObject({ status: 'completed', outcome: 'acted' });
    expect(await actions()).toHaveLength(3);
  });

  it('throttle: at most `limit` runs per key per period; over the limit is a skipped run with the reason', async () => {
    await save(EVENT_WORKFLOW('  throttle: { key: "event.data.shipment_id", limit: 2, period: 1h }'));
    await start();
    await append(delayed('s-1'), delayed('s-1'), delayed('s-1'), delayed('s-2'));
    clock.advance(HOUR);
    await append(delayed('s-1'));
    const all = await runs();
    expect(all.map((r) => r.outcome)).toEqual(['acted', 'acted', 'throttled', 'acted', 'acted']);
    const t = (await runTrace(store.db, (all[2] as Run).id)).find((x) => x.kind === 'flow');
    expect(t?.detail).toMatchObject({ control: 'throttle', key: 's-1', limit: 2, started: 2, decision: 'skipped' });
    expect(String(t?.detail.reason)).toMatch(/2 run\(s\) already started for key "s-1" in the last 1h/);
    const allowed = (await runTrace(store.db, (all[0] as Run).id)).find((x) => x.kind === 'flow');
    expect(allowed?.detail).toMatchObject({ control: 'throttle', decision: 'allowed', started: 0 });
  });

  it('concurrency: at most `limit` runs in flight per key; the rest queue and start in order as slots free', async () => {
    await save(
      EVENT_WORKFLOW(
        '  concurrency: { key: "event.data.shipment_id", limit: 1 }',
        '  - wait: 1h\n  - action: emit\n    with: { type: ops.noted, data: { shipment: "{{ event.data.shipment_id }}" } }',
      ),
    );
    await start();
    const e3user = event('shipment.delayed', { shipment_id: 's-1' }, { userid: 'u-3' });
    const [e1, e2, e3, other] = [delayed('s-1'), delayed('s-1'), e3user, delayed('s-2')];
    await append(e1 as CloudEvent, e2 as CloudEvent, e3 as CloudEvent, other as CloudEvent);
    let all = await runs();
    expect(all.map((r) => [r.triggerEventIds[0], r.status])).toEqual([
      [e1?.id, 'waiting'],
      [other?.id, 'waiting'],
    ]);
    expect(await store.db.selectFrom('trigger_queue').select('run_id').orderBy('position').execute()).toHaveLength(2);
    // Queued matches have no run yet; "why" says where they wait.
    expect((await explainRuns(store.db, 'flowed', 'u-3')).answer).toBe(
      `a trigger match is queued for a concurrency slot of key "s-1" since ${isoTime(clock.now())} (1 ahead of it)`,
    );
    clock.advance(HOUR);
    await ticker.tick(); // e1's run and the other key's run end; e2 takes the slot
    all = await runs();
    expect(all.map((r) => [r.triggerEventIds[0], r.status])).toEqual([
      [e1?.id, 'completed'],
      [other?.id, 'completed'],
      [e2?.id, 'waiting'],
    ]);
    const q = (await runTrace(store.db, (all[2] as Run).id)).find((t) => t.kind === 'flow');
    expect(q?.detail).toMatchObject({ control: 'concurrency', key: 's-1', decision: 'queued', in_flight: 1 });
    clock.advance(HOUR);
    await ticker.tick();
    clock.advance(HOUR);
    await ticker.tick();
    all = await runs();
    expect(all.map((r) => [r.triggerEventIds[0], r.status])).toEqual([
      [e1?.id, 'completed'],
      [other?.id, 'completed'],
      [e2?.id, 'completed'],
      [e3?.id, 'completed'],
    ]);
    expect(await store.db.selectFrom('trigger_queue').select('run_id').execute()).toEqual([]);
  });

  it('debounce: one run once the key is quiet for the period, with the last trigger; the trace counts the ones it replaced', async () => {
    await save(EVENT_WORKFLOW('  debounce: { key: "event.data.shipment_id", period: 10m }'));
    await start();
    await append(delayed('s-1'));
    clock.advance(5 * MINUTE);
    await append(delayed('s-1'));
    clock.advance(9 * MINUTE);
    const last = delayed('s-1');
    await append(last);
    clock.advance(10 * MINUTE - 1);
    await ticker.tick();
    expect(await runs()).toEqual([]);
    clock.advance(1);
    await ticker.tick();
    const all = await runs();
    expect(all.map((r) => [r.triggerEventIds, r.status])).toEqual([[[last.id], 'completed']]);
    const d = (await runTrace(store.db, (all[0] as Run).id)).find((t) => t.kind === 'flow');
    expect(d?.detail).toMatchObject({ control: 'debounce', key: 's-1', decision: 'allowed', superseded: 2 });
  });

  it('a flow key that cannot be evaluated is a skipped run with the reason, not a silent drop', async () => {
    await save(EVENT_WORKFLOW('  idempotency: "event.data.reason"'));
    await start();
    await append(event('shipment.delayed', { shipment_id: 's-1' }));
    const [run] = await runs();
    expect(run).toMatchObject({ status: 'skipped', outcome: 'flow_key_error' });
    const f = (await runTrace(store.db, (run as Run).id)).find((t) => t.kind === 'flow');
    expect(f?.detail).toMatchObject({
      control: 'idempotency',
      code: 'PW_RUN_FLOW_KEY',
      expression: 'event.data.reason',
      decision: 'skipped',
    });
    expect(await actions()).toEqual([]);
  });

  it('"why" names the flow control that kept a run from starting', async () => {
    await save(`${EVENT_WORKFLOW('  throttle: { key: "event.userid", limit: 1, period: 1d }')}`);
    await start();
    // Shipment events carry no user: these give the runs a customer through the event's userid.
    await append(event('shipment.delayed', { shipment_id: 's-3' }, { userid: 'u-7' }));
    clock.advance(MINUTE);
    await append(event('shipment.delayed', { shipment_id: 's-4' }, { userid: 'u-7' }));
    const why = await explainRuns(store.db, 'flowed', 'u-7');
    expect(why.answer).toMatch(/^flow control throttle kept it from starting: 1 run\(s\) already started for key "u-7"/);
    expect(why.runs[0]?.deciding.map((t) => t.kind)).toEqual(['flow']);
    expect(await getRun(store.db, why.runs[0]?.run.id as string)).toMatchObject({ status: 'skipped', outcome: 'throttled' });
  });
});
