import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import {
  deleteCarrier,
  deleteProduct,
  findFitment,
  fitsVehicle,
  getCarrier,
  getLane,
  getProduct,
  getProducts,
  getWarehouse,
  type ImportOptions,
  type ImportResult,
  importRecords,
  listLanes,
  listProducts,
  listWarehouses,
  type RecordKind,
} from './index.ts';

const T0 = Date.parse('2026-03-02T08:00:00Z');

const PADS = {
  sku: 'BRK-PAD-F-4471',
  name: 'Front brake pads',
  category: 'Brakes',
  price: 64.9,
  currency: 'eur',
  unit_cost: 31.2,
  weight_kg: 1.4,
  fitment: [
    { make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020, engine: '3.5L V6' },
    { make: 'Ford', model: 'Ranger', year_from: 2019 },
  ],
};
const BATTERY = {
  sku: 'BAT-AGM-70AH',
  name: 'AGM battery 70 Ah',
  category: 'Electrical',
  price: 189,
  hazardous: true,
  attributes: { brand: 'Varta', warranty_years: 4 },
  fitment: [{ make: 'Volkswagen', model: 'Golf', year_from: 2012, year_to: null }],
};

describeEachBackend('catalogue and reference data', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  const put = (kind: RecordKind, items: unknown[], opts?: ImportOptions): Promise<ImportResult> =>
    importRecords(store.db, clock, kind, { format: 'json', items, base: `/${kind}` }, opts);
  const csv = (kind: RecordKind, text: string, opts?: ImportOptions): Promise<ImportResult> =>
    importRecords(store.db, clock, kind, { format: 'csv', text }, opts);

  // One store per backend (opening one per test is slow on PostgreSQL); each test starts from empty tables.
  beforeAll(async () => {
    backend = make();
    store = await backend.open();
  });
  beforeEach(async () => {
    clock = new FakeClock(T0);
    for (const table of ['fitments', 'products', 'lanes', 'carriers', 'warehouses'] as const) await store.db.deleteFrom(table).execute();
  });
  afterAll(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('imports products and reads them back one at a time and in batches', async () => {
    const r = await put('products', [PADS, BATTERY]);
    expect(r).toMatchObject({ received: 2, upserted: 2, created: 2, updated: 0, rejected: 0, errors: [] });

    const pads = await getProduct(store.db, PADS.sku);
    expect(pads).toMatchObject({
      sku: PADS.sku,
      name: 'Front brake pads',
      category: 'Brakes',
      price: 64.9,
      currency: 'EUR',
      unitCost: 31.2,
      weightKg: 1.4,
      hazardous: false,
      temperatureSensitive: false,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(pads?.fitment).toEqual([
      { make: 'Ford', model: 'F-150', yearFrom: 2015, yearTo: 2020, engine: '3.5L V6' },
      { make: 'Ford', model: 'Ranger', yearFrom: 2019, yearTo: undefined, engine: undefined },
    ]);

    const many = await getProducts(store.db, [BATTERY.sku, 'NOPE', PADS.sku, BATTERY.sku]);
    expect([...many.keys()].sort()).toEqual([BATTERY.sku, PADS.sku]);
    expect(many.get(BATTERY.sku)).toMatchObject({ hazardous: true, attributes: { brand: 'Varta', warranty_years: 4 } });
    expect(await getProduct(store.db, 'NOPE')).toBeUndefined();
  });

  it('finds parts for a vehicle inside the year range, boundaries included, and none outside it', async () => {
    await put('products', [PADS, BATTERY]);
    const f150 = (year: number) => findFitment(store.db, { make: 'ford', model: 'f150', year });
    expect(await f150(2014)).toEqual([]);
    expect(await f150(2015)).toEqual([PADS.sku]);
    expect(await f150(2020)).toEqual([PADS.sku]);
    expect(await f150(2021)).toEqual([]);
    // Open-ended ranges run on.
    expect(await findFitment(store.db, { make: 'VW', model: 'golf', year: 2031 })).toEqual([BATTERY.sku]);
    expect(await findFitment(store.db, { make: 'VW', model: 'golf', year: 2011 })).toEqual([]);
  });

  it('matches engines: an entry without one fits all, one with an engine fits that engine and its variants', async () => {
    await put('products', [PADS, { ...BATTERY, sku: 'B2', fitment: [{ make: 'Ford', model: 'F-150', year_from: 2018, year_to: 2018 }] }]);
    const v = (engine?: string) => ({ make: 'Ford', model: 'F-150', year: 2018, engine });
    expect(await findFitment(store.db, v())).toEqual(['B2', PADS.sku]);
    expect(await findFitment(store.db, v('3.5 l v6'))).toEqual(['B2', PADS.sku]);
    expect(await findFitment(store.db, v('3.5L V6 EcoBoost'))).toEqual(['B2', PADS.sku]);
    expect(await findFitment(store.db, v('5.0L V8'))).toEqual(['B2']);
    expect(await fitsVehicle(store.db, PADS.sku, v('5.0L V8'))).toBe(false);
    expect(await fitsVehicle(store.db, PADS.sku, v('3.5L V6'))).toBe(true);
    expect(await fitsVehicle(store.db, 'NOPE', v())).toBe(false);
  });

  it('filters fitment by category and pages through it', async () => {
    const fit = [{ make: 'Ford', model: 'Focus', year_from: 2010, year_to: 2018 }];
    await put('products', [
      { sku: 'A', name: 'a', price: 1, category: 'Brakes', fitment: fit },
      { sku: 'B', name: 'b', price: 1, category: 'Filters', fitment: fit },
      { sku: 'C', name: 'c', price: 1, category: 'brakes', fitment: fit },
    ]);
    const focus = { make: 'Ford', model: 'Focus', year: 2012 };
    expect(await findFitment(store.db, focus, { category: 'BRAKES' })).toEqual(['A', 'C']);
    expect(await findFitment(store.db, focus, { limit: 2 })).toEqual(['A', 'B']);
    expect(await findFitment(store.db, focus, { after: 'B', limit: 2 })).toEqual(['C']);
  });

  it('merges an update: absent fields keep their value, null clears, attributes merge by name, fitment is kept unless given', async () => {
    await put('products', [BATTERY]);
    clock.advance(60_000);
    const r = await put('products', [
      { sku: BATTERY.sku, price: 179, category: null, attributes: { warranty_years: null, colour: 'black' } },
    ]);
    expect(r).toMatchObject({ upserted: 1, created: 0, updated: 1 });
    const p = await getProduct(store.db, BATTERY.sku);
    expect(p).toMatchObject({
      name: 'AGM battery 70 Ah',
      price: 179,
      category: undefined,
      hazardous: true,
      createdAt: T0,
      updatedAt: T0 + 60_000,
    });
    expect(p?.attributes).toEqual({ brand: 'Varta', colour: 'black' });
    expect(p?.fitment).toHaveLength(1);
  });

  it('replaces a product’s fitment when the update carries one, and clears it with an empty list', async () => {
    await put('products', [PADS]);
    await put('products', [{ sku: PADS.sku, fitment: [{ make: 'Toyota', model: 'Hilux', year_from: 2016, year_to: 2023 }] }]);
    expect(await findFitment(store.db, { make: 'Ford', model: 'F-150', year: 2018 })).toEqual([]);
    expect(await findFitment(store.db, { make: 'Toyota', model: 'Hilux', year: 2016 })).toEqual([PADS.sku]);
    await put('products', [{ sku: PADS.sku, fitment: [] }]);
    expect((await getProduct(store.db, PADS.sku))?.fitment).toEqual([]);
  });

  it('applies the valid records and reports each bad one with its row, SKU, code and pointer', async () => {
    const r = await put('products', [
      PADS,
      { sku: 'X-1', name: 'No price' },
      { sku: 'X-2', name: 'Bad', price: -1, colour: 'red', fitment: [{ make: 'Ford', model: 'F-150', year_from: 2020, year_to: 2019 }] },
      { name: 'No SKU', price: 1 },
      'not an object',
      { ...BATTERY, sku: PADS.sku },
    ]);
    expect(r).toMatchObject({ received: 6, upserted: 1, rejected: 5 });
    expect(r.errors).toEqual([
      expect.objectContaining({ row: 1, code: 'PW_CATALOG_FIELD_REQUIRED', pointer: '/products/1/price', sku: 'X-1' }),
      expect.objectContaining({ row: 2, code: 'PW_CATALOG_FIELD_INVALID', pointer: '/products/2/price', sku: 'X-2' }),
      expect.objectContaining({ row: 2, code: 'PW_CATALOG_FITMENT_INVALID', pointer: '/products/2/fitment/0/year_to' }),
      expect.objectContaining({ row: 2, code: 'PW_CATALOG_FIELD_UNKNOWN', pointer: '/products/2/colour' }),
      expect.objectContaining({ row: 3, code: 'PW_CATALOG_FIELD_REQUIRED', pointer: '/products/3/sku' }),
      expect.objectContaining({ row: 4, code: 'PW_CATALOG_FIELD_INVALID', pointer: '/products/4' }),
      expect.objectContaining({ row: 5, code: 'PW_CATALOG_DUPLICATE_KEY', pointer: '/products/5/sku', sku: PADS.sku }),
    ]);
    expect((await getProducts(store.db, [PADS.sku, 'X-1', 'X-2'])).size).toBe(1);
    // An update needs no name or price: the SKU exists now.
    expect(await put('products', [{ sku: PADS.sku, weight_kg: 1.5 }])).toMatchObject({ upserted: 1, rejected: 0 });
  });

  it('lists at most 1,000 errors but counts every rejected record', async () => {
    const r = await put(
      'products',
      Array.from({ length: 1200 }, (_, i) => ({ sku: `S-${i}`, name: 'x', price: -1 })),
      { dryRun: true },
    );
    expect(r).toMatchObject({ rejected: 1200, upserted: 0, errorsTruncated: true });
    expect(r.errors).toHaveLength(1000);
  });

  it('reads CSV rows with typed cells, compact fitment and attribute columns, reporting spreadsheet rows and lines', async () => {
    const text = [
      'sku,name,category,price,currency,unit_cost,weight_kg,hazardous,temperature_sensitive,fitment,attributes.brand',
      'BRK-1,"Pads, front",Brakes,64.90,EUR,31.2,1.4,no,no,"Ford|F-150|2015-2020|3.5L;Ford|Ranger|2019-",Brembo',
      'BRK-2,Pads rear,Brakes,"12,50",EUR,,,maybe,,,',
      'BRK-3,Pads,Brakes,10,,,,,,Ford|Focus|20x5,"Multi',
      'line"',
      'BRK-4,Too short,Brakes',
    ].join('\n');
    const r = await csv('products', text);
    expect(r).toMatchObject({ received: 4, upserted: 1, rejected: 3 });
    expect(r.errors).toEqual([
      {
        row: 3,
        line: 3,
        key: 'BRK-2',
        sku: 'BRK-2',
        code: 'PW_CATALOG_FIELD_INVALID',
        pointer: '/price',
        message: expect.stringMatching(/decimal point/),
      },
      expect.objectContaining({ row: 3, code: 'PW_CATALOG_FIELD_INVALID', pointer: '/hazardous' }),
      expect.objectContaining({ row: 4, line: 4, code: 'PW_CATALOG_FITMENT_INVALID', pointer: '/fitment/0' }),
      expect.objectContaining({
        row: 5,
        line: 6,
        sku: 'BRK-4',
        code: 'PW_CATALOG_CSV_ROW',
        pointer: '',
        message: 'the row has 3 fields; the header has 11',
      }),
    ]);
    const p = await getProduct(store.db, 'BRK-1');
    expect(p).toMatchObject({ name: 'Pads, front', price: 64.9, hazardous: false, attributes: { brand: 'Brembo' } });
    expect(p?.fitment.map((f) => [f.model, f.yearFrom, f.yearTo ?? null, f.engine ?? null])).toEqual([
      ['F-150', 2015, 2020, '3.5L'],
      ['Ranger', 2019, null, null],
    ]);
  });

  it('rejects a CSV header with unknown or missing columns before reading any row', async () => {
    await expect(csv('products', 'sku,name,prise\nA,a,1\n')).rejects.toMatchObject({
      code: 'PW_CATALOG_CSV_HEADER',
      message: expect.stringMatching(/"prise"/),
    });
    await expect(csv('products', 'name,price\na,1\n')).rejects.toMatchObject({
      code: 'PW_CATALOG_CSV_HEADER',
      message: expect.stringMatching(/sku/),
    });
    await expect(csv('products', 'sku,name,price\n')).rejects.toMatchObject({ code: 'PW_CATALOG_EMPTY' });
    expect(await listProducts(store.db)).toEqual([]);
  });

  it('writes nothing on a dry run but counts what would happen', async () => {
    const r = await put('products', [PADS, BATTERY], { dryRun: true });
    expect(r).toMatchObject({ upserted: 2, created: 2, dryRun: true });
    expect(await listProducts(store.db)).toEqual([]);
  });

  it('in replace mode deletes SKUs the input does not name, but not when a row was rejected', async () => {
    await put('products', [PADS, BATTERY, { sku: 'OLD', name: 'old', price: 1 }]);
    const refused = await put('products', [PADS, { sku: 'BAD', name: 'bad', price: 'free' }], { mode: 'replace' });
    expect(refused).toMatchObject({ upserted: 1, rejected: 1, deleted: 0, replaceSkipped: true });
    expect((await listProducts(store.db)).map((p) => p.sku)).toEqual([BATTERY.sku, PADS.sku, 'OLD']);

    const dry = await put('products', [PADS], { mode: 'replace', dryRun: true });
    expect(dry).toMatchObject({ deleted: 2 });
    expect(await listProducts(store.db)).toHaveLength(3);

    const r = await put('products', [PADS], { mode: 'replace' });
    expect(r).toMatchObject({ upserted: 1, deleted: 2, replaceSkipped: false });
    expect((await listProducts(store.db)).map((p) => p.sku)).toEqual([PADS.sku]);
    expect(await findFitment(store.db, { make: 'VW', model: 'Golf', year: 2015 })).toEqual([]);
  });

  it('lists products by category and search text, a page at a time, and deletes one with its fitment', async () => {
    await put('products', [PADS, BATTERY, { sku: 'BRK-DISC-1', name: 'Brake disc 300mm', category: 'brakes', price: 80 }]);
    expect((await listProducts(store.db, { category: 'BRAKES' })).map((p) => p.sku)).toEqual(['BRK-DISC-1', PADS.sku]);
    expect((await listProducts(store.db, { q: 'BRAKE' })).map((p) => p.sku)).toEqual(['BRK-DISC-1', PADS.sku]);
    expect((await listProducts(store.db, { q: '70ah' })).map((p) => p.sku)).toEqual([BATTERY.sku]);
    expect((await listProducts(store.db, { q: '100%' })).map((p) => p.sku)).toEqual([]);
    const first = await listProducts(store.db, { limit: 2 });
    expect(first.map((p) => p.sku)).toEqual([BATTERY.sku, 'BRK-DISC-1']);
    expect((await listProducts(store.db, { limit: 2, after: 'BRK-DISC-1' })).map((p) => p.sku)).toEqual([PADS.sku]);

    expect(await deleteProduct(store.db, PADS.sku)).toBe(true);
    expect(await deleteProduct(store.db, PADS.sku)).toBe(false);
    expect(await findFitment(store.db, { make: 'Ford', model: 'F-150', year: 2016 })).toEqual([]);
  });

  it('keeps warehouses, carriers and lanes, with lane transit priors looked up by carrier, origin and destination', async () => {
    expect(
      await put('warehouses', [
        { id: 'DE-HAM-1', name: 'Hamburg', country: 'de', lat: 53.55, lon: 9.99, timezone: 'Europe/Berlin', cutoff_time: '15:00' },
        { id: 'DE-MUC-1', name: 'Munich', lat: 48.1 },
        { id: 'X', name: 'Nowhere', timezone: 'Mars/Olympus' },
      ]),
    ).toMatchObject({
      upserted: 1,
      rejected: 2,
      errors: [
        expect.objectContaining({ row: 1, key: 'DE-MUC-1', pointer: '/warehouses/1/lon', message: expect.stringMatching(/together/) }),
        expect.objectContaining({ row: 2, key: 'X', pointer: '/warehouses/2/timezone' }),
      ],
    });
    expect(await getWarehouse(store.db, 'DE-HAM-1')).toMatchObject({
      country: 'DE',
      lat: 53.55,
      cutoffTime: '15:00',
      timezone: 'Europe/Berlin',
    });
    expect((await listWarehouses(store.db)).map((w) => w.id)).toEqual(['DE-HAM-1']);

    await put('carriers', [{ id: 'dhl', name: 'DHL Paket', tracking_url: 'https://www.dhl.de/track?piececode={tracking_number}' }]);
    expect(await getCarrier(store.db, 'dhl')).toMatchObject({
      name: 'DHL Paket',
      trackingUrl: 'https://www.dhl.de/track?piececode={tracking_number}',
    });

    const lanes = await put('lanes', [
      {
        carrier_id: 'dhl',
        origin: 'DE-HAM-1',
        destination: 'DE-BY',
        transit_hours_p50: 24,
        transit_hours_p90: 48,
        cost: 4.9,
        currency: 'EUR',
      },
      { carrier_id: 'ups', origin: 'DE-HAM-1', destination: 'DE-BY', transit_hours_p50: 30 },
      { carrier_id: 'dhl', origin: 'DE-HAM-1', destination: 'AT', transit_hours_p50: 50, transit_hours_p90: 40 },
    ]);
    expect(lanes.errors.map((e) => [e.row, e.key, e.code, e.pointer])).toEqual([
      [1, 'ups/DE-HAM-1/DE-BY', 'PW_LANE_CARRIER_UNKNOWN', '/lanes/1/carrier_id'],
      [2, 'dhl/DE-HAM-1/AT', 'PW_CATALOG_FIELD_INVALID', '/lanes/2/transit_hours_p90'],
    ]);
    expect(await getLane(store.db, 'dhl', 'DE-HAM-1', 'DE-BY')).toMatchObject({
      carrierId: 'dhl',
      origin: 'DE-HAM-1',
      destination: 'DE-BY',
      transitHoursP50: 24,
      transitHoursP90: 48,
      cost: 4.9,
    });
    expect(await getLane(store.db, 'dhl', 'DE-BY', 'DE-HAM-1')).toBeUndefined();

    // Upsert by the three-part key.
    await put('lanes', [{ carrier_id: 'dhl', origin: 'DE-HAM-1', destination: 'DE-BY', transit_hours_p90: 36 }]);
    expect(await getLane(store.db, 'dhl', 'DE-HAM-1', 'DE-BY')).toMatchObject({ transitHoursP50: 24, transitHoursP90: 36 });
    expect(await listLanes(store.db, { origin: 'DE-HAM-1' })).toHaveLength(1);

    expect(await deleteCarrier(store.db, 'dhl')).toBe(true);
    expect(await listLanes(store.db)).toEqual([]);
  });
});
