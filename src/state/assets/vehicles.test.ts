import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { deterministicId, FakeClock, isoTime } from '../../core/index.ts';
import { createConditionsProjection, type Detector, listConditions, openTimerStore, type Projection } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type EventLog, type LoggedEvent, openEventLog } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { applyProjections } from '../index.ts';
import {
  createAssetsModule,
  getVehicle,
  PART_SERVICE_CLEARED,
  PART_SERVICE_DUE,
  type PartStatus,
  type Vehicle,
  vehiclesOfCustomer,
} from './index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-02T08:00:00Z');
const VIN = 'WVWZZZAUZHW123456';
const SOH = 'Vehicle.Powertrain.TractionBattery.StateOfHealth';
const LV_SOH = 'Vehicle.LowVoltageBattery.StateOfHealth';
const PAD = 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Brake.PadWear';
const ODO = 'Vehicle.TraveledDistance';

let n = 0;
function registered(atMs: number, data: Record<string, unknown>, ext: Partial<CloudEvent> = {}): CloudEvent {
  return { specversion: '1.0', id: `reg${++n}`, source: 'app', type: 'device.registered', time: isoTime(atMs), data, ...ext };
}
function signal(
  atMs: number,
  name: string,
  value: number | string | boolean,
  where: { vin?: string; device_id?: string },
  ext: Partial<CloudEvent> = {},
): CloudEvent {
  return {
    specversion: '1.0',
    id: `sig${++n}`,
    source: 'pitwall:device/obd',
    type: 'vehicle.signal',
    time: isoTime(atMs),
    data: { signal: name, value, ...where },
    ...ext,
  };
}

