/**
 * The Act actions that need the runner, end to end on both backends with real parts (log, state
 * projections, catalogue, outbox, dispatcher, runner, contact policy; FakeClock):
 * - `reminder.schedule`: a workflow schedules it, the outbox holds it until it is due (across a
 *   restart), the dispatcher appends `reminder.due` once, a second workflow delivers it;
 * - `recommend`: fitting replacement / upsell / cross-sell SKUs for the customer's vehicle,
 *   left as a `recommendation` directive for the decision API.
 */
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  activeDirectives,
  builtInExecutors,
  Dispatcher,
  executorRegistry,
  type Outbox,
  openOutbox,
  openSecretStore,
  parseActSettings,
  seededRandom,
} from '../src/act/index.ts';
import {
  ConditionEnvironment,
  contactPolicy,
  contactsOf,
  createRunner,
  DEFAULT_POLICY_SETTINGS,
  listRuns,
  parsePolicySettings,
  policyPurposes,
  type Runner,
  runTrace,
  saveWorkflow,
  validateWorkflow,
  type WorkflowDefinition,
} from '../src/automate/index.ts';
import { importRecords, jsonSource } from '../src/catalog/index.ts';
import { type Clock, FakeClock, isoTime } from '../src/core/index.ts';
import { openTimerStore } from '../src/detect/index.ts';
import { type CloudEvent, SchemaRegistry } from '../src/events/index.ts';
import { type EventLog, openEventLog } from '../src/log/index.ts';
import { applyProjections, createDecide } from '../src/state/index.ts';
import type { Store } from '../src/store/index.ts';
import { type Backend, describeEachBackend } from './support/backends.ts';

const DAY = 86_400_000;
const OPEN_POLICY = { ...DEFAULT_POLICY_SETTINGS, quietHours: undefined, consentDefaults: { marketing: true, service: true } };
const executors = executorRegistry(builtInExecutors(parseActSettings({}).settings));

const SCHEDULE_YAML = `
schemaVersion: 1
id: battery-reminder
name: Battery service reminder
trigger:
  event: part.service_due
steps:
  - action: reminder.schedule
    with:
      in: 365d
      kind: battery_service
      message: "Time to check the battery of {{ event.data.vin }}"
      data: { part: "{{ event.data.part }}" }
`;

const DELIVER_YAML = `
schemaVersion: 1
id: battery-reminder-deliver
name: Deliver battery reminders
trigger:
  event: reminder.due
  filter: "event.data.kind == 'battery_service'"
steps:
  - action: survey.show
    with: { survey: battery-check }
`;

