import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { FakeClock, isoTime } from '../../core/index.ts';
import {
  createConditionsProjection,
  type DecideModule,
  listConditions,
  openTimerStore,
  TimerRunner,
  type TimerStore,
} from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type EventLog, type LoggedEvent, openEventLog, type Subscription, subscribe } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { applyProjections } from '../index.ts';
import {
  createShipmentsModule,
  DELAY_SOURCE,
  delayedEventId,
  delayTimerKey,
  getShipment,
  laneReliability,
  predictLaneWindow,
  predictShipment,
  type Shipment,
} from './index.ts';
import { prunePoint, prunePositions } from './positions.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');
const LANE = { carrier: 'dhl', origin: 'DE-HAM-1', destination: 'DE-BY' };

let n = 0;
function ev(type: string, shipmentId: string, atMs: number, data: Record<string, unknown> = {}, ext: Partial<CloudEvent> = {}): CloudEvent {
  n += 1;
  return {
    specversion: '1.0',
    id: `${type}-${shipmentId}-${n}`,
    source: 'carrier-feed',
    type: `shipment.${type}`,
    time: isoTime(atMs),
    data: { shipment_id: shipmentId, ...data },
    ...ext,
  };
}
const created = (id: string, atMs: number, promisedMs: number, ext: Partial<CloudEvent> = {}) =>
  ev('created', id, atMs, { ...LANE, promised_at: isoTime(promisedMs) }, ext);
const status = (id: string, atMs: number, s: string, ext: Partial<CloudEvent> = {}) => ev('status', id, atMs, { status: s }, ext);
const position = (id: string, atMs: number, lat: number, lon: number, ext: Partial<CloudEvent> = {}) =>
  ev('position', id, atMs, { lat, lon }, ext);
const delivered = (id: string, atMs: number, ext: Partial<CloudEvent> = {}) => ev('delivered', id, atMs, {}, ext);
const condition = (
  id: string,
  atMs: number,
  kind: string,
  value: number,
  extra: Record<string, unknown> = {},
  ext: Partial<CloudEvent> = {},
) => ev('condition', id, atMs, { kind, value, ...extra }, ext);
const history: Partial<CloudEvent> = { pitwallhistory: true };

/** Delivered shipments on LANE, in history mode, with these transit hours; each promised at 30 h. */
function laneHistory(transitHours: readonly number[]): CloudEvent[] {
  return transitHours.flatMap((h, i) => {
    const id = `hist-${i}`;
    const start = T0 - 30 * 86_400_000 + i * 86_400_000;
    return [created(id, start, start + 30 * H, history), delivered(id, start + h * H, history)];
  });
}

