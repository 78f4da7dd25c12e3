import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { deterministicId, FakeClock, isoTime } from '../../core/index.ts';
import { listConditions } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { Store } from '../../store/index.ts';
import { activeSustained, publishedRules, RULES_SOURCE, sustainedTimerKey } from './index.ts';
import { getRuleState } from './rules.ts';
import { DevicesHarness, reading, vehicleSignal } from './testing.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-01-05T09:00:00Z');
const VOLTS = 'Vehicle.LowVoltageBattery.CurrentVoltage';
const SETTINGS = {
  silent_minutes: 0, // these tests are about sensor rules
  sensor_rules: [
    { name: 'cold-room-temp', match: { name: 'temp', unit: 'Cel' }, above: 8, clear_below: 7, for_minutes: 10, severity: 'critical' },
    { name: 'low-voltage', match: { name_regex: 'LowVoltageBattery\\.CurrentVoltage$' }, below: 11.8, clear_above: 12.2, for_minutes: 30 },
  ],
};
const temp = (id: string, device: string | undefined, atMs: number, v: number, ext: Partial<CloudEvent> = {}) =>
  reading(id, device, `urn:dev:${device ?? 'anon'}:temp`, atMs, { v, u: 'Cel' }, ext);
const KEY = { rule: 'cold-room-temp', deviceId: 'cold-1', n: 'urn:dev:cold-1:temp' };
const CONDITION_KEY = 'cold-room-temp|cold-1|urn:dev:cold-1:temp';