describeEachBackend('reminder.schedule and recommend', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let log: EventLog;
  let outbox: Outbox;
  let registry: SchemaRegistry;
  let runner: Runner;
  let woken = 0;
  let fold: (batch: Parameters<Runner['handle']>[0]) => Promise<void>;

  async function open(s: Store, c: Clock) {
    store = s;
    log = openEventLog(store, c);
    outbox = openOutbox(store, c);
    registry = await new SchemaRegistry().load(store.db);
    runner = createRunner({
      log,
      store,
      timers: openTimerStore(store, c),
      clock: c,
      eventTypes: registry,
      outbox,
      actions: executors,
      policy: contactPolicy(OPEN_POLICY),
      onEnqueued: () => woken++,
    });
    const decide = createDecide({ log, store, timers: openTimerStore(store, c), clock: c }, {});
    fold = (batch) => applyProjections(store, decide.projections, batch);
  }
  const dispatcher = () =>
    new Dispatcher(
      outbox,
      executors,
      { clock, log, db: store.db, secrets: openSecretStore(store, clock), logger: pino({ level: 'silent' }) },
      { random: seededRandom(3) },
    );
  const define = async (yaml: string) => {
    const r = validateWorkflow(yaml, { environment: new ConditionEnvironment(registry), executors });
    expect(r.problems).toEqual([]);
    await saveWorkflow(store.db, r.definition as WorkflowDefinition, { source: 'api', nowMs: clock.now() });
  };
  /** Appends and hands the new events to the runner (batches of one, as the subscription would). */
  const feed = async (...events: CloudEvent[]) => {
    const head = await log.head();
    await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
    for (const le of await log.read(head, 100)) {
      await fold([le]);
      await runner.handle([le]);
    }
  };

  beforeEach(async () => {
    backend = make();
    clock = new FakeClock(Date.parse('2026-03-01T09:00:00Z'));
    await open(await backend.open(), clock);
  });
  afterEach(async () => {
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  it('holds the reminder in the outbox until due, across a restart, then appends reminder.due once for a workflow to deliver', async () => {
    await define(SCHEDULE_YAML);
    await define(DELIVER_YAML);
    const scheduledAt = clock.now();
    await feed({
      specversion: '1.0',
      id: 'sd-1',
      source: 'pitwall:detect',
      type: 'part.service_due',
      time: isoTime(scheduledAt),
      userid: 'cust-anna',
      data: { part: 'BAT-AGM-70AH', vin: 'WVWZZZAUZHW123456', reason: 'cranking voltage low' },
    });
    // The runner tells the dispatcher after the commit (main.ts wakes it).
    expect(woken).toBe(1);
    const [action] = (await outbox.list({ limit: 10 })).actions;
    expect(action).toMatchObject({ type: 'reminder.schedule', status: 'pending', readyAtMs: scheduledAt + 365 * DAY });
    expect(action?.params).toMatchObject({ kind: 'battery_service', message: 'Time to check the battery of WVWZZZAUZHW123456' });
    expect(await dispatcher().tick()).toMatchObject({ claimed: 0 });

    // A restart: the reminder lives in the database, not in memory.
    await log.close();
    await store.close();
    await open(await backend.reopen(), clock);
    clock.advance(365 * DAY - 60_000);
    expect(await dispatcher().tick()).toMatchObject({ claimed: 0 });
    clock.advance(60_000);
    expect(await dispatcher().tick()).toMatchObject({ completed: 1 });
    clock.advance(DAY);
    expect(await dispatcher().tick()).toMatchObject({ claimed: 0 });

    const due = await log.query({ type: 'reminder.due', order: 'asc', limit: 10 });
    expect(due).toHaveLength(1);
    expect(due[0]?.event).toMatchObject({
      id: action?.key,
      source: 'pitwall:workflow/battery-reminder',
      userid: 'cust-anna',
      time: isoTime(scheduledAt + 365 * DAY),
      data: {
        kind: 'battery_service',
        due_at: isoTime(scheduledAt + 365 * DAY),
        scheduled_at: isoTime(scheduledAt),
        run_id: action?.runId,
        workflow_id: 'battery-reminder',
        data: { part: 'BAT-AGM-70AH' },
      },
    });
    expect(registry.validate(structuredClone(due[0]?.event) as CloudEvent)?.code).toBe('PW_EVENT_RESERVED');

    // The delivering workflow acts on it, with the policy asked now.
    for (const le of due) await runner.handle([le]);
    const deliver = (await listRuns(store.db, { limit: 10 })).find((r) => r.workflowId === 'battery-reminder-deliver');
    expect(deliver).toMatchObject({ status: 'completed', outcome: 'acted', customerId: 'cust-anna' });
  });

  it('never fires early when enqueued without its due time, and fires once when executed twice', async () => {
    const exec = executors.get('reminder.schedule');
    const req = {
      key: 'k-reminder-1',
      runId: 'run-1',
      workflowId: 'warranty',
      workflowVersion: 1,
      stepPath: 'steps.0',
      type: 'reminder.schedule',
      params: { at: '2026-03-02T09:00:00Z', kind: 'warranty_expiry' },
      customerId: 'cust-bob',
      createdAtMs: clock.now(),
    };
    await outbox.enqueue(store.db, [req]);
    expect(await dispatcher().tick()).toMatchObject({ retried: 1 });
    expect((await outbox.get(req.key))?.readyAtMs).toBe(Date.parse('2026-03-02T09:00:00Z'));
    clock.advance(DAY);
    expect(await dispatcher().tick()).toMatchObject({ completed: 1 });
    const ctx = { clock, log, db: store.db, secrets: openSecretStore(store, clock) };
    expect((await exec?.execute({ ...req, attempts: 3, token: 't' }, ctx))?.detail).toMatchObject({ duplicate: true });
    expect(await log.query({ type: 'reminder.due', order: 'asc', limit: 10 })).toHaveLength(1);
  });

  const identify = (user: string, traits: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0',
    id: `id-${user}`,
    source: 'shop',
    type: 'customer.identified',
    time: isoTime(clock.now()),
    userid: user,
    data: { traits },
  });
  const serviceDue = (user: string, part: string): CloudEvent => ({
    specversion: '1.0',
    id: `sd-${user}-${part}`,
    source: 'pitwall:detect',
    type: 'part.service_due',
    time: isoTime(clock.now()),
    userid: user,
    data: { part, reason: 'worn' },
  });
  const golf = [{ make: 'VW', model: 'Golf', year_from: 2013, year_to: 2020 }];
  const catalogue = async () => {
    const r = await importRecords(
      store.db,
      clock,
      'products',
      jsonSource('products', {
        products: [
          { sku: 'PAD-STD', name: 'Brake pads, standard', category: 'Brake pads', price: 40, fitment: golf },
          { sku: 'PAD-CER', name: 'Brake pads, ceramic', category: 'Brake pads', price: 65, fitment: golf },
          { sku: 'PAD-RACE', name: 'Brake pads, race', category: 'Brake pads', price: 120, fitment: golf },
          {
            sku: 'PAD-F150',
            name: 'Brake pads, F-150',
            category: 'Brake pads',
            price: 55,
            fitment: [{ make: 'Ford', model: 'F-150', year_from: 2015 }],
          },
          { sku: 'ROT-GOLF', name: 'Brake rotors', category: 'Brake rotors', price: 90, fitment: golf },
          {
            sku: 'ROT-OLD',
            name: 'Brake rotors, old Golf',
            category: 'Brake rotors',
            price: 70,
            fitment: [{ make: 'VW', model: 'Golf', year_from: 1998, year_to: 2004 }],
          },
          { sku: 'FLUID', name: 'Brake fluid', category: 'Fluids', price: 12, fitment: golf },
        ],
      }),
    );
    expect(r).toMatchObject({ rejected: 0 });
  };
  const RECOMMEND_YAML = (kind: string, extra: string) => `
schemaVersion: 1
id: pads-${kind}
name: Pads ${kind}
trigger:
  event: part.service_due
steps:
  - action: recommend
    with: { kind: ${kind}, sku: "{{ event.data.part }}", limit: 2${extra} }
`;
  const skus = (d: { payload: Record<string, unknown> } | undefined) =>
    ((d?.payload.products ?? []) as { sku: string }[]).map((p) => p.sku);
  const recommendations = (customerId: string, skus?: string[]) =>
    activeDirectives(store.db, { customerId, ...(skus ? { skus } : {}), types: ['recommendation'] }, clock.now());

  it('recommends replacement, upsell and cross-sell SKUs that fit the vehicle in the customer traits', async () => {
    await catalogue();
    await define(RECOMMEND_YAML('replacement', ''));
    await define(RECOMMEND_YAML('upsell', ''));
    await define(RECOMMEND_YAML('crosssell', ', category: Brake rotors, placement: product_page'));
    await feed(identify('cust-anna', { vehicle: { make: 'Volkswagen', model: 'Golf', year: '2017' } }));
    await feed(identify('cust-ben', { vehicle_make: 'vw', vehicle_model: 'golf', vehicle_year: 2017 }));
    await feed(serviceDue('cust-anna', 'PAD-CER'));
    expect(await dispatcher().tick()).toMatchObject({ completed: 3, dead: 0 });
    const byKind = new Map((await recommendations('cust-anna', ['PAD-CER'])).map((d) => [d.payload.kind, d]));
    // Like for like first, then the closest price; the F-150 pads do not fit.
    expect(skus(byKind.get('replacement'))).toEqual(['PAD-CER', 'PAD-STD']);
    expect(skus(byKind.get('upsell'))).toEqual(['PAD-RACE']);
    // Only rotors of this Golf's years, and only on the pads' product page.
    expect(byKind.get('crosssell')).toMatchObject({
      customerId: 'cust-anna',
      sku: 'PAD-CER',
      payload: { kind: 'crosssell', for_sku: 'PAD-CER', vehicle: { make: 'Volkswagen', model: 'Golf', year: 2017 } },
    });
    expect(skus(byKind.get('crosssell'))).toEqual(['ROT-GOLF']);
    expect((await recommendations('cust-anna')).map((d) => d.payload.kind).sort()).toEqual(['replacement', 'upsell']);
    expect(byKind.get('replacement')?.expiresAtMs).toBe(clock.now() + 30 * DAY);
    // Flat traits work too.
    await feed(serviceDue('cust-ben', 'PAD-STD'));
    await dispatcher().tick();
    const ben = (await recommendations('cust-ben')).find((d) => d.payload.kind === 'upsell');
    expect(skus(ben)).toEqual(['PAD-CER', 'PAD-RACE']);
  });

  it('writes nothing and says why when the vehicle is unknown or nothing fits', async () => {
    await catalogue();
    await define(RECOMMEND_YAML('replacement', ''));
    await feed(identify('cust-carl', { vehicle: { make: 'Ford', model: 'Mustang', year: 1967 } }));
    await feed(serviceDue('cust-carl', 'PAD-STD'));
    await feed(serviceDue('cust-dora', 'PAD-STD'));
    expect(await dispatcher().tick()).toMatchObject({ completed: 2 });
    const results = (await outbox.list({ limit: 10 })).actions.map((a) => [a.customerId, a.result?.detail?.reason]).sort();
    expect(results).toEqual([
      ['cust-carl', 'nothing_fits'],
      ['cust-dora', 'no_vehicle'],
    ]);
    expect(await recommendations('cust-carl')).toEqual([]);
  });

  it('checks each action step with its purpose: service passes on the default consent, marketing needs consent', async () => {
    const yaml = `
schemaVersion: 1
id: pads-purpose
name: Purpose per step
trigger:
  event: part.service_due
steps:
  - action: survey.show
    with: { survey: promo }
  - action: survey.show
    purpose: Service
    with: { survey: pad-check }
`;
    await define(yaml);
    runner = createRunner({
      log,
      store,
      timers: openTimerStore(store, clock),
      clock,
      eventTypes: registry,
      outbox,
      actions: executors,
      policy: contactPolicy({ ...DEFAULT_POLICY_SETTINGS, quietHours: undefined, caps: {} }),
    });
    await feed(serviceDue('cust-eve', 'PAD-STD'));
    const [run] = await listRuns(store.db, { limit: 10 });
    const policy = (await runTrace(store.db, run?.id as string)).filter((t) => t.kind === 'policy').map((t) => t.detail);
    expect(policy).toEqual([
      expect.objectContaining({ purpose: 'marketing', verdict: 'skip', code: 'PW_POLICY_CONSENT_MISSING' }),
      expect.objectContaining({ purpose: 'service', verdict: 'allow' }),
    ]);
    expect((await outbox.list({ limit: 10 })).actions.map((a) => a.params.survey)).toEqual(['pad-check']);
    expect((await contactsOf(store.db, ['cust-eve'], 0, clock.now() + 1)).map((c) => c.purpose)).toEqual(['service']);
  });
});

