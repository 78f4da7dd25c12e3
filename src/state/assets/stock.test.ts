import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { deterministicId, FakeClock, isoTime } from '../../core/index.ts';
import { createConditionsProjection, type Detector, listConditions, openTimerStore, type Projection } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type EventLog, type LoggedEvent, openEventLog } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { applyProjections } from '../index.ts';
import { availability, createAssetsModule, getStock, STOCK_LOW, STOCK_REPLENISHED, type StockLevel } from './index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-02T00:00:00Z');
const PADS = 'BRK-PAD-F-4471';
const HAM = 'DE-HAM-1';
const MUC = 'DE-MUC-2';
const shelf = (warehouse: string, sku: string) => `urn:dev:mac:0024befffe804ff1:shelf:${warehouse}:${sku}`;

const SETTINGS = {
  stock: {
    default_warehouse: HAM,
    unit_weight_kg: { [PADS]: 2 },
    sensors: { 'urn:dev:mac:aa01:w1': { sku: 'BAT-AGM-70AH', warehouse: HAM, unit_weight_kg: 19, tare_kg: 1 } },
  },
  stock_low: { reorder_point: 10, days_of_cover: null },
};

let n = 0;
function reading(name: string, v: number, atMs: number, u?: string, ext: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: ext.id ?? `r${++n}`,
    source: 'pitwall:device/scale-1',
    type: 'sensor.reading',
    time: isoTime(atMs),
    data: { n: name, v, t: atMs / 1000, ...(u !== undefined ? { u } : {}) },
    ...ext,
  };
}
function order(
  id: string,
  orderId: string,
  atMs: number,
  products: Record<string, unknown>[],
  props: Record<string, unknown> = {},
): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'shop',
    type: 'commerce.order_completed',
    time: isoTime(atMs),
    userid: 'u1',
    data: { event: 'Order Completed', properties: { order_id: orderId, products, ...props } },
  };
}
function shipment(
  id: string,
  shipmentId: string,
  atMs: number,
  origin: string,
  orderId: string | undefined,
  lines: { sku: string; quantity: number }[],
) {
  return {
    specversion: '1.0',
    id,
    source: 'carrier',
    type: 'shipment.created',
    time: isoTime(atMs),
    data: {
      shipment_id: shipmentId,
      carrier: 'dhl',
      origin,
      destination: 'DE-BY',
      promised_at: isoTime(atMs + 2 * DAY),
      ...(orderId !== undefined ? { order_id: orderId } : {}),
      lines,
    },
  } satisfies CloudEvent;
}

