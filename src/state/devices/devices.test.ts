import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { deterministicId, FakeClock, isoTime } from '../../core/index.ts';
import { listConditions } from '../../detect/index.ts';
import type { Store } from '../../store/index.ts';
import { applyProjections } from '../index.ts';
import { getDeviceState, SILENCE_SOURCE, silenceTimerKey, silentDevices } from './index.ts';
import { DevicesHarness, reading, registration, vehicleSignal } from './testing.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-01-05T09:00:00Z');
const SETTINGS = {
  silent_minutes: 15,
  silent_overrides: [
    { device_prefix: 'quiet-', minutes: 0 },
    { kind: 'battery_monitor', minutes: 60 },
    { store: 'at', minutes: 30 },
  ],
};
const temp = (id: string, device: string, atMs: number, v: number, ext = {}) =>
  reading(id, device, `urn:dev:${device}:temp`, atMs, { v, u: 'Cel' }, ext);

describeEachBackend('device state + device.silent / device.back', (make) => {
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

  const device = (id: string) => getDeviceState(store.db, id);
  const dueOf = async (id: string) => (await h.timers.get(silenceTimerKey(id)))?.dueAt;
  const openConditions = () => listConditions(store.db, { status: 'open', kind: 'device.silent', limit: 100 });

  it('folds registration, readings, battery, firmware and a readings summary per signal', async () => {
    clock.set(T0 + 2 * MIN);
    await h.send(
      registration('r1', 'bm-1', T0 - 60 * MIN, { kind: 'battery_monitor', firmware: '2.4.0' }, { store: 'de' }),
      temp('m1', 'bm-1', T0, 4),
      reading('m2', 'bm-1', 'urn:dev:bm-1:battery', T0 + MIN, { v: 87, u: '%EL' }),
      reading('m3', 'bm-1', 'urn:dev:bm-1:bat_v', T0 + MIN, { v: 12.6, u: 'V' }),
      temp('m4', 'bm-1', T0 + 2 * MIN, 6),
      reading('m5', 'bm-1', 'urn:dev:bm-1:fw_version', T0 + 2 * MIN, { vs: '2.5.1' }),
      vehicleSignal('v1', 'obd-1', 'Vehicle.LowVoltageBattery.CurrentVoltage', T0, 12.1, 'V'),
      vehicleSignal('v2', 'obd-1', 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current', T0, 81.5, 'percent'),
    );
    const bm = await device('bm-1');
    expect(bm).toMatchObject({
      kind: 'battery_monitor',
      registeredMs: T0 - 60 * MIN,
      firmware: '2.5.1', // the reading is newer than the registration
      store: 'de',
      batteryPct: 87,
      batteryVolts: 12.6,
      firstSeenMs: T0,
      lastSeenMs: T0 + 2 * MIN,
      lastEventId: 'm5',
      lastContactMs: T0 + 2 * MIN,
      lastReceivedMs: T0 + 2 * MIN,
      messageCount: 5,
      silent: false,
    });
    expect(bm?.signals.find((s) => s.signal === 'urn:dev:bm-1:temp')).toMatchObject({
      unit: 'Cel',
      lastValue: 6,
      lastMs: T0 + 2 * MIN,
      count: 2,
      numCount: 2,
      min: 4,
      max: 6,
      sum: 10,
    });
    expect(bm?.signals.find((s) => s.signal === 'urn:dev:bm-1:fw_version')).toMatchObject({ lastText: '2.5.1', numCount: 0 });
    expect(await device('obd-1')).toMatchObject({ batteryVolts: 12.1, batteryPct: 81.5, messageCount: 2, kind: undefined });
    // A registration alone is not a message: it starts no silence watch.
    await h.send(registration('r2', 'new-1', T0, { kind: 'tracker' }));
    expect(await device('new-1')).toMatchObject({ kind: 'tracker', messageCount: 0, lastSeenMs: undefined });
    expect(await dueOf('new-1')).toBeUndefined();
  });

  it('a late older reading changes no latest value and does not move the silence timer', async () => {
    clock.set(T0 + 10 * MIN);
    await h.send(reading('new', 'd-1', 'urn:dev:d-1:battery', T0 + 10 * MIN, { v: 90, u: '%EL' }));
    expect(await dueOf('d-1')).toBe(T0 + 25 * MIN);
    clock.set(T0 + 12 * MIN);
    await h.send(reading('old', 'd-1', 'urn:dev:d-1:battery', T0, { v: 50, u: '%EL' }));
    expect(await device('d-1')).toMatchObject({
      batteryPct: 90,
      batteryPctMs: T0 + 10 * MIN,
      firstSeenMs: T0,
      lastSeenMs: T0 + 10 * MIN,
      lastEventId: 'new',
      lastContactMs: T0 + 10 * MIN,
      messageCount: 2,
    });
    expect((await device('d-1'))?.signals[0]).toMatchObject({ lastValue: 90, min: 50, max: 90, count: 2 });
    expect(await dueOf('d-1')).toBe(T0 + 25 * MIN);
    expect(await h.at(T0 + 24 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.at(T0 + 25 * MIN)).toMatchObject({ claimed: 1, completed: 1 });
    expect(await h.derived('device.silent')).toHaveLength(1);
  });

  it('reports a device silent after 15 minutes and back on its next message, one event each', async () => {
    await h.send(temp('m1', 'cold-1', T0, 4));
    expect(await dueOf('cold-1')).toBe(T0 + 15 * MIN);
    expect(await h.at(T0 + 14 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.at(T0 + 15 * MIN)).toMatchObject({ claimed: 1, completed: 1 });

    const silent = await h.derived('device.silent');
    expect(silent).toHaveLength(1);
    expect(silent[0]).toMatchObject({
      id: deterministicId('pitwall.device.silent', 'cold-1', T0),
      source: SILENCE_SOURCE,
      time: isoTime(T0 + 15 * MIN),
      data: { device_id: 'cold-1', silent_minutes: 15, last_contact_at: isoTime(T0), caused_by: ['m1'] },
    });
    expect(await device('cold-1')).toMatchObject({ silent: true, silentSinceMs: T0, silentAtMs: T0 + 15 * MIN });
    expect((await silentDevices(store.db)).map((d) => d.deviceId)).toEqual(['cold-1']);
    expect(await openConditions()).toMatchObject([{ key: 'cold-1', status: 'raised', severity: 'warning' }]);

    // Nothing more while it stays silent.
    expect(await h.at(T0 + 60 * MIN)).toMatchObject({ claimed: 0 });

    await h.send(temp('m2', 'cold-1', T0 + 60 * MIN, 5));
    const back = await h.derived('device.back');
    expect(back).toHaveLength(1);
    expect(back[0]?.data).toMatchObject({ device_id: 'cold-1', silent_event_id: silent[0]?.id, caused_by: ['m2'] });
    expect(await device('cold-1')).toMatchObject({ silent: false, backOwedBy: undefined, lastContactMs: T0 + 60 * MIN });
    expect(await openConditions()).toEqual([]);
    expect(await dueOf('cold-1')).toBe(T0 + 75 * MIN);

    clock.set(T0 + 61 * MIN);
    await h.send(temp('m3', 'cold-1', T0 + 61 * MIN, 5));
    expect(await h.derived('device.back')).toHaveLength(1);
    expect(await h.derived('device.silent')).toHaveLength(1);
  });

  it('a firing handled twice (a crash before complete, a lease running out) appends one device.silent', async () => {
    await h.send(temp('m1', 'cold-1', T0, 4));
    await h.pause();
    clock.set(T0 + 16 * MIN);
    const [claimed] = await h.timers.claimDue(10, MIN);
    if (!claimed) throw new Error('no timer claimed');
    await h.fire(claimed);
    await h.fire(claimed); // not folded yet: it appends the same event again
    clock.advance(2 * MIN); // the lease ran out without a complete: the runner fires it again
    expect(await h.runner.tick()).toMatchObject({ claimed: 1, completed: 1 });
    await h.drain();
    expect(await h.derived('device.silent')).toHaveLength(1);
    expect(await openConditions()).toHaveLength(1);
  });

  it('picks the threshold by device prefix, kind and store (first match wins); 0 watches nothing', async () => {
    await h.send(
      registration('r1', 'bm-7', T0 - MIN, { kind: 'battery_monitor' }),
      registration('r2', 'quiet-bm', T0 - MIN, { kind: 'battery_monitor' }),
      temp('a', 'bm-7', T0, 1),
      temp('b', 'quiet-bm', T0, 1),
      temp('c', 'shelf-1', T0, 1, { store: 'at' }),
      temp('d', 'shelf-2', T0, 1, { store: 'de' }),
    );
    expect(await dueOf('bm-7')).toBe(T0 + 60 * MIN);
    expect(await dueOf('quiet-bm')).toBeUndefined();
    expect(await dueOf('shelf-1')).toBe(T0 + 30 * MIN);
    expect(await dueOf('shelf-2')).toBe(T0 + 15 * MIN);
    await h.at(T0 + 120 * MIN);
    expect((await h.derived('device.silent')).map((e) => (e.data as { device_id: string }).device_id).sort()).toEqual([
      'bm-7',
      'shelf-1',
      'shelf-2',
    ]);
  });

  it('a restart in the middle of the window still fires the timer, once', async () => {
    await h.send(temp('m1', 'cold-1', T0, 4));
    clock.set(T0 + 5 * MIN);
    await close();
    await open(true);
    expect(await dueOf('cold-1')).toBe(T0 + 15 * MIN);
    expect(await h.at(T0 + 14 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.at(T0 + 15 * MIN)).toMatchObject({ claimed: 1, completed: 1 });
    expect(await h.at(T0 + 30 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.derived('device.silent')).toHaveLength(1);
    // The group resumed after its acked position: the reading was not folded twice.
    expect(await device('cold-1')).toMatchObject({ messageCount: 1, silent: true });
  });

  it('history-mode readings build device state but start no timer, and do not end a silence', async () => {
    const hist = { pitwallhistory: true };
    await h.send(temp('h1', 'old-1', T0 - 90 * MIN, 3, hist), temp('h2', 'old-1', T0 - 80 * MIN, 4, hist));
    expect(await device('old-1')).toMatchObject({ messageCount: 2, lastSeenMs: T0 - 80 * MIN });
    expect(await h.timers.count()).toBe(0);
    expect(await h.at(T0 + 120 * MIN)).toMatchObject({ claimed: 0 });
    expect(await h.derived('device.silent')).toEqual([]);

    await h.send(temp('m1', 'cold-1', T0 + 120 * MIN, 4));
    await h.at(T0 + 136 * MIN);
    expect((await device('cold-1'))?.silent).toBe(true);
    await h.send(temp('h3', 'cold-1', T0 + 130 * MIN, 4, hist));
    expect(await device('cold-1')).toMatchObject({ silent: true, backOwedBy: undefined, messageCount: 2 });
    expect(await h.derived('device.back')).toEqual([]);
  });

  it('re-applying a batch (a crash before the ack) changes nothing', async () => {
    clock.set(T0 + MIN);
    await h.send(registration('r1', 'd-1', T0, { kind: 'tracker' }), temp('m1', 'd-1', T0, 4), temp('m2', 'd-1', T0 + MIN, 6));
    const before = await device('d-1');
    const due = await dueOf('d-1');
    await h.pause();
    await h.handle(await h.log.read(0, 100));
    expect(await device('d-1')).toEqual(before);
    expect(await dueOf('d-1')).toBe(due);
  });

  it('a device.silent folded after a newer message (the firing raced it) is followed by device.back', async () => {
    await h.send(temp('m1', 'cold-1', T0, 4));
    await h.pause();
    clock.set(T0 + 16 * MIN);
    // The message is in the log but not folded when the timer fires.
    await h.log.append([{ event: temp('m2', 'cold-1', T0 + 16 * MIN, 4), receivedAt: clock.now() }]);
    const [claimed] = await h.timers.claimDue(10, MIN);
    if (!claimed) throw new Error('no timer claimed');
    await h.fire(claimed);
    await h.drain();
    expect(await h.derived('device.silent')).toHaveLength(1);
    expect((await h.derived('device.back'))[0]?.data).toMatchObject({ device_id: 'cold-1', caused_by: ['m2'] });
    expect(await device('cold-1')).toMatchObject({ silent: false, lastContactMs: T0 + 16 * MIN });
    expect(await openConditions()).toEqual([]);
    expect(await dueOf('cold-1')).toBe(T0 + 31 * MIN);
  });

  it('rebuilding from the log gives the same device state, signals and silence', async () => {
    await h.send(registration('r1', 'cold-1', T0 - MIN, { kind: 'fridge', firmware: '1.0' }), temp('m1', 'cold-1', T0, 4));
    await h.at(T0 + 15 * MIN);
    clock.set(T0 + 20 * MIN);
    await h.send(temp('m2', 'cold-1', T0 + 20 * MIN, 5), temp('m3', 'other', T0 + 20 * MIN, 9));
    await h.at(T0 + 40 * MIN); // both silent again
    const snapshot = async () => ({
      devices: await store.db.selectFrom('device_state').selectAll().orderBy('device_id').execute(),
      signals: await store.db.selectFrom('device_signals').selectAll().orderBy('device_id').orderBy('signal').execute(),
      conditions: await store.db.selectFrom('conditions').selectAll().orderBy('id').execute(),
    });
    const before = await snapshot();
    expect(before.devices.map((d) => [d.device_id, Number(d.silent)])).toEqual([
      ['cold-1', 1],
      ['other', 1],
    ]);
    await h.pause();
    for (const t of ['device_state', 'device_signals', 'conditions'] as const) await store.db.deleteFrom(t).execute();
    for (let pos = 0; ; ) {
      const batch = await h.log.read(pos, 2);
      if (batch.length === 0) break;
      await applyProjections(store, h.projections, batch);
      pos = batch[batch.length - 1]?.seq ?? pos;
    }
    expect(await snapshot()).toEqual(before);
  });
});