it.each([
  [{ in: '30d', kind: 'service' }, []],
  [{ at: '2027-01-01T08:00:00+01:00', kind: 'warranty_expiry', message: 'x', data: { sku: 'A' } }, []],
  [{ at: '{{ vehicle.warranty_until }}', kind: 'warranty_expiry' }, []],
  [{ kind: 'service' }, ['']],
  [{ in: '30d', at: '2027-01-01T00:00:00Z', kind: 'service' }, ['']],
  [{ in: '10s', kind: 'service' }, ['/in']],
  [{ at: 'next tuesday', kind: 'service' }, ['/at']],
  [{ at: '2027-01-01', kind: 'service' }, ['/at']],
  [{ in: '1d' }, ['/kind']],
])('reminder.schedule validates %j', (params, pointers) => {
  expect(
    executors
      .get('reminder.schedule')
      ?.validateParams(params)
      .map((p) => p.pointer),
  ).toEqual(pointers);
});

it.each([
  [{ kind: 'replacement', sku: '{{ event.data.part }}' }, []],
  [{ kind: 'replacement', category: 'Batteries', vehicle: { make: 'VW', model: 'Golf', year: 2017 }, limit: 5 }, []],
  [{ kind: 'upsell', sku: 'A', vehicle: '{{ customer.traits.vehicle }}', expires_in: '7d' }, []],
  [{ kind: 'replacement' }, ['']],
  [{ kind: 'upsell', category: 'x' }, ['']],
  [{ kind: 'crosssell', sku: 'A' }, ['']],
  [{ kind: 'crosssell', category: 'x', placement: 'product_page' }, ['/placement']],
  [{ kind: 'sidegrade', sku: 'A', limit: 50, vehicle: { make: 'VW' } }, ['/kind', '/vehicle', '/limit']],
])('recommend validates %j', (params, pointers) => {
  expect(
    executors
      .get('recommend')
      ?.validateParams(params)
      .map((p) => p.pointer)
      .sort(),
  ).toEqual([...pointers].sort());
});

it('reports an unknown step purpose at its line and column; the policy settings add purposes', () => {
  const environment = new ConditionEnvironment(new SchemaRegistry());
  const yaml = `schemaVersion: 1
id: p
name: P
trigger: { event: part.service_due }
steps:
  - if: "true"
    then:
      - action: emit
        purpose: newsletter
        with: { type: workflow.x }
`;
  expect(validateWorkflow(yaml, { environment, executors }).problems).toEqual([
    expect.objectContaining({ line: 9, column: 18, pointer: '/steps/0/then/0/purpose', code: 'PW_WORKFLOW_PURPOSE' }),
  ]);
  expect(validateWorkflow(yaml, { environment, executors }).problems[0]?.message).toContain('known: marketing, service, transactional');
  const purposes = policyPurposes(parsePolicySettings({ consent_defaults: { newsletter: false } }));
  expect(validateWorkflow(yaml, { environment, executors, purposes }).problems).toEqual([]);
  expect(validateWorkflow(yaml.replace('newsletter', '42'), { environment, executors, purposes }).problems[0]).toMatchObject({
    pointer: '/steps/0/then/0/purpose',
    code: 'PW_WORKFLOW_SCHEMA',
  });
});