describeEachBackend('assets: vehicles projection + part.service_due', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let clock: FakeClock;
  let projections: Projection[];
  let detectors: readonly Detector[];
  let pos = 0;

  beforeEach(async () => {
    backend = make();
    clock = new FakeClock(T0);
    store = await backend.open();
    log = openEventLog(store, clock);
    const mod = createAssetsModule({ log, store, timers: openTimerStore(store, clock), clock }, undefined);
    projections = [...mod.projections, createConditionsProjection(mod.detectors.flatMap((d) => d.conditions ?? []))];
    detectors = mod.detectors;
    pos = 0;
  });
  afterEach(async () => {
    await log?.close();
    await store?.close();
    await backend?.cleanup();
  });

  /** Folds everything appended so far, batch by batch, detectors after each (as the state consumer does). */
  const drain = async () => {
    for (;;) {
      const batch = await log.read(pos, 500);
      if (batch.length === 0) return;
      await applyProjections(store, projections, batch);
      for (const d of detectors) await d.onEvents?.(batch);
      pos = (batch[batch.length - 1] as LoggedEvent).seq;
    }
  };
  /** Appends at `atMs` on the clock and folds. */
  const send = async (atMs: number, ...events: CloudEvent[]) => {
    clock.set(atMs);
    await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
    await drain();
  };
  const derived = async (type: string) =>
    (await log.query({ type, order: 'asc', limit: 100 })).map((l) => l.event.data as Record<string, unknown>);
  const part = async (signalName: string, vin = VIN) =>
    (await getVehicle(store.db, vin))?.parts.find((p) => p.signal === signalName) as PartStatus;

  it('keeps the latest signal by event time, the owner from the registrations, and resolves a device’s signals to its VIN', async () => {
    await send(
      T0,
      registered(T0, {
        device_id: 'dev_bm12',
        kind: 'battery_monitor',
        customer_id: 'cus_1042',
        vin: VIN,
        part_sku: 'BAT-AGM-70AH',
        part_serial: 'VA70-1',
        firmware: '2.4.1',
      }),
    );
    await send(T0 + HOUR, signal(T0 + HOUR, LV_SOH, 90, { device_id: 'dev_bm12' }), signal(T0 + HOUR, ODO, 10_000, { vin: VIN }));
    await send(T0 + 2 * HOUR, signal(T0 + HOUR / 2, ODO, 9_000, { vin: VIN })); // older, arrives late
    await send(T0 + 2 * HOUR, signal(T0 + HOUR, ODO, 10_000, { vin: VIN }, { id: 'same-reading-again' }));
    await send(T0 + 2 * HOUR, signal(T0 + HOUR, 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', false, { device_id: 'dev_unregistered' }));

    const v = await getVehicle(store.db, VIN);
    expect(v).toMatchObject({ vehicleId: VIN, vin: VIN, customerId: 'cus_1042', firstSeenAt: T0, lastSeenAt: T0 + HOUR });
    expect(v?.signals.map((s) => [s.signal, s.value, s.at, s.deviceId])).toEqual([
      [LV_SOH, 90, T0 + HOUR, 'dev_bm12'],
      [ODO, 10_000, T0 + HOUR, undefined],
    ]);
    expect(v?.devices).toEqual([
      {
        deviceId: 'dev_bm12',
        kind: 'battery_monitor',
        customerId: 'cus_1042',
        partSku: 'BAT-AGM-70AH',
        partSerial: 'VA70-1',
        firmware: '2.4.1',
        registeredAt: T0,
      },
    ]);
    expect(await part(LV_SOH)).toMatchObject({ partType: 'battery', partSku: 'BAT-AGM-70AH', installedAt: T0, value: 90, due: false });
    expect((await getVehicle(store.db, 'device:dev_unregistered'))?.signals.map((s) => s.value)).toEqual([false]);

    // The car is sold: a newer registration names another owner; an older one arriving late does not.
    await send(T0 + 3 * HOUR, registered(T0 + 3 * HOUR, { device_id: 'dev_obd_7', kind: 'obd_dongle', customer_id: 'cus_2000', vin: VIN }));
    await send(T0 + 4 * HOUR, registered(T0 + HOUR / 2, { device_id: 'dev_obd_8', customer_id: 'cus_0001', vin: VIN }));
    expect((await getVehicle(store.db, VIN))?.customerId).toBe('cus_2000');
    expect((await vehiclesOfCustomer(store.db, 'cus_2000')).map((x) => x.vehicleId)).toEqual([VIN]);
    expect(await vehiclesOfCustomer(store.db, 'cus_1042')).toEqual([]);
    expect(await getVehicle(store.db, 'NOPE')).toBeUndefined();
  });

  it('a noisy state-of-health series around the threshold fires part.service_due once, clears on recovery, fires again on the next crossing', async () => {
    const series = [72, 69.8, 70.3, 69.9, 70.4, 69.5, 74.9, 75.2, 71, 69];
    const ids: string[] = [];
    for (const [i, v] of series.entries()) {
      const e = signal(T0 + i * DAY, SOH, v, { vin: VIN, device_id: 'dev_obd_1' });
      ids.push(e.id);
      await send(T0 + i * DAY, e);
    }
    const due = await derived(PART_SERVICE_DUE);
    expect(due.map((d) => [d.episode, d.value, d.caused_by])).toEqual([
      [1, 69.8, [ids[1]]],
      [2, 69, [ids[9]]],
    ]);
    expect(due[0]).toMatchObject({
      part: 'battery',
      part_type: 'battery',
      vin: VIN,
      vehicle_id: VIN,
      device_id: 'dev_obd_1',
      signal: SOH,
      threshold: 70,
    });
    expect(due[1]?.slope_per_30_days).toEqual(expect.any(Number));
    const events = await log.query({ type: PART_SERVICE_DUE, order: 'asc', limit: 10 });
    expect(events[0]?.event.id).toBe(deterministicId(`pitwall.${PART_SERVICE_DUE}`, VIN, SOH, 1));
    expect((await derived(PART_SERVICE_CLEARED)).map((d) => [d.episode, d.reason, d.value, d.caused_by])).toEqual([
      [1, 'recovered', 75.2, [ids[7]]],
    ]);

    const conditions = await listConditions(store.db, { kind: PART_SERVICE_DUE, limit: 10 });
    expect(conditions.map((c) => [c.key, c.status])).toEqual([
      [`${VIN}|${SOH}`, 'raised'],
      [`${VIN}|${SOH}`, 'cleared'],
    ]);
    expect(await part(SOH)).toMatchObject({ due: true, dueEpisodes: 2, dueSince: T0 + 9 * DAY, value: 69 });
    expect((await getVehicle(store.db, VIN))?.dueServices.map((p) => p.signal)).toEqual([SOH]);

    // Replaying every batch (projections and detectors) changes nothing and appends nothing.
    const head = await log.head();
    const before = await getVehicle(store.db, VIN);
    const all = await log.read(0, 1000);
    await applyProjections(store, projections, all);
    for (const d of detectors) await d.onEvents?.(all);
    await drain();
    expect(await log.head()).toBe(head);
    expect(await getVehicle(store.db, VIN)).toEqual(before);

    // Rebuild (as `pitwall state rebuild`): empty the tables, fold the log through the projections only.
    for (const t of new Set(projections.flatMap((p) => p.tables))) await store.db.deleteFrom(t).execute();
    for (let at = 0; ; ) {
      const batch = await log.read(at, 4);
      if (batch.length === 0) break;
      await applyProjections(store, projections, batch);
      at = (batch[batch.length - 1] as LoggedEvent).seq;
    }
    expect(await getVehicle(store.db, VIN)).toEqual(before);
  });

  it('out-of-order and re-batched readings give the same vehicle as ordered ones (property)', async () => {
    const reading = fc.record({
      signal: fc.constantFrom(SOH, PAD, ODO, 'Vehicle.Speed'),
      h: fc.integer({ min: 0, max: 24 * 20 }),
      v: fc.integer({ min: 0, max: 100 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(reading, { minLength: 1, maxLength: 20 }),
        fc.infiniteStream(fc.integer({ min: 1, max: 5 })),
        fc.integer(),
        async (rs, cuts, seed) => {
          run++;
          const vin = (ns: string) => `${ns}${String(run).padStart(5, '0')}`.padEnd(17, '0');
          const events = (ns: string) =>
            rs.map((r, i) => signal(T0 + r.h * HOUR, r.signal, r.v, { vin: vin(ns) }, { id: `${ns}-${String(i).padStart(3, '0')}` }));
          const fold = async (evs: CloudEvent[]) => {
            let seq = run * 1000;
            for (let i = 0; i < evs.length; ) {
              const size = cuts.next().value as number;
              await applyProjections(
                store,
                projections,
                evs.slice(i, i + size).map((event): LoggedEvent => ({ seq: ++seq, event, receivedAt: T0, history: false })),
              );
              i += size;
            }
          };
          await fold(events('A').sort((x, y) => Date.parse(x.time) - Date.parse(y.time) || x.id.localeCompare(y.id)));
          const shuffled = events('B');
          let s = seed;
          for (let i = shuffled.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            const j = s % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j] as CloudEvent, shuffled[i] as CloudEvent];
          }
          await fold(shuffled);
          const strip = (v: Vehicle | undefined) => (v ? { ...v, vehicleId: '', vin: '' } : v);
          expect(strip(await getVehicle(store.db, vin('B')))).toEqual(strip(await getVehicle(store.db, vin('A'))));
        },
      ),
      { numRuns: backend.name === 'postgres' ? 20 : Number(process.env.ASSETS_RUNS ?? 40) },
    );
  });

  it('brake-pad wear: trend per 30 days and per 1,000 km, projected date and km at the limit; a new pad set clears the due', async () => {
    const wear = [50, 60, 70, 81];
    for (const [d, w] of wear.entries())
      await send(T0 + d * DAY, signal(T0 + d * DAY, ODO, 10_000 + 500 * d, { vin: VIN }), signal(T0 + d * DAY, PAD, w, { vin: VIN }));
    const [due] = await derived(PART_SERVICE_DUE);
    expect(due).toMatchObject({
      part_type: 'brake_pads',
      signal: PAD,
      value: 81,
      threshold: 80,
      limit: 100,
      past_limit: false,
      projected_km: 12437,
    });
    expect(due?.slope_per_30_days).toBeCloseTo(309, 6);
    expect(due?.slope_per_1000_km).toBeCloseTo(20.6, 6);
    // Fit 49.8 + 10.3/day: at day 3 it is at 80.7, and reaches 100 1.874 days later.
    expect((Date.parse(due?.projected_at as string) - (T0 + 3 * DAY)) / DAY).toBeCloseTo(19.3 / 10.3, 3);
    expect((await part(PAD)).trend).toMatchObject({ points: 4, target: 100, projectedKm: 12437 });

    await send(
      T0 + 4 * DAY,
      registered(T0 + 4 * DAY, { device_id: 'dev_brk_1', kind: 'brake_sensor', vin: VIN, part_sku: 'BRK-PAD-F-4471', part_serial: 'P-2' }),
    );
    expect((await derived(PART_SERVICE_CLEARED)).map((d) => [d.episode, d.reason, d.part])).toEqual([[1, 'replaced', 'BRK-PAD-F-4471']]);
    expect(await part(PAD)).toMatchObject({ due: false, installedAt: T0 + 4 * DAY, value: undefined, trend: undefined });
    await send(T0 + 5 * DAY, signal(T0 + 5 * DAY, PAD, 3, { vin: VIN }));
    expect(await part(PAD)).toMatchObject({ due: false, value: 3 });
    expect(await derived(PART_SERVICE_DUE)).toHaveLength(1);
  });

  it('km since the last service: due past 15,000 km, cleared by the service registration, counted again from the next reading', async () => {
    await send(T0, signal(T0, ODO, 20_000, { vin: VIN }));
    await send(T0 + 30 * DAY, signal(T0 + 30 * DAY, ODO, 27_000, { vin: VIN }));
    expect(await derived(PART_SERVICE_DUE)).toEqual([]);
    await send(T0 + 60 * DAY, signal(T0 + 60 * DAY, ODO, 35_001, { vin: VIN }));
    expect(await derived(PART_SERVICE_DUE)).toMatchObject([{ part_type: 'service', value: 15_001, reading: 35_001, threshold: 15_000 }]);
    await send(T0 + 61 * DAY, registered(T0 + 61 * DAY, { device_id: 'workshop-1', vin: VIN, part_sku: 'OIL-5W30' }));
    expect((await derived(PART_SERVICE_CLEARED)).map((d) => d.reason)).toEqual(['replaced']);
    await send(T0 + 62 * DAY, signal(T0 + 62 * DAY, ODO, 35_100, { vin: VIN }));
    await send(T0 + 63 * DAY, signal(T0 + 63 * DAY, ODO, 35_400, { vin: VIN }));
    expect(await part(ODO)).toMatchObject({ partType: 'service', value: 300, reading: 35_400, due: false, installedAt: T0 + 61 * DAY });
  });

  it('history events build the vehicle but emit nothing; the next live reading is judged', async () => {
    await send(T0, signal(T0, SOH, 60, { vin: VIN }, { pitwallhistory: true }));
    expect(await part(SOH)).toMatchObject({ value: 60, due: false });
    expect(await derived(PART_SERVICE_DUE)).toEqual([]);
    await send(T0 + DAY, signal(T0 + DAY, SOH, 61, { vin: VIN }));
    expect((await derived(PART_SERVICE_DUE)).map((d) => d.value)).toEqual([61]);
  });

  it('rejects bad part rules with PW_CONFIG_INVALID naming the field', () => {
    const ctx = { log, store, timers: openTimerStore(store, clock), clock };
    expect(() => createAssetsModule(ctx, { service_due: { parts: { battery: { threshold: 70, clear: 60 } } } })).toThrow(
      /detectors\.assets\.service_due\.parts\.battery\.clear: must be ≥ threshold/,
    );
    expect(() => createAssetsModule(ctx, { service_due: { parts: { tyres: { threshold: 3 } } } })).toThrow(
      /detectors\.assets\.service_due\.parts\.tyres\.direction: must be below or above/,
    );
    expect(() =>
      createAssetsModule(ctx, { service_due: { parts: { tyres: { direction: 'below', threshold: 3, signals: ['Tyre.Depth'] } } } }),
    ).toThrow(/parts\.tyres\.signals\[0\]: "Tyre\.Depth" is not a VSS path/);
  });
});