describeEachBackend('shipments module', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let timers: TimerStore;
  let clock: FakeClock;
  let module: DecideModule;
  let sub: Subscription;
  let runner: TimerRunner;

  const start = (settings: unknown = undefined) => {
    module = createShipmentsModule({ log, store, timers, clock }, settings);
    const detectors = module.detectors;
    const projections = [...module.projections, createConditionsProjection(detectors.flatMap((d) => d.conditions ?? []))];
    sub = subscribe(
      log,
      'state',
      async (batch) => {
        await applyProjections(store, projections, batch);
        for (const d of detectors) await d.onEvents?.(batch);
      },
      { pollMs: 20 },
    );
    runner = new TimerRunner(timers, clock, async (t) => {
      for (const d of detectors) if (d.timerPrefix && t.key.startsWith(d.timerPrefix)) await d.fire?.(t);
    });
  };

  beforeEach(async () => {
    backend = make();
    clock = new FakeClock(T0);
    store = await backend.open();
    log = openEventLog(store, clock);
    timers = openTimerStore(store, clock);
    start();
  });
  afterEach(async () => {
    await sub?.stop();
    await log?.close();
    await store?.close();
    await backend?.cleanup();
  });

  /** Waits until the group has folded everything, derived events included. */
  const settle = async () => {
    for (;;) {
      const head = await log.head();
      await sub.caughtUp(head);
      if ((await log.head()) === head) return;
    }
  };
  const send = async (...events: CloudEvent[]) => {
    await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
    await settle();
  };
  const at = async (ms: number) => {
    clock.set(ms);
    const r = await runner.tick();
    await settle();
    return r;
  };
  const derived = async (type: string) => (await log.query({ type, order: 'asc', limit: 100 })).map((l) => l.event);
  const dataOf = (e: CloudEvent | undefined) => (e?.data ?? {}) as Record<string, unknown>;

  it('history builds the lane statistics (hand-checked quantiles, reliability) and emits nothing', async () => {
    await send(...laneHistory([60, 20, 34, 22, 28, 24, 36, 26, 30, 32]));
    expect(await laneReliability(store.db, LANE.carrier, LANE.origin, LANE.destination)).toMatchObject({
      deliveredCount: 10,
      onTimeCount: 6, // 20, 22, 24, 26, 28, 30 ≤ the 30 h promise
      onTimeShare: 0.6,
      transitP50Hours: 29,
      transitP90Hours: 38.4,
      sampleSize: 10,
    });
    const from = T0 + 5 * H;
    expect(await predictLaneWindow(store.db, { ...LANE, fromMs: from })).toEqual({
      p50Ms: from + 29 * H,
      p90Ms: from + 38.4 * H,
      basis: 'empirical',
      sampleSize: 10,
      reliability: 0.6,
    });
    expect(await timers.count()).toBe(0);
    expect(await derived('shipment.delayed')).toEqual([]);
    expect(await at(T0 + 100 * H)).toMatchObject({ claimed: 0 });
  });

  it('falls back to the catalogue lane prior, then to nothing, with little history', async () => {
    await send(...laneHistory([20, 22]));
    const from = T0;
    expect(await predictLaneWindow(store.db, { ...LANE, fromMs: from })).toMatchObject({ basis: 'none', sampleSize: 2, reliability: 1 });
    await store.db
      .insertInto('lanes')
      .values({
        carrier_id: LANE.carrier,
        origin: LANE.origin,
        destination: LANE.destination,
        transit_hours_p50: 24,
        transit_hours_p90: 36,
        cost: null,
        currency: null,
        attributes: '{}',
        created_ms: T0,
        updated_ms: T0,
      })
      .execute();
    const w = await predictLaneWindow(store.db, { ...LANE, fromMs: from });
    expect(w).toMatchObject({ basis: 'lane_prior', sampleSize: 2 });
    expect((w.p50Ms as number) - from).toBeCloseTo(24 * H, -3);
    expect((w.p90Ms as number) - from).toBeCloseTo(36 * H, -3);
  });

  it('predicts later for a shipment already late: quantiles of the longer transits only', async () => {
    await send(...laneHistory([60, 20, 34, 22, 28, 24, 36, 26, 30, 32]), created('s1', T0, T0 + 30 * H, history));
    const s = (await getShipment(store.db, 's1')) as Shipment;
    expect(await predictShipment(store.db, s, T0)).toMatchObject({ p50Ms: T0 + 29 * H, basis: 'empirical', sampleSize: 10 });
    const late = await predictShipment(store.db, s, T0 + 33 * H);
    expect(late).toMatchObject({ p50Ms: T0 + 36 * H, basis: 'empirical', sampleSize: 3, laneSampleSize: 10 });
    expect((late.p90Ms as number) - T0).toBeCloseTo(55.2 * H, -1);
  });

  it('out for delivery re-anchors the window on the lane’s last-mile times (default window without them)', async () => {
    await send(created('s1', T0, T0 + 30 * H), status('s1', T0 + 20 * H, 'out_for_delivery'));
    const s = (await getShipment(store.db, 's1')) as Shipment;
    const p = await predictShipment(store.db, s, T0 + 20 * H);
    expect(p).toMatchObject({ basis: 'default', progress: 'out_for_delivery' });
    expect((p.p50Ms as number) - (T0 + 20 * H)).toBeCloseTo(4 * H, -3);
    expect((p.p90Ms as number) - (T0 + 20 * H)).toBeCloseTo(8 * H, -3);
  });

  it('keeps the newest status and position by event time, whatever the arrival order (fast-check)', async () => {
    let run = 0;
    let seq = 1_000_000;
    const projections = module.projections;
    const fold = async (id: string, events: CloudEvent[], batchSize: number) => {
      const logged: LoggedEvent[] = events.map((e) => ({
        seq: ++seq,
        event: { ...e, data: { ...(e.data as object), shipment_id: id } },
        receivedAt: 0,
        history: true,
      }));
      for (let i = 0; i < logged.length; i += batchSize) await applyProjections(store, projections, logged.slice(i, i + batchSize));
      const s = (await getShipment(store.db, id)) as Shipment;
      const { shipmentId: _id, updatedSeq: _seq, ...rest } = s;
      return rest;
    };
    const statuses = ['picked_up', 'in_transit', 'at_hub', 'out_for_delivery', 'exception', 'delayed'];
    const item = fc.oneof(
      fc.record({ kind: fc.constant('status' as const), t: fc.integer({ min: 0, max: 20 }), s: fc.constantFrom(...statuses) }),
      fc.record({ kind: fc.constant('position' as const), t: fc.integer({ min: 0, max: 20 }), p: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('created' as const), t: fc.integer({ min: 0, max: 20 }), p: fc.integer({ min: 20, max: 40 }) }),
      fc.record({ kind: fc.constant('delivered' as const), t: fc.integer({ min: 10, max: 30 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(item, { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(),
        async (items, batchSize, seed) => {
          run += 1;
          const events = items.map((x, i) => {
            const id = { id: `e${i}` };
            const t = T0 + x.t * H;
            if (x.kind === 'status') return { ...status('x', t, x.s), ...id };
            // Four spots 0, 100 m, 5 km and 50 km apart: runs within the stall radius and outside it.
            if (x.kind === 'position') return { ...position('x', t, 50 + ([0, 0.0009, 0.045, 0.45][x.p as number] ?? 0), 9), ...id };
            if (x.kind === 'created') return { ...created('x', t, T0 + (x.p as number) * H), ...id };
            return { ...delivered('x', t), ...id };
          });
          const ordered = [...events].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
          const shuffled = [...events];
          let r = seed;
          for (let i = shuffled.length - 1; i > 0; i--) {
            r = (r * 1103515245 + 12345) % 2 ** 31;
            const j = r % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j] as CloudEvent, shuffled[i] as CloudEvent];
          }
          const a = await fold(`ord-${run}`, ordered, 100);
          const b = await fold(`shuf-${run}`, shuffled, batchSize);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a duplicate delivered event (and a replayed batch) does not count twice', async () => {
    await send(created('s1', T0, T0 + 30 * H), status('s1', T0 + H, 'in_transit'));
    clock.set(T0 + 20 * H);
    await send(delivered('s1', T0 + 20 * H));
    await send(delivered('s1', T0 + 21 * H), { ...delivered('s1', T0 + 20 * H), id: 'another-copy' });
    expect(await laneReliability(store.db, LANE.carrier, LANE.origin, LANE.destination)).toMatchObject({
      deliveredCount: 1,
      onTimeCount: 1,
      transitP50Hours: 20,
    });
    const before = await getShipment(store.db, 's1');
    expect(before).toMatchObject({ status: 'delivered', deliveredMs: T0 + 20 * H, onTime: true, transitMs: 20 * H });
    const batch = await log.read(0, 100);
    await applyProjections(store, module.projections, batch);
    expect(await getShipment(store.db, 's1')).toEqual(before);
    expect(await laneReliability(store.db, LANE.carrier, LANE.origin, LANE.destination)).toMatchObject({ deliveredCount: 1 });
  });

  it('an exception status is a delay at once; one event per exception run; delivery clears the condition', async () => {
    await send(created('s1', T0, T0 + 30 * H));
    clock.set(T0 + 5 * H);
    const ex = status('s1', T0 + 5 * H, 'exception');
    await send(ex);
    clock.set(T0 + 6 * H);
    await send(status('s1', T0 + 6 * H, 'exception'));
    const delayed = await derived('shipment.delayed');
    expect(delayed).toHaveLength(1);
    expect(delayed[0]).toMatchObject({
      id: delayedEventId('s1', { reason: 'exception', idKey: T0 + 5 * H }),
      source: DELAY_SOURCE,
      subject: 's1',
      data: { shipment_id: 's1', reason: 'exception', promised_at: isoTime(T0 + 30 * H), caused_by: [ex.id] },
    });
    expect(await getShipment(store.db, 's1')).toMatchObject({ delayed: true, delayReasons: ['exception'], exceptionSinceMs: T0 + 5 * H });
    expect(await listConditions(store.db, { status: 'open', kind: 'shipment.delayed', limit: 10 })).toMatchObject([
      { key: 's1', severity: 'critical', raiseCount: 1 },
    ]);

    clock.set(T0 + 10 * H);
    await send(delivered('s1', T0 + 10 * H));
    expect(await listConditions(store.db, { status: 'open', limit: 10 })).toEqual([]);
    expect(await listConditions(store.db, { status: 'cleared', kind: 'shipment.delayed', limit: 10 })).toHaveLength(1);
    expect(await getShipment(store.db, 's1')).toMatchObject({ delayed: false, delayReasons: ['exception'] });
    expect(await timers.get(delayTimerKey('s1'))).toBeUndefined();
  });

  it('time alone makes a shipment late: the check timer finds the P90 past the promise (FakeClock, no events)', async () => {
    // Most transits take 20–24 h, one took 48 h; promised at 30 h, margin 2 h.
    await send(...laneHistory([20, 20, 21, 21, 22, 22, 23, 23, 24, 48]));
    await send(created('s1', T0, T0 + 30 * H));
    expect(await derived('shipment.delayed')).toEqual([]); // P90 = 26.4 h
    expect((await timers.get(delayTimerKey('s1')))?.dueAt).toBe(T0 + H);

    expect(await at(T0 + 20 * H)).toMatchObject({ claimed: 1 }); // T > 20: P90 = 31.2 h, within 30 + 2
    expect(await derived('shipment.delayed')).toEqual([]);
    expect((await timers.get(delayTimerKey('s1')))?.dueAt).toBe(T0 + 21 * H);

    expect(await at(T0 + 24.5 * H)).toMatchObject({ claimed: 1 }); // only the 48 h transit is longer
    const delayed = await derived('shipment.delayed');
    expect(delayed).toHaveLength(1);
    expect(delayed[0]).toMatchObject({
      id: delayedEventId('s1', { reason: 'late_prediction', idKey: T0 + 30 * H }),
      data: { reason: 'late_prediction', predicted_p90: isoTime(T0 + 48 * H), basis: 'empirical', sample_size: 1 },
    });
    expect(await at(T0 + 26 * H)).toMatchObject({ claimed: 1 });
    expect(await at(T0 + 40 * H)).toMatchObject({ claimed: 1 });
    expect(await derived('shipment.delayed')).toHaveLength(1);
    expect(await getShipment(store.db, 's1')).toMatchObject({ delayed: true, delayReasons: ['late_prediction'] });
  });

  it('a frozen GPS that the quality gate distrusts (flat_line) gives no stall; the same fixes from a trusted tracker do', async () => {
    await store.db
      .insertInto('quality_sources')
      .values({
        source: 'trk-frozen',
        score: 50,
        trusted: 0,
        degraded: 1,
        flags: JSON.stringify([{ kind: 'flat_line', detail: 'GPS fix unchanged across 10 fixes', penalty: 50 }]),
        last_received_ms: T0 + 8 * H,
        updated_ms: T0 + 8 * H,
        state: '{}',
        updated_seq: 0,
        stale_at_ms: null,
        last_event_id: null,
        pending: '[]',
        has_pending: 0,
      })
      .execute();
    const frozen = (id: string, device: string) => [
      created(id, T0, T0 + 72 * H),
      status(id, T0 + H, 'in_transit'),
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((h) => position(id, T0 + h * H, 51.3127, 9.4797, { deviceid: device })),
    ];
    clock.set(T0 + 8 * H);
    await send(...frozen('s-frozen', 'trk-frozen'));
    await at(T0 + 9 * H);
    expect(await derived('shipment.delayed')).toEqual([]);
    const p = await predictShipment(store.db, (await getShipment(store.db, 's-frozen')) as Shipment, T0 + 9 * H);
    expect(p).toMatchObject({ positionsTrusted: false, stopShiftMs: 0 });

    await send(...frozen('s-ok', 'trk-ok'));
    const delayed = await derived('shipment.delayed');
    expect(delayed.map((e) => dataOf(e).shipment_id)).toEqual(['s-ok']);
    expect(delayed[0]).toMatchObject({
      id: delayedEventId('s-ok', { reason: 'stalled', idKey: T0 + H }),
      data: { reason: 'stalled', stationary_since: isoTime(T0 + H), last_fix_at: isoTime(T0 + 8 * H), position_source: 'trk-ok' },
    });
    await at(T0 + 10 * H);
    expect(await derived('shipment.delayed')).toHaveLength(1);
  });

  it('a stall needs the clock: six hours after the tracker stopped moving, on the timer', async () => {
    clock.set(T0 + 2 * H);
    await send(
      created('s1', T0, T0 + 72 * H),
      status('s1', T0, 'picked_up'),
      position('s1', T0 + H, 52.0, 9.0),
      position('s1', T0 + 2 * H, 51.5, 9.2),
    );
    clock.set(T0 + 3 * H);
    await send(position('s1', T0 + 3 * H, 51.5001, 9.2001));
    expect(await getShipment(store.db, 's1')).toMatchObject({ stationarySinceMs: T0 + 2 * H, stationaryFixes: 2, positionsCount: 3 });
    expect((await timers.get(delayTimerKey('s1')))?.dueAt).toBe(T0 + 4 * H);
    await at(T0 + 7.5 * H);
    expect(await derived('shipment.delayed')).toEqual([]);
    expect((await timers.get(delayTimerKey('s1')))?.dueAt).toBe(T0 + 8 * H); // the stall deadline
    await at(T0 + 8 * H);
    expect((await derived('shipment.delayed')).map((e) => dataOf(e).reason)).toEqual(['stalled']);
  });

  it('a shock beyond its limit raises one breach per run; delivery clears the condition', async () => {
    await send(created('s1', T0, T0 + 30 * H));
    const shock = condition('s1', T0 + H, 'shock', 12, { unit: 'g' });
    await send(shock, condition('s1', T0 + H + 60_000, 'shock', 15, { unit: 'g' }), condition('s1', T0 + H, 'temperature', 5));
    await send(condition('s1', T0 + 2 * H, 'temperature', 9.3, { threshold: 9 }));
    const breaches = await derived('shipment.condition_breach');
    expect(breaches.map((e) => [dataOf(e).kind, dataOf(e).value])).toEqual([
      ['shock', 12],
      ['temperature', 9.3],
    ]);
    expect(breaches[0]).toMatchObject({
      data: { limit_max: 10, unit: 'g', reading_at: isoTime(T0 + H), caused_by: [shock.id, expect.any(String)] },
    });
    const s = await getShipment(store.db, 's1');
    expect(s?.breaches.map((b) => [b.kind, b.value, b.limitMax])).toEqual([
      ['shock', 12, 10],
      ['temperature', 9.3, 9],
    ]);
    expect(
      (await listConditions(store.db, { status: 'open', kind: 'shipment.condition_breach', limit: 10 })).map((c) => c.key).sort(),
    ).toEqual(['s1:shock', 's1:temperature']);

    // Back within limits, then a new shock: a second run.
    await send(condition('s1', T0 + 3 * H, 'shock', 2), condition('s1', T0 + 4 * H, 'shock', 11));
    expect(await derived('shipment.condition_breach')).toHaveLength(3);
    await send(delivered('s1', T0 + 10 * H));
    expect(await listConditions(store.db, { status: 'open', limit: 10 })).toEqual([]);
    expect(await listConditions(store.db, { status: 'cleared', kind: 'shipment.condition_breach', limit: 10 })).toHaveLength(2);
  });

  it('configured temperature limits skip goods the catalogue says are not temperature-sensitive', async () => {
    await store.db
      .insertInto('products')
      .values({
        sku: 'BRK-1',
        name: 'Brake pad',
        category: null,
        category_key: null,
        price: 40,
        currency: 'EUR',
        unit_cost: null,
        weight_kg: null,
        hazardous: 0,
        temperature_sensitive: 0,
        attributes: '{}',
        search: 'brk-1\nbrake pad',
        created_ms: T0,
        updated_ms: T0,
      })
      .execute();
    await send(
      {
        ...created('s1', T0, T0 + 30 * H),
        data: { shipment_id: 's1', ...LANE, promised_at: isoTime(T0 + 30 * H), lines: [{ sku: 'BRK-1', quantity: 2 }] },
      },
      created('s2', T0, T0 + 30 * H),
    );
    await send(condition('s1', T0 + H, 'temperature', 15), condition('s2', T0 + H, 'temperature', 15));
    expect((await derived('shipment.condition_breach')).map((e) => dataOf(e).shipment_id)).toEqual(['s2']);
  });

  it('history-mode readings and statuses build state but raise nothing', async () => {
    await send(
      created('s1', T0, T0 + 30 * H, history),
      status('s1', T0 + H, 'exception', history),
      condition('s1', T0 + H, 'shock', 50, {}, history),
    );
    expect(await getShipment(store.db, 's1')).toMatchObject({ status: 'exception', delayed: false });
    expect(await derived('shipment.delayed')).toEqual([]);
    expect(await derived('shipment.condition_breach')).toEqual([]);
    expect(await timers.count()).toBe(0);
  });

  it('a rebuild from the log (tables emptied, log folded again) gives the same shipments, lanes and breaches', async () => {
    await send(...laneHistory([20, 22, 24, 26, 28, 30]));
    clock.set(T0 + 9 * H);
    await send(
      created('s1', T0, T0 + 30 * H),
      status('s1', T0 + H, 'in_transit'),
      ...[2, 3, 4, 5, 6, 7, 8, 9].map((h) => position('s1', T0 + h * H, 50.1, 8.6)),
      condition('s1', T0 + 2 * H, 'shock', 30),
    );
    await send(status('s1', T0 + 9 * H, 'exception'));
    await send(delivered('s1', T0 + 12 * H), delivered('hist-0', T0 - 29 * 86_400_000)); // a late duplicate
    const snapshot = async () => ({
      s1: await getShipment(store.db, 's1'),
      lane: await laneReliability(store.db, LANE.carrier, LANE.origin, LANE.destination),
      lanes: await store.db.selectFrom('shipment_lanes').selectAll().execute(),
      readings: await store.db.selectFrom('shipment_conditions').selectAll().execute(),
      positions: await store.db
        .selectFrom('shipment_positions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    });
    const before = await snapshot();
    expect(before.s1).toMatchObject({
      delayReasons: ['late_prediction', 'stalled', 'exception'], // the trusted stop pushed the P90 past the promise too
      breaches: [{ kind: 'shock', value: 30 }],
      deliveredMs: T0 + 12 * H,
    });
    expect(before.lane).toMatchObject({ deliveredCount: 7 });

    await sub.stop();
    for (const t of module.projections.flatMap((p) => p.tables)) await store.db.deleteFrom(t).execute();
    const all = await log.read(0, 10_000);
    for (let i = 0; i < all.length; i += 7) await applyProjections(store, module.projections, all.slice(i, i + 7));
    const after = await snapshot();
    expect(Number(after.positions?.n)).toBe(0); // s1 is delivered: its fixes are not kept
    expect(after).toEqual(before);
    start();
  });

  it('keeps fixes only while the fold may read them: a delivery drops them, a fix after it is not stored', async () => {
    const fixes = async (id: string) =>
      (await store.db.selectFrom('shipment_positions').select('event_id').where('shipment_id', '=', id).execute()).length;
    await send(created('s1', T0, T0 + 30 * H), created('s2', T0, T0 + 30 * H));
    await send(...[1, 2, 3].map((h) => position('s1', T0 + h * H, 50.1, 8.6)), position('s2', T0 + H, 50.1, 8.6));
    expect([await fixes('s1'), await fixes('s2')]).toEqual([3, 1]);
    const stationary = (await getShipment(store.db, 's1'))?.stationaryFixes;
    expect(stationary).toBe(3);
    // In one batch: a fix, the delivery, then a late fix.
    await send(position('s1', T0 + 4 * H, 50.1, 8.6), delivered('s1', T0 + 5 * H), position('s1', T0 + 6 * H, 50.1, 8.6));
    expect([await fixes('s1'), await fixes('s2')]).toEqual([0, 1]);
    await send(position('s1', T0 + 7 * H, 50.1, 8.6));
    expect(await fixes('s1')).toBe(0);
    const live = await getShipment(store.db, 's1');
    expect(live).toMatchObject({ stationaryFixes: 0, stationarySinceMs: undefined, positionsCount: 6 });

    // A rebuild in other batch sizes reaches the same row.
    await sub.stop();
    for (const t of module.projections.flatMap((p) => p.tables)) await store.db.deleteFrom(t).execute();
    const all = await log.read(0, 10_000);
    for (let i = 0; i < all.length; i += 2) await applyProjections(store, module.projections, all.slice(i, i + 2));
    expect(await getShipment(store.db, 's1')).toEqual(live);
    start();
  });

  it('prunes a shipment to the newest fixes of each source', async () => {
    const rows = (source: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        shipment_id: 's9',
        time_ms: T0 + i * 60_000,
        event_id: `${source}-${i}`,
        source,
        lat: 1,
        lon: 2,
        speed_kmh: null,
      }));
    await store.db
      .insertInto('shipment_positions')
      .values([...rows('gps-a', 6), ...rows('gps-b', 2)])
      .execute();
    await prunePositions(store.db, 's9', 3);
    const left = await store.db.selectFrom('shipment_positions').select('event_id').orderBy('event_id').execute();
    expect(left.map((r) => r.event_id)).toEqual(['gps-a-3', 'gps-a-4', 'gps-a-5', 'gps-b-0', 'gps-b-1']);
    expect([prunePoint(1999, 2000), prunePoint(2499, 2500), prunePoint(2500, 2501), prunePoint(499, 500)]).toEqual([
      false,
      true,
      false,
      false,
    ]);
  });

  it('rejects a bad detectors.shipments section when the module is built', () => {
    expect(() => createShipmentsModule({ log, store, timers, clock }, { stall_hours: -1 })).toThrow(/detectors\.shipments\.stall_hours/);
  });
});