describeEachBackend('assets: stock projection + stock.low', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let clock: FakeClock;
  let projections: Projection[];
  let detectors: readonly Detector[];
  let pos: number;

  /** The module built from `settings`, on a fresh empty store (or on the same one: tests then use other SKUs). */
  const setup = async (settings: unknown, sameStore = false) => {
    if (!sameStore) {
      await teardown();
      backend = make();
      store = await backend.open();
      log = openEventLog(store, clock);
      pos = 0;
    }
    const mod = createAssetsModule({ log, store, timers: openTimerStore(store, clock), clock }, settings);
    projections = [...mod.projections, createConditionsProjection(mod.detectors.flatMap((d) => d.conditions ?? []))];
    detectors = mod.detectors;
  };
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
  const send = async (...events: CloudEvent[]) => {
    await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
    await drain();
  };
  const derived = async (type: string) => (await log.query({ type, order: 'asc', limit: 100 })).map((l) => l.event);
  const at = async (sku: string, warehouse: string) => (await getStock(store.db, sku)).find((l) => l.warehouse === warehouse);

  const teardown = async () => {
    await log?.close();
    await store?.close();
    await backend?.cleanup();
  };
  beforeEach(async () => {
    clock = new FakeClock(T0);
    await setup(SETTINGS);
  });
  afterEach(teardown);

  it('a shelf reading is absolute: kg become units, the latest by event time wins, an older one arriving late changes nothing', async () => {
    await send(reading(shelf(HAM, PADS), 40.2, T0, 'kg'));
    expect(await at(PADS, HAM)).toMatchObject({ onHand: 20, reserved: 0, available: 20, readingAt: T0 });
    await send(reading(shelf(HAM, PADS), 30, T0 + HOUR, 'kg'));
    await send(reading(shelf(HAM, PADS), 50, T0 + HOUR / 2, 'kg')); // older, arrives late
    await send(reading(shelf(HAM, PADS), 30000, T0 + HOUR, 'g', { id: 'same-reading-other-id' }));
    expect(await at(PADS, HAM)).toMatchObject({ onHand: 15, readingAt: T0 + HOUR });

    // An RFID count (no unit) in another warehouse; a mapped sensor with tare; readings that are not stock.
    await send(
      reading(`urn:epc:reader:7:rfid:${MUC}:${PADS}`, 12, T0 + HOUR),
      reading('urn:dev:mac:aa01:w1', 39, T0 + HOUR, 'kg'),
      reading(shelf(HAM, PADS), 21, T0 + 2 * HOUR, 'Cel'),
      reading(shelf(HAM, 'NO-WEIGHT-SKU'), 21, T0 + 2 * HOUR, 'kg'),
    );
    expect((await getStock(store.db, PADS)).map((l) => [l.warehouse, l.onHand])).toEqual([
      [HAM, 15],
      [MUC, 12],
    ]);
    expect(await at('BAT-AGM-70AH', HAM)).toMatchObject({ onHand: 2 });
    expect(await getStock(store.db, 'NO-WEIGHT-SKU')).toEqual([]);
  });

  it('an order reserves once although its batch is replayed and it is resent; a shipment releases it and counts as picked until the next reading', async () => {
    await send(reading(shelf(HAM, PADS), 40, T0, 'kg'));
    await send(
      order('o1', 'ord-1', T0 + HOUR, [
        { sku: PADS, quantity: 2, category: 'Brakes/Pads' },
        { sku: PADS, quantity: 1 },
      ]),
    );
    expect(await at(PADS, HAM)).toMatchObject({ onHand: 20, reserved: 3, available: 17, category: 'Brakes/Pads' });

    // The consumer crashed before its ack: every batch comes again (projections and detectors).
    const all = await log.read(0, 100);
    await applyProjections(store, projections, all);
    for (const d of detectors) await d.onEvents?.(all);
    // The shop resends the same order under another message id.
    await send(order('o1-resent', 'ord-1', T0 + HOUR + 1000, [{ sku: PADS, quantity: 3, category: 'Brakes/Pads' }]));
    expect(await at(PADS, HAM)).toMatchObject({ reserved: 3, available: 17 });

    // An order naming its warehouse reserves there (on hand unknown until a sensor reports).
    await send(order('o2', 'ord-2', T0 + HOUR, [{ sku: PADS, quantity: 2 }], { warehouse: MUC }));
    expect(await at(PADS, MUC)).toMatchObject({ onHand: null, reserved: 2, available: null, daysOfCover: null });

    await send(shipment('s1', 'shp-1', T0 + 2 * HOUR, HAM, 'ord-1', [{ sku: PADS, quantity: 3 }]));
    expect(await at(PADS, HAM)).toMatchObject({ onHand: 17, reserved: 0, available: 17 });
    await send(reading(shelf(HAM, PADS), 34, T0 + 3 * HOUR, 'kg'));
    expect(await at(PADS, HAM)).toMatchObject({ onHand: 17, reserved: 0 });

    // A shipment folded before its order: the order arrives already shipped.
    await send(shipment('s3', 'shp-3', T0 + 5 * HOUR, HAM, 'ord-3', [{ sku: PADS, quantity: 1 }]));
    await send(order('o3', 'ord-3', T0 + 4 * HOUR, [{ sku: PADS, quantity: 1 }]));
    expect(await at(PADS, HAM)).toMatchObject({ onHand: 16, reserved: 0, available: 16 });

    const a = (await availability(store.db, [PADS, 'UNKNOWN'])).get(PADS);
    expect(a).toMatchObject({ onHand: 16, reserved: 2, available: 16 });
    expect((await availability(store.db, ['UNKNOWN'])).get('UNKNOWN')).toMatchObject({ onHand: null, available: null, warehouses: [] });
  });

  it('days of cover from orders: 3 a day for 10 days, 60 on the shelf → 20 days', async () => {
    const events: CloudEvent[] = [];
    for (let d = 0; d < 10; d++) {
      events.push(order(`o${d}`, `ord-${d}`, T0 + d * DAY, [{ sku: PADS, quantity: 3 }]));
      events.push(shipment(`s${d}`, `shp-${d}`, T0 + d * DAY + HOUR, HAM, `ord-${d}`, [{ sku: PADS, quantity: 3 }]));
    }
    events.push(reading(shelf(HAM, PADS), 120, T0 + 10 * DAY, 'kg'));
    await send(...events);
    expect(await at(PADS, HAM)).toMatchObject({
      onHand: 60,
      reserved: 0,
      dailyDepletion: 3,
      depletionBasis: 'orders',
      daysOfCover: 20,
      updatedAt: T0 + 10 * DAY,
    });
  });

  it('days of cover from readings: decreases count, a restock does not', async () => {
    const events: CloudEvent[] = [];
    for (let k = 0; k <= 20; k++) events.push(reading(`urn:x:rfid:${HAM}:${PADS}`, k <= 10 ? 100 - k : 150 - k, T0 + k * 6 * HOUR));
    await send(...events.reverse()); // newest first: the result does not depend on the order
    const level = (await at(PADS, HAM)) as StockLevel;
    // 10 + 9 units consumed over 5 days (the restock step hides one).
    expect(level).toMatchObject({ onHand: 130, dailyDepletion: 3.8, depletionBasis: 'readings' });
    expect(level.daysOfCover).toBeCloseTo(130 / 3.8, 5);
  });

  it('stock.low fires once per episode, with hysteresis, and stock.replenished clears its condition', async () => {
    const values = [20, 9, 8, 11, 9, 12, 13, 5];
    const ids: string[] = [];
    for (const [i, v] of values.entries()) {
      const r = reading(`urn:x:rfid:${HAM}:${PADS}`, v, T0 + i * HOUR);
      ids.push(r.id);
      clock.set(T0 + i * HOUR);
      await send(r);
    }
    const low = await derived(STOCK_LOW);
    expect(low.map((e) => [e.id, (e.data as { episode: number }).episode, (e.data as { caused_by: string[] }).caused_by])).toEqual([
      [deterministicId(`pitwall.${STOCK_LOW}`, PADS, HAM, 1), 1, [ids[1]]],
      [deterministicId(`pitwall.${STOCK_LOW}`, PADS, HAM, 2), 2, [ids[7]]],
    ]);
    expect(low[0]).toMatchObject({
      source: 'pitwall:detector/stock-low',
      data: { sku: PADS, warehouse: HAM, on_hand: 9, available: 9, reorder_point: 10, reasons: ['reorder_point'] },
    });
    const replenished = await derived(STOCK_REPLENISHED);
    expect(replenished.map((e) => [(e.data as { episode: number }).episode, (e.data as { caused_by: string[] }).caused_by])).toEqual([
      [1, [ids[5]]],
    ]);

    const conditions = await listConditions(store.db, { kind: STOCK_LOW, limit: 10 });
    expect(conditions.map((c) => [c.key, c.status])).toEqual([
      [`${PADS}@${HAM}`, 'raised'],
      [`${PADS}@${HAM}`, 'cleared'],
    ]);
    expect(await at(PADS, HAM)).toMatchObject({ low: true, lowEpisodes: 2, lowSince: T0 + 7 * HOUR });

    // Replaying every batch (projections and detectors) changes nothing and appends nothing new.
    const head = await log.head();
    const before = await getStock(store.db, PADS);
    const all = await log.read(0, 1000);
    await applyProjections(store, projections, all);
    for (const d of detectors) await d.onEvents?.(all);
    await drain();
    expect(await log.head()).toBe(head);
    expect(await getStock(store.db, PADS)).toEqual(before);

    // Rebuild (as `pitwall state rebuild`): empty the tables, fold the log through the projections only.
    for (const t of new Set(projections.flatMap((p) => p.tables))) await store.db.deleteFrom(t).execute();
    for (let at = 0; ; ) {
      const batch = await log.read(at, 3);
      if (batch.length === 0) break;
      await applyProjections(store, projections, batch);
      at = (batch[batch.length - 1] as LoggedEvent).seq;
    }
    expect(await getStock(store.db, PADS)).toEqual(before);
    expect((await listConditions(store.db, { kind: STOCK_LOW, limit: 10 })).map((c) => c.status)).toEqual(['raised', 'cleared']);
  });

  it('thresholds by category and from the catalogue (attributes.reorder_point); days of cover by default', async () => {
    await setup({ stock: SETTINGS.stock, stock_low: { categories: { 'Brakes/Pads': { reorder_point: 30 } } } });
    await store.db
      .insertInto('products')
      .values({
        sku: 'BAT-AGM-70AH',
        name: 'AGM 70 Ah',
        category: 'Electrical/Batteries',
        category_key: 'electrical/batteries',
        price: 189,
        attributes: JSON.stringify({ reorder_point: 50 }),
        search: 'bat-agm-70ah',
        hazardous: 0,
        temperature_sensitive: 0,
        created_ms: T0,
        updated_ms: T0,
      })
      .execute();
    await send(
      order('o1', 'ord-1', T0, [{ sku: PADS, quantity: 1, category: 'Brakes/Pads' }]),
      shipment('s1', 'shp-1', T0, HAM, 'ord-1', [{ sku: PADS, quantity: 1 }]),
    );
    await send(reading(shelf(HAM, PADS), 50, T0 + HOUR, 'kg'), reading('urn:dev:mac:aa01:w1', 39 * 19 + 1, T0 + HOUR, 'kg'));
    expect(
      (await derived(STOCK_LOW)).map((e) => [(e.data as { sku: string }).sku, (e.data as { reorder_point: number }).reorder_point]),
    ).toEqual([
      [PADS, 30],
      ['BAT-AGM-70AH', 50],
    ]);

    // Default rule: 3 days of cover. 10 a day for 2 days, 25 left → 2.5 days.
    await setup({ stock: { default_warehouse: HAM } }, true);
    await send(
      order('o1', 'ord-1', T0, [{ sku: 'X', quantity: 10 }]),
      order('o2', 'ord-2', T0 + DAY, [{ sku: 'X', quantity: 10 }]),
      shipment('s1', 'shp-1', T0, HAM, 'ord-1', [{ sku: 'X', quantity: 10 }]),
      shipment('s2', 'shp-2', T0 + DAY, HAM, 'ord-2', [{ sku: 'X', quantity: 10 }]),
    );
    await send(reading(`urn:x:rfid:${HAM}:X`, 25, T0 + 2 * DAY));
    expect((await derived(STOCK_LOW))[2]?.data).toMatchObject({
      sku: 'X',
      days_of_cover: 2.5,
      cover_threshold_days: 3,
      reasons: ['days_of_cover'],
    });
  });

  it('history events build stock but emit nothing; the next live event judges the state they built', async () => {
    await send(reading(`urn:x:rfid:${HAM}:${PADS}`, 5, T0, undefined, { pitwallhistory: true }));
    expect(await at(PADS, HAM)).toMatchObject({ onHand: 5, low: false });
    expect(await derived(STOCK_LOW)).toEqual([]);
    await send(order('o1', 'ord-1', T0 + HOUR, [{ sku: PADS, quantity: 1 }]));
    expect((await derived(STOCK_LOW)).map((e) => (e.data as { available: number }).available)).toEqual([4]);
  });

  it('rejects bad settings with PW_CONFIG_INVALID naming the field', async () => {
    const ctx = { log, store, timers: openTimerStore(store, clock), clock };
    expect(() => createAssetsModule(ctx, { stock: { window_days: 0 } })).toThrow(/detectors\.assets\.stock\.window_days: must be > 0/);
    expect(() => createAssetsModule(ctx, { stock_low: { reorder_pont: 3 } })).toThrow(
      /detectors\.assets\.stock_low\.reorder_pont: unknown setting/,
    );
  });

  it('out-of-order and re-batched inputs give the same stock as ordered ones (property)', async () => {
    await setup({ stock: { default_warehouse: HAM, window_days: 5, reservation_hold_days: 3 } }, true);
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('reading' as const),
        sensor: fc.constantFrom('a', 'b', 'c'),
        h: fc.integer({ min: 0, max: 240 }),
        v: fc.integer({ min: 0, max: 60 }),
      }),
      fc.record({
        kind: fc.constant('order' as const),
        order: fc.constantFrom('o1', 'o2', 'o3', 'o4'),
        h: fc.integer({ min: 0, max: 240 }),
        sku: fc.constantFrom('P', 'Q'),
        qty: fc.integer({ min: 1, max: 5 }),
        wh: fc.constantFrom(HAM, MUC),
      }),
      fc.record({
        kind: fc.constant('shipment' as const),
        shipment: fc.constantFrom('s1', 's2', 's3'),
        order: fc.constantFrom('o1', 'o2', 'o3', 'o4'),
        h: fc.integer({ min: 0, max: 240 }),
        sku: fc.constantFrom('P', 'Q'),
        qty: fc.integer({ min: 1, max: 5 }),
        wh: fc.constantFrom(HAM, MUC),
      }),
    );
    const sensors: Record<string, [string, string]> = { a: ['P', HAM], b: ['P', HAM], c: ['Q', MUC] };
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.infiniteStream(fc.integer({ min: 1, max: 6 })),
        fc.integer(),
        async (ops, cuts, seed) => {
          run++;
          const events = (ns: string) =>
            ops.map((o, i): CloudEvent => {
              const t = T0 + o.h * HOUR;
              const id = `${ns}-${String(i).padStart(3, '0')}`;
              if (o.kind === 'reading') {
                const [sku, wh] = sensors[o.sensor] as [string, string];
                return reading(`urn:${ns}:${o.sensor}:rfid:${wh}:${ns}${sku}`, o.v, t, undefined, { id });
              }
              if (o.kind === 'order')
                return order(id, `${ns}${o.order}`, t, [{ sku: `${ns}${o.sku}`, quantity: o.qty }], { warehouse: o.wh });
              return shipment(id, `${ns}${o.shipment}`, t, o.wh, `${ns}${o.order}`, [{ sku: `${ns}${o.sku}`, quantity: o.qty }]);
            });
          const fold = async (evs: CloudEvent[]) => {
            let seq = run * 1000;
            let i = 0;
            while (i < evs.length) {
              const size = cuts.next().value as number;
              const batch = evs.slice(i, i + size).map((event): LoggedEvent => ({ seq: ++seq, event, receivedAt: T0, history: false }));
              await applyProjections(store, projections, batch);
              i += size;
            }
          };
          const a = `a${run}`;
          const b = `b${run}`;
          await fold(events(a).sort((x, y) => Date.parse(x.time) - Date.parse(y.time) || x.id.localeCompare(y.id)));
          let s = seed;
          const shuffled = events(b);
          for (let i = shuffled.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            const j = s % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j] as CloudEvent, shuffled[i] as CloudEvent];
          }
          await fold(shuffled);
          const strip = (ns: string, xs: StockLevel[]) =>
            xs.map(({ position: _p, sku, ...rest }) => ({ ...rest, sku: sku.slice(ns.length) }));
          for (const sku of ['P', 'Q'])
            expect(strip(b, await getStock(store.db, `${b}${sku}`))).toEqual(strip(a, await getStock(store.db, `${a}${sku}`)));
        },
      ),
      { numRuns: backend.name === 'postgres' ? 25 : Number(process.env.ASSETS_RUNS ?? 50) },
    );
  });
});
