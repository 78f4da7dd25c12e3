/**
 * Property: for random interleavings of A / B events on a few keys and clock jumps, the
 * correlation and absence runs the runner starts are exactly those of a simple reference model
 * (docs/act/runner.md#absence-and-correlation), on both backends.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { emitExecutor, executorRegistry, openOutbox } from '../../act/index.ts';
import { FakeClock, isoTime } from '../../core/index.ts';
import { openTimerStore, TimerRunner, type TimerStore } from '../../detect/index.ts';
import { type CloudEvent, SchemaRegistry } from '../../events/index.ts';
import { type EventLog, type LoggedEvent, openEventLog } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { saveWorkflow } from '../definitions/store.ts';
import { contactPolicy } from './adapters.ts';
import { createRunner, type Runner } from './runner.ts';
import { listRuns } from './runs.ts';
import type { WorkflowDefinition } from './types.ts';

const MINUTE = 60_000;
const WITHIN = 10 * MINUTE;
const LOOKBACK = 5 * MINUTE;
const A = 'shipment.delayed';
const B = 'shipment.condition_breach';

type Op = { kind: 'A' | 'B'; key: number } | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('A' as const, 'B' as const), key: fc.integer({ min: 0, max: 1 }) }),
  fc.record({
    kind: fc.constant('advance' as const),
    ms: fc.constantFrom(0, 1, MINUTE, 4 * MINUTE, LOOKBACK, LOOKBACK + 1, 9 * MINUTE, WITHIN, WITHIN + 1, 15 * MINUTE),
  }),
);

/** What the runner should start: correlation pairs `a|b` and absence `a` ids. */
function reference(ops: readonly Op[]): { pairs: Set<string>; absences: Set<string> } {
  let now = 0;
  let n = 0;
  const seen: { id: string; kind: 'A' | 'B'; key: number; t: number }[] = [];
  const pending = new Map<string, { key: number; t: number }>(); // absence halves not yet fired or cancelled
  const pairs = new Set<string>();
  const absences = new Set<string>();
  const fireDue = () => {
    for (const [id, a] of pending)
      if (a.t + WITHIN <= now) {
        absences.add(id);
        pending.delete(id);
      }
  };
  for (const o of ops) {
    if (o.kind === 'advance') {
      now += o.ms;
      fireDue();
      continue;
    }
    const id = `p-${++n}`;
    for (const s of seen) {
      if (s.key !== o.key || s.kind === o.kind) continue;
      // The earlier A pairs with a B up to WITHIN later; the earlier B with an A up to LOOKBACK later.
      if (s.kind === 'A' && now - s.t <= WITHIN) pairs.add(`${s.id}|${id}`);
      if (s.kind === 'B' && now - s.t <= LOOKBACK) pairs.add(`${id}|${s.id}`);
    }
    if (o.kind === 'B') for (const [aid, a] of pending) if (a.key === o.key && a.t + WITHIN >= now) pending.delete(aid);
    if (o.kind === 'A') pending.set(id, { key: o.key, t: now });
    seen.push({ id, kind: o.kind, key: o.key, t: now });
  }
  now += 24 * 60 * MINUTE;
  fireDue();
  return { pairs, absences };
}

describeEachBackend('correlation and absence against a reference model', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let log: EventLog;
  let timers: TimerStore;
  let runner: Runner;
  let ticker: TimerRunner;

  beforeAll(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock(Date.parse('2026-01-05T09:00:00Z'));
    log = openEventLog(store, clock);
    timers = openTimerStore(store, clock);
    runner = createRunner({
      log,
      store,
      timers,
      clock,
      eventTypes: await new SchemaRegistry().load(store.db),
      outbox: openOutbox(store, clock),
      actions: executorRegistry([emitExecutor()]),
      policy: contactPolicy(),
    });
    ticker = new TimerRunner(timers, clock, (t) => runner.fire(t));
  });

  afterAll(async () => {
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  const steps: WorkflowDefinition['steps'] = [{ kind: 'action', action: 'emit', with: { type: 'ops.noted', data: {} } }];
  const base = { schemaVersion: 1 as const, holdoutPercent: 0, onPolicyBlock: 'skip' as const, conditions: [], steps, cancelOn: [] };

  it('starts exactly the runs of the model', async () => {
    let round = 0;
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        const r = ++round;
        const corr: WorkflowDefinition = {
          ...base,
          id: `corr-${r}`,
          name: 'c',
          enabled: true,
          trigger: {
            kind: 'correlation',
            events: [
              { event: A, key: 'event.data.shipment_id' },
              { event: B, key: 'event.data.shipment_id' },
            ],
            within: '10m',
            lookback: '5m',
          },
        };
        const abs: WorkflowDefinition = {
          ...base,
          id: `abs-${r}`,
          name: 'a',
          enabled: true,
          trigger: {
            kind: 'absence',
            first: { event: A, key: 'event.data.shipment_id' },
            missing: { event: B, key: 'event.data.shipment_id' },
            within: '10m',
          },
        };
        await saveWorkflow(store.db, corr, { source: 'api', nowMs: clock.now() });
        await saveWorkflow(store.db, abs, { source: 'api', nowMs: clock.now() });
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'advance') {
            clock.advance(o.ms);
            await ticker.tick();
            continue;
          }
          const e: CloudEvent = {
            specversion: '1.0',
            id: `p-${++n}`,
            source: `round-${r}`,
            type: o.kind === 'A' ? A : B,
            time: isoTime(clock.now()),
            data: o.kind === 'A' ? { shipment_id: `s${o.key}` } : { shipment_id: `s${o.key}`, kind: 'shock' },
          };
          const le: LoggedEvent = { seq: ++seq, event: e, receivedAt: clock.now(), history: false };
          await runner.handle([le]);
        }
        clock.advance(24 * 60 * MINUTE);
        await ticker.tick();
        // Retire this round's workflows so later rounds see only their own.
        await saveWorkflow(store.db, { ...corr, enabled: false }, { source: 'api', nowMs: clock.now() });
        await saveWorkflow(store.db, { ...abs, enabled: false }, { source: 'api', nowMs: clock.now() });
        const expected = reference(ops);
        // Run events are oldest first; the model names pairs A|B.
        const pairs = (await listRuns(store.db, { workflowId: corr.id, limit: 1000 })).map((x) =>
          ordered(x.triggerEventIds[0], x.triggerEventIds[1], ops),
        );
        const absences = (await listRuns(store.db, { workflowId: abs.id, limit: 1000 })).map((x) => x.triggerEventIds[0]);
        expect(new Set(pairs)).toEqual(expected.pairs);
        expect(pairs).toHaveLength(expected.pairs.size);
        expect(new Set(absences)).toEqual(expected.absences);
        expect(absences).toHaveLength(expected.absences.size);
      }),
      { numRuns: 60, seed: 4242 },
    );
  }, 240_000);
});

/** `A-id|B-id` for a run's two events, whichever came first. */
function ordered(x: string | undefined, y: string | undefined, ops: readonly Op[]): string {
  const kindOf = (id: string | undefined) => {
    const i = Number(id?.slice(2)) - 1;
    const events = ops.filter((o) => o.kind !== 'advance');
    return events[i]?.kind;
  };
  return kindOf(x) === 'A' ? `${x}|${y}` : `${y}|${x}`;
}