describeEachBackend('sensor.sustained / sensor.cleared', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let h: DevicesHarness;

  const open = async (reopen: boolean) => {
    store = reopen ? await backend.reopen() : await backend.open();
    h = new DevicesHarness(store, clock, SETTINGS);
  };
  const close = async () => {
    await h?.stop();
    await store?.close();
  };
  beforeEach(async () => {
    backend = make();
    clock = new FakeClock(T0);
    await open(false);
  });
  afterEach(async () => {
    await close();
    await backend?.cleanup();
  });

  /** Sends a reading at its own time (the clock moves there first). */
  const at = async (ms: number, e: CloudEvent) => {
    clock.set(ms);
    await h.send(e);
  };
  const dueOf = async (k = KEY) => (await h.timers.get(sustainedTimerKey(k)))?.dueAt;
  const conditions = (status: 'open' | 'cleared') => listConditions(store.db, { status, kind: 'sensor.sustained', limit: 100 });

  it('fires once when a reading stays above the threshold for the duration, and clears at the clear level', async () => {
    await h.send(temp('r1', 'cold-1', T0, 9));
    expect(await dueOf()).toBe(T0 + 10 * MIN);
    await at(T0 + 5 * MIN, temp('r2', 'cold-1', T0 + 5 * MIN, 8.5));
    expect(await dueOf()).toBe(T0 + 10 * MIN);
    expect(await h.at(T0 + 9 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.at(T0 + 10 * MIN)).toMatchObject({ claimed: 1, completed: 1 });

    const sustained = await h.derived('sensor.sustained');
    expect(sustained).toHaveLength(1);
    expect(sustained[0]).toMatchObject({
      id: deterministicId('pitwall.sensor.sustained', CONDITION_KEY, 'r1'),
      source: RULES_SOURCE,
      time: isoTime(T0 + 10 * MIN),
      data: {
        n: KEY.n,
        threshold: 8,
        direction: 'above',
        duration_s: 600,
        rule: 'cold-room-temp',
        device_id: 'cold-1',
        value: 8.5,
        clear_level: 7,
        started_at: isoTime(T0),
        episode_id: 'r1',
        caused_by: ['r1', 'r2'],
      },
    });
    expect(await activeSustained(store.db)).toMatchObject([{ rule: 'cold-room-temp', deviceId: 'cold-1', sinceMs: T0, value: 8.5 }]);
    expect(await conditions('open')).toMatchObject([{ key: CONDITION_KEY, severity: 'critical' }]);

    await at(T0 + 12 * MIN, temp('r3', 'cold-1', T0 + 12 * MIN, 7.5)); // between clear level and threshold: holds
    expect(await h.derived('sensor.cleared')).toEqual([]);
    await at(T0 + 13 * MIN, temp('r4', 'cold-1', T0 + 13 * MIN, 7)); // at the clear level: clears
    const cleared = await h.derived('sensor.cleared');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]?.data).toMatchObject({
      n: KEY.n,
      rule: 'cold-room-temp',
      sustained_event_id: sustained[0]?.id,
      value: 7,
      caused_by: ['r4'],
    });
    expect(await conditions('open')).toEqual([]);
    expect(await conditions('cleared')).toHaveLength(1);
    expect(await activeSustained(store.db)).toEqual([]);
    expect(await dueOf()).toBeUndefined();
    expect(await h.at(T0 + 60 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.derived('sensor.sustained')).toHaveLength(1);
  });

  it('hysteresis: readings oscillating across the clear level never fire; readings between clear level and threshold keep it open', async () => {
    const values = [9, 6.9, 9, 6.5, 9, 7, 8.1, 5];
    for (const [i, v] of values.entries()) await at(T0 + i * 3 * MIN, temp(`o${i}`, 'cold-1', T0 + i * 3 * MIN, v));
    await h.at(T0 + 60 * MIN);
    expect(await h.derived('sensor.sustained')).toEqual([]);
    expect(await dueOf()).toBeUndefined();

    const S = T0 + 60 * MIN;
    for (const [i, v] of [9, 7.5, 8, 7.2].entries()) await at(S + i * 3 * MIN, temp(`k${i}`, 'cold-1', S + i * 3 * MIN, v));
    expect(await h.at(S + 10 * MIN)).toMatchObject({ claimed: 1 });
    const sustained = await h.derived('sensor.sustained');
    expect(sustained.map((e) => (e.data as { started_at: string }).started_at)).toEqual([isoTime(S)]);
  });

  it('a below rule with clear_above, on VSS telemetry', async () => {
    const key = { rule: 'low-voltage', deviceId: 'obd-1', n: VOLTS };
    await h.send(vehicleSignal('v1', 'obd-1', VOLTS, T0, 11.5, 'V'));
    expect(await dueOf(key)).toBe(T0 + 30 * MIN);
    await at(T0 + 20 * MIN, vehicleSignal('v2', 'obd-1', VOLTS, T0 + 20 * MIN, 12.0, 'V'));
    expect(await h.at(T0 + 30 * MIN)).toMatchObject({ claimed: 1 });
    expect((await h.derived('sensor.sustained'))[0]?.data).toMatchObject({
      direction: 'below',
      threshold: 11.8,
      clear_level: 12.2,
      n: VOLTS,
    });
    await at(T0 + 40 * MIN, vehicleSignal('v3', 'obd-1', VOLTS, T0 + 40 * MIN, 12.2, 'V'));
    expect(await h.derived('sensor.cleared')).toHaveLength(1);
  });

  it('readings older than the latest one evaluated are ignored by the rule', async () => {
    await at(T0 + 5 * MIN, temp('r1', 'cold-1', T0 + 5 * MIN, 9));
    await at(T0 + 6 * MIN, temp('late-clear', 'cold-1', T0 + MIN, 5)); // older: does not end the episode
    expect(await getRuleState(store.db, KEY)).toMatchObject({
      phase: 'pending',
      startedMs: T0 + 5 * MIN,
      lastMs: T0 + 5 * MIN,
      lastValue: 9,
    });
    expect(await h.at(T0 + 15 * MIN)).toMatchObject({ claimed: 1 });
    expect(await h.derived('sensor.sustained')).toHaveLength(1);

    await at(T0 + 20 * MIN, temp('r2', 'cold-1', T0 + 20 * MIN, 6));
    await at(T0 + 21 * MIN, temp('late-hot', 'cold-1', T0 + 18 * MIN, 12)); // older: does not start one
    expect(await getRuleState(store.db, KEY)).toMatchObject({ phase: 'idle', lastValue: 6 });
    expect(await dueOf()).toBeUndefined();
    expect(await h.derived('sensor.cleared')).toHaveLength(1);
  });

  it('a restart in the middle of the window still fires, once, though no reading came since', async () => {
    await h.send(temp('r1', 'cold-1', T0, 9));
    clock.set(T0 + 4 * MIN);
    await close();
    await open(true);
    expect(await dueOf()).toBe(T0 + 10 * MIN);
    expect(await h.at(T0 + 9 * MIN)).toMatchObject({ claimed: 0 });
    // The firing appends sensor.sustained, which the consumer may fold before the runner completes
    // the claim; the fold settles the key's timer, and the completion then finds its claim voided
    // (`stale`) — the effect happened once either way, which is what the last lines check.
    const fired = await h.at(T0 + 10 * MIN);
    expect(fired).toMatchObject({ claimed: 1, retried: 0 });
    expect(fired.completed + fired.stale).toBe(1);
    expect(await h.at(T0 + 30 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.derived('sensor.sustained')).toHaveLength(1);
    expect(await conditions('open')).toHaveLength(1);
  });

  it('history-mode readings build the episode but start no timer and emit nothing', async () => {
    const hist = { pitwallhistory: true };
    await h.send(temp('h1', 'cold-1', T0 - 30 * MIN, 9, hist), temp('h2', 'cold-1', T0 - 25 * MIN, 10, hist));
    expect(await getRuleState(store.db, KEY)).toMatchObject({ phase: 'pending', startedMs: T0 - 30 * MIN, lastValue: 10 });
    expect(await h.timers.count()).toBe(0);
    expect(await h.at(T0 + 60 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.derived('sensor.sustained')).toEqual([]);
  });

  it('a firing handled twice appends one sensor.sustained; a reading without a device has its own key', async () => {
    await h.send(temp('r1', 'cold-1', T0, 9), temp('a1', undefined, T0, 9));
    await h.pause();
    clock.set(T0 + 11 * MIN);
    const claimed = await h.timers.claimDue(10, MIN);
    expect(claimed).toHaveLength(2);
    for (const t of claimed) {
      await h.fire(t);
      await h.fire(t);
    }
    clock.advance(2 * MIN);
    expect(await h.runner.tick()).toMatchObject({ claimed: 2, completed: 2 });
    await h.drain();
    const sustained = await h.derived('sensor.sustained');
    expect(sustained).toHaveLength(2);
    expect(sustained.find((e) => (e.data as { n: string }).n === 'urn:dev:anon:temp')?.data).not.toHaveProperty('device_id');
    expect((await conditions('open')).map((c) => c.key).sort()).toEqual([CONDITION_KEY, 'cold-room-temp||urn:dev:anon:temp']);
  });

  it('a sensor.sustained folded after a clearing reading (the firing raced it) is cleared at once', async () => {
    await h.send(temp('r1', 'cold-1', T0, 9));
    await h.pause();
    clock.set(T0 + 11 * MIN);
    await h.log.append([{ event: temp('r2', 'cold-1', T0 + 11 * MIN, 6), receivedAt: clock.now() }]);
    const [claimed] = await h.timers.claimDue(10, MIN);
    if (!claimed) throw new Error('no timer claimed');
    await h.fire(claimed); // reads the state before r2 is folded: still pending
    await h.drain();
    const sustained = await h.derived('sensor.sustained');
    const cleared = await h.derived('sensor.cleared');
    expect(sustained).toHaveLength(1);
    expect(cleared.map((e) => e.data)).toMatchObject([{ sustained_event_id: sustained[0]?.id, caused_by: [sustained[0]?.id] }]);
    expect(await conditions('open')).toEqual([]);
    expect(await getRuleState(store.db, KEY)).toMatchObject({ phase: 'idle', clearOwedFor: undefined });
  });

  it('re-applying a batch changes nothing, and the rules are published for GET /v1/sensor-rules', async () => {
    await h.send(temp('r1', 'cold-1', T0, 9), temp('r2', 'cold-1', T0 + MIN, 7.5));
    const before = await getRuleState(store.db, KEY);
    await h.pause();
    await h.handle(await h.log.read(0, 100));
    expect(await getRuleState(store.db, KEY)).toEqual(before);
    expect(await dueOf()).toBe(T0 + 10 * MIN);
    expect((await publishedRules(store.db)).map((r) => r.definition)).toEqual([
      {
        name: 'cold-room-temp',
        match: { name: 'temp', unit: 'Cel' },
        direction: 'above',
        threshold: 8,
        clear_level: 7,
        for_minutes: 10,
        severity: 'critical',
      },
      {
        name: 'low-voltage',
        match: { name_regex: 'LowVoltageBattery\\.CurrentVoltage$' },
        direction: 'below',
        threshold: 11.8,
        clear_level: 12.2,
        for_minutes: 30,
        severity: 'warning',
      },
    ]);
  });

  it('property: any interleaving of readings and clock advances gives at most one sensor.sustained per episode, each followed by at most one sensor.cleared', async () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('read' as const),
        value: fc.constantFrom(5, 6.9, 7, 7.5, 8, 8.5, 9, 12),
        lateMin: fc.constantFrom(0, 0, 0, 2, 7),
      }),
      fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 15 }) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 16 }), async (steps) => {
        run += 1;
        const device = `p-${run}`;
        const n = `urn:dev:${device}:temp`;
        const key = `cold-room-temp|${device}|${n}`;
        for (const [i, s] of steps.entries()) {
          if (s.kind === 'advance') await h.at(clock.now() + s.minutes * MIN);
          else {
            clock.advance(1000);
            await h.send(reading(`${device}-${i}`, device, n, clock.now() - s.lateMin * MIN, { v: s.value, u: 'Cel' }));
          }
        }
        await h.at(clock.now() + 20 * MIN); // anything pending by now has fired
        const mine = (e: CloudEvent) => (e.data as { device_id?: string }).device_id === device;
        const events = (await h.log.query({ type: 'sensor.*', order: 'asc', limit: 10_000 }))
          .map((l) => l.event)
          .filter((e) => e.source === RULES_SOURCE && mine(e));
        // Alternation: sustained, cleared (naming it), sustained, … — never two of a kind in a row.
        let open: CloudEvent | undefined;
        const episodes = new Set<unknown>();
        for (const e of events) {
          const d = e.data as { episode_id?: string; sustained_event_id?: string };
          if (e.type === 'sensor.sustained') {
            expect(open).toBeUndefined();
            expect(episodes.has(d.episode_id)).toBe(false);
            episodes.add(d.episode_id);
            open = e;
          } else {
            expect(d.sustained_event_id).toBe(open?.id);
            open = undefined;
          }
        }
        const state = await getRuleState(store.db, { rule: 'cold-room-temp', deviceId: device, n });
        const conditionOpen = (await listConditions(store.db, { status: 'open', kind: 'sensor.sustained', key, limit: 10 })).length === 1;
        expect(state?.phase ?? 'idle').not.toBe('pending');
        expect(conditionOpen).toBe(open !== undefined);
        expect(state?.phase === 'sustained').toBe(open !== undefined);
      }),
      { numRuns: 30 },
    );
  });
});
