/**
 * The catalogue and reference-data routes on a real server: JSON and CSV imports with
 * per-row errors, fitment lookups, scopes, and warehouses / carriers / lanes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-04-01T10:00:00Z'));
let server: TestServer;
let url: string;
let admin: string;
let reader: string;
let ingestOnly: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'catalog', clock });
  url = server.pw.httpUrl;
  const db = server.pw.store.db;
  admin = (await createKey(db, clock, { name: 'admin', scopes: ['admin'] })).key;
  reader = (await createKey(db, clock, { name: 'read', scopes: ['read'] })).key;
  ingestOnly = (await createKey(db, clock, { name: 'ingest', scopes: ['ingest'] })).key;
});
afterAll(async () => {
  await server?.close();
});

interface Res {
  status: number;
  type: string;
  body: Record<string, unknown> & { errors?: Record<string, unknown>[] };
}

async function call(
  method: string,
  path: string,
  opts: { key?: string; json?: unknown; body?: string | Uint8Array; type?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
  let body: string | Uint8Array | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json';
  }
  if (opts.type) headers['content-type'] = opts.type;
  const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : {} };
}

const PADS = {
  sku: 'BRK-PAD-F-4471',
  name: 'Front brake pads',
  category: 'Brakes',
  price: 64.9,
  currency: 'EUR',
  unit_cost: 31.2,
  weight_kg: 1.4,
  fitment: [{ make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020, engine: '3.5L' }],
};

describe('PUT /v1/catalog', () => {
  it('imports JSON products and serves them with fitment and margin', async () => {
    const r = await call('PUT', '/v1/catalog', { key: admin, json: { products: [PADS] } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'products', received: 1, upserted: 1, created: 1, rejected: 0, errors: [] });

    const p = await call('GET', `/v1/catalog/products/${PADS.sku}`, { key: reader });
    expect(p.status).toBe(200);
    expect(p.body).toEqual({
      sku: PADS.sku,
      name: 'Front brake pads',
      category: 'Brakes',
      price: 64.9,
      currency: 'EUR',
      unit_cost: 31.2,
      margin: 33.7,
      margin_rate: 0.5193,
      weight_kg: 1.4,
      hazardous: false,
      temperature_sensitive: false,
      attributes: {},
      fitment: [{ make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020, engine: '3.5L' }],
      created_at: '2026-04-01T10:00:00.000Z',
      updated_at: '2026-04-01T10:00:00.000Z',
    });
    // What GET returns can be sent back as it is (read-only fields are ignored), also as a merge patch.
    expect((await call('PUT', '/v1/catalog', { key: admin, json: [p.body] })).body).toMatchObject({ upserted: 1, updated: 1 });
    const patch = await call('PUT', '/v1/catalog', {
      key: admin,
      body: JSON.stringify([{ sku: PADS.sku, weight_kg: 1.4 }]),
      type: 'application/merge-patch+json',
    });
    expect(patch.body).toMatchObject({ upserted: 1, updated: 1 });
  });

  it('imports CSV (BOM, ";" delimiter, quoted fitment) and reports bad rows with spreadsheet row, line and pointer', async () => {
    const text =
      '\uFEFFsku;name;category;price;currency;fitment;attributes.brand\r\n' +
      'CSV-1;Oil filter;Filters;9.90;EUR;"VW|Golf|2012-2019|2.0 TDI;VW|Passat|2015-";Mann\r\n' +
      'CSV-2;Air filter;Filters;cheap;EUR;;\r\n' +
      'CSV-3;Cabin filter;Filters;12;EURO;Ford|Focus|2018-2012;\r\n';
    const r = await call('PUT', '/v1/catalog', { key: admin, body: text, type: 'text/csv; charset=utf-8' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ received: 3, upserted: 1, rejected: 2 });
    expect(r.body.errors).toEqual([
      {
        row: 3,
        line: 3,
        key: 'CSV-2',
        sku: 'CSV-2',
        code: 'PW_CATALOG_FIELD_INVALID',
        pointer: '/price',
        message: 'price must be a number, not "cheap"',
      },
      expect.objectContaining({ row: 4, sku: 'CSV-3', code: 'PW_CATALOG_FIELD_INVALID', pointer: '/currency' }),
      expect.objectContaining({ row: 4, sku: 'CSV-3', code: 'PW_CATALOG_FITMENT_INVALID', pointer: '/fitment/0/year_to' }),
    ]);
    const p = await call('GET', '/v1/catalog/products/CSV-1', { key: reader });
    expect(p.body).toMatchObject({ price: 9.9, attributes: { brand: 'Mann' } });
    expect(p.body.fitment).toHaveLength(2);
  });

  it('answers 422 with the per-row errors when no row could be applied', async () => {
    const r = await call('PUT', '/v1/catalog', {
      key: admin,
      json: {
        products: [
          { sku: 'NEW-1', price: 3 },
          { sku: 'NEW-2', name: 'x', price: -3 },
        ],
      },
    });
    expect(r.status).toBe(422);
    expect(r.type).toContain('application/problem+json');
    expect(r.body).toMatchObject({ code: 'PW_CATALOG_REJECTED', status: 422, upserted: 0, rejected: 2 });
    expect(r.body.errors?.map((e) => [e.row, e.code, e.pointer])).toEqual([
      [0, 'PW_CATALOG_FIELD_REQUIRED', '/products/0/name'],
      [1, 'PW_CATALOG_FIELD_INVALID', '/products/1/price'],
    ]);
  });

  it('refuses bodies it cannot read with a problem, never a 500', async () => {
    const cases: [Parameters<typeof call>[2], number, string][] = [
      [{ key: admin, body: '{"products": [', type: 'application/json' }, 400, 'PW_BODY_MALFORMED'],
      [{ key: admin, json: { items: [] } }, 400, 'PW_BODY_MALFORMED'],
      [{ key: admin, json: { products: [] } }, 422, 'PW_CATALOG_EMPTY'],
      [{ key: admin, body: 'sku,name,price,colour\nA,a,1,red\n', type: 'text/csv' }, 422, 'PW_CATALOG_CSV_HEADER'],
      [{ key: admin, body: new Uint8Array([0x73, 0x6b, 0x75, 0x0a, 0xff, 0xfe]), type: 'text/csv' }, 400, 'PW_BODY_MALFORMED'],
      [{ key: admin, body: '<products/>', type: 'application/xml' }, 415, 'PW_MEDIA_TYPE'],
      [{ key: admin, body: '[{"sku": 1', type: 'application/merge-patch+json' }, 400, 'PW_BODY_MALFORMED'],
    ];
    for (const [opts, status, code] of cases) {
      const r = await call('PUT', '/v1/catalog', opts);
      expect([r.status, r.body.code]).toEqual([status, code]);
    }
    const q = await call('PUT', '/v1/catalog?mode=wipe', { key: admin, json: [PADS] });
    expect([q.status, q.body.code, q.body.pointer]).toEqual([400, 'PW_QUERY_INVALID', '/mode']);
  });

  it('answers 413 over the 16 MiB limit', async () => {
    const big = `sku,name,price\n${'A,'.padEnd(16 * 1024 * 1024 + 10, 'x')},1\n`;
    const r = await call('PUT', '/v1/catalog', { key: admin, body: big, type: 'text/csv' });
    expect([r.status, r.body.code]).toEqual([413, 'PW_BODY_TOO_LARGE']);
  });

  it('treats names of Object.prototype members as unknown fields, not as rules', async () => {
    const r = await call('PUT', '/v1/catalog', {
      key: admin,
      json: [{ sku: 'P-1', name: 'x', price: 1, valueOf: 0, fitment: [{ make: 'constructor', model: 'toString', year_from: 2020 }] }],
    });
    expect(r.body.errors?.map((e) => [e.code, e.pointer])).toEqual([['PW_CATALOG_FIELD_UNKNOWN', '/0/valueOf']]);
    const h = await call('PUT', '/v1/catalog', { key: admin, body: 'sku,name,price,constructor\nP-2,x,1,y\n', type: 'text/csv' });
    expect([h.status, h.body.code]).toEqual([422, 'PW_CATALOG_CSV_HEADER']);
  });

  it('never answers 500 to arbitrary JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (v) => {
        const r = await call('PUT', '/v1/catalog?dry_run=true', { key: admin, json: Array.isArray(v) ? v : { products: [v] } });
        expect([200, 400, 422]).toContain(r.status);
      }),
      { numRuns: 60 },
    );
  });

  it('replaces a product’s fitment on upsert, and dry runs change nothing', async () => {
    const hilux = [{ make: 'Toyota', model: 'Hilux', year_from: 2016, year_to: 2023 }];
    const dry = await call('PUT', '/v1/catalog?dry_run=true', { key: admin, json: { products: [{ sku: PADS.sku, fitment: hilux }] } });
    expect(dry.body).toMatchObject({ upserted: 1, dry_run: true });
    expect((await call('GET', '/v1/catalog/fitment?make=Ford&model=F150&year=2016', { key: reader })).body.skus).toEqual([PADS.sku]);

    await call('PUT', '/v1/catalog', { key: admin, json: { products: [{ sku: PADS.sku, fitment: hilux }] } });
    expect((await call('GET', '/v1/catalog/fitment?make=Ford&model=F150&year=2016', { key: reader })).body.skus).toEqual([]);
    expect((await call('GET', '/v1/catalog/fitment?make=toyota&model=HILUX&year=2023', { key: reader })).body.skus).toEqual([PADS.sku]);
    // Put the Ford back for the next tests.
    await call('PUT', '/v1/catalog', { key: admin, json: [PADS] });
  });
});

describe('catalogue reads', () => {
  it('finds parts by vehicle with the year range boundaries inclusive, filters, products and cursors', async () => {
    const fits = async (q: string) => (await call('GET', `/v1/catalog/fitment?${q}`, { key: reader })).body;
    expect((await fits('make=ford&model=f-150&year=2014')).skus).toEqual([]);
    expect((await fits('make=ford&model=f-150&year=2015')).skus).toEqual([PADS.sku]);
    expect((await fits('make=ford&model=f-150&year=2020&engine=3.5L%20V6')).skus).toEqual([PADS.sku]);
    expect((await fits('make=ford&model=f-150&year=2021')).skus).toEqual([]);
    expect((await fits('make=ford&model=f-150&year=2018&engine=5.0L')).skus).toEqual([]);

    await call('PUT', '/v1/catalog', {
      key: admin,
      json: ['FIT-A', 'FIT-B', 'FIT-C'].map((sku) => ({
        sku,
        name: sku,
        price: 1,
        category: 'Wipers',
        fitment: [{ make: 'Ford', model: 'F-150', year_from: 2018 }],
      })),
    });
    const page1 = await fits('make=Ford&model=F-150&year=2018&limit=2&include=products');
    expect(page1).toMatchObject({ vehicle: { make: 'Ford', model: 'F-150', year: 2018, engine: null }, skus: [PADS.sku, 'FIT-A'] });
    expect((page1.products as { sku: string }[]).map((p) => p.sku)).toEqual([PADS.sku, 'FIT-A']);
    const page2 = await fits(`make=Ford&model=F-150&year=2018&limit=2&cursor=${page1.next_cursor as string}`);
    expect(page2).toMatchObject({ skus: ['FIT-B', 'FIT-C'] });
    expect((await fits('make=Ford&model=F-150&year=2018&category=wipers')).skus).toEqual(['FIT-A', 'FIT-B', 'FIT-C']);

    const missing = await call('GET', '/v1/catalog/fitment?make=Ford&model=F-150', { key: reader });
    expect([missing.status, missing.body.code, missing.body.pointer]).toEqual([400, 'PW_QUERY_INVALID', '/year']);
  });

  it('says whether one SKU fits a vehicle', async () => {
    const yes = await call('GET', `/v1/catalog/products/${PADS.sku}/fits?make=Ford&model=F-150&year=2017`, { key: reader });
    expect(yes.body).toMatchObject({ sku: PADS.sku, fits: true });
    const no = await call('GET', `/v1/catalog/products/${PADS.sku}/fits?make=Ford&model=F-150&year=2022`, { key: reader });
    expect(no.body).toMatchObject({ fits: false });
    expect((await call('GET', '/v1/catalog/products/NOPE/fits?make=Ford&model=F-150&year=2017', { key: reader })).status).toBe(404);
  });

  it('lists products by category and text, a page at a time', async () => {
    const list = await call('GET', '/v1/catalog/products?category=filters', { key: reader });
    expect((list.body.products as { sku: string }[]).map((p) => p.sku)).toEqual(['CSV-1']);
    const q = await call('GET', '/v1/catalog/products?q=brake', { key: reader });
    expect((q.body.products as { sku: string }[]).map((p) => p.sku)).toEqual([PADS.sku]);
    const first = await call('GET', '/v1/catalog/products?limit=2', { key: reader });
    const second = await call('GET', `/v1/catalog/products?limit=2&cursor=${first.body.next_cursor as string}`, { key: reader });
    const skus = [...(first.body.products as { sku: string }[]), ...(second.body.products as { sku: string }[])].map((p) => p.sku);
    expect(skus).toEqual([...skus].sort());
    expect(new Set(skus).size).toBe(4);
    expect((await call('GET', '/v1/catalog/products?limit=0', { key: reader })).body.code).toBe('PW_QUERY_INVALID');
  });

  it('deletes a product with its fitment', async () => {
    expect((await call('DELETE', '/v1/catalog/products/FIT-C', { key: admin })).status).toBe(204);
    const gone = await call('GET', '/v1/catalog/products/FIT-C', { key: reader });
    expect([gone.status, gone.body.code]).toEqual([404, 'PW_PRODUCT_NOT_FOUND']);
    expect((await call('DELETE', '/v1/catalog/products/FIT-C', { key: admin })).status).toBe(404);
  });
});

describe('scopes', () => {
  it('needs admin to write and read to read', async () => {
    expect((await call('PUT', '/v1/catalog', { json: [PADS] })).body.code).toBe('PW_AUTH_MISSING');
    const forbidden = await call('PUT', '/v1/catalog', { key: reader, json: [PADS] });
    expect([forbidden.status, forbidden.body.code, forbidden.body.required_scope]).toEqual([403, 'PW_AUTH_SCOPE', 'admin']);
    expect((await call('PUT', '/v1/warehouses', { key: reader, json: [] })).status).toBe(403);
    expect((await call('DELETE', `/v1/catalog/products/${PADS.sku}`, { key: reader })).status).toBe(403);
    expect((await call('GET', '/v1/catalog/products', { key: ingestOnly })).status).toBe(403);
    expect((await call('GET', '/v1/lanes', { key: ingestOnly })).status).toBe(403);
    expect((await call('GET', '/v1/catalog/products', { key: admin })).status).toBe(200);
  });
});

describe('reference data', () => {
  it('upserts warehouses from an array or a wrapped list and serves them', async () => {
    const r = await call('PUT', '/v1/warehouses', {
      key: admin,
      json: [
        {
          id: 'DE-HAM-1',
          name: 'Hamburg',
          region: 'DE-N',
          country: 'DE',
          lat: 53.55,
          lon: 9.99,
          timezone: 'Europe/Berlin',
          cutoff_time: '15:00',
          handling_hours: 4,
        },
      ],
    });
    expect(r.body).toMatchObject({ upserted: 1, created: 1 });
    const w = await call('PUT', '/v1/warehouses', {
      key: admin,
      json: {
        warehouses: [
          { id: 'DE-MUC-1', name: 'Munich' },
          { id: 'BAD', name: 'x', cutoff_time: '25:00' },
        ],
      },
    });
    expect(w.body.errors?.map((e) => [e.key, e.pointer])).toEqual([['BAD', '/warehouses/1/cutoff_time']]);

    const list = await call('GET', '/v1/warehouses', { key: reader });
    expect((list.body.warehouses as { id: string }[]).map((x) => x.id)).toEqual(['DE-HAM-1', 'DE-MUC-1']);
    expect((await call('GET', '/v1/warehouses/DE-HAM-1', { key: reader })).body).toMatchObject({
      cutoff_time: '15:00',
      handling_hours: 4,
      lat: 53.55,
    });
    expect((await call('GET', '/v1/warehouses/NOPE', { key: reader })).body.code).toBe('PW_WAREHOUSE_NOT_FOUND');
    expect((await call('DELETE', '/v1/warehouses/DE-MUC-1', { key: admin })).status).toBe(204);
  });

  it('keeps carriers and lanes, and looks a lane up by carrier, origin and destination', async () => {
    await call('PUT', '/v1/carriers', {
      key: admin,
      json: {
        carriers: [
          { id: 'dhl', name: 'DHL', tracking_url: 'https://dhl.example/t/{tracking_number}' },
          { id: 'ups', name: 'UPS' },
        ],
      },
    });
    expect((await call('GET', '/v1/carriers/dhl', { key: reader })).body).toMatchObject({
      name: 'DHL',
      tracking_url: 'https://dhl.example/t/{tracking_number}',
    });
    expect((await call('GET', '/v1/carriers', { key: reader })).body.carriers).toHaveLength(2);

    const lanes = await call('PUT', '/v1/lanes', {
      key: admin,
      body: 'carrier_id,origin,destination,transit_hours_p50,transit_hours_p90\ndhl,DE-HAM-1,DE-BY,24,48\nups,DE-HAM-1,DE-BY,30,60\nfedex,DE-HAM-1,DE-BY,20,30\n',
      type: 'text/csv',
    });
    expect(lanes.body).toMatchObject({ upserted: 2, rejected: 1 });
    expect(lanes.body.errors).toEqual([
      expect.objectContaining({ row: 4, key: 'fedex/DE-HAM-1/DE-BY', code: 'PW_LANE_CARRIER_UNKNOWN', pointer: '/carrier_id' }),
    ]);

    const one = await call('GET', '/v1/lanes/dhl/DE-HAM-1/DE-BY', { key: reader });
    expect(one.body).toMatchObject({
      carrier_id: 'dhl',
      origin: 'DE-HAM-1',
      destination: 'DE-BY',
      transit_hours_p50: 24,
      transit_hours_p90: 48,
      cost: null,
    });
    const route = await call('GET', '/v1/lanes?origin=DE-HAM-1&destination=DE-BY', { key: reader });
    expect((route.body.lanes as { carrier_id: string }[]).map((l) => l.carrier_id)).toEqual(['dhl', 'ups']);
    expect((await call('GET', '/v1/lanes?carrier_id=ups', { key: reader })).body.lanes).toHaveLength(1);

    // A part with a "/" is percent-encoded in the path.
    await call('PUT', '/v1/lanes', {
      key: admin,
      json: [{ carrier_id: 'ups', origin: 'DE-HAM-1', destination: 'AT/9020', transit_hours_p50: 40 }],
    });
    expect((await call('GET', '/v1/lanes/ups/DE-HAM-1/AT%2F9020', { key: reader })).body).toMatchObject({
      destination: 'AT/9020',
      transit_hours_p50: 40,
    });
    expect((await call('DELETE', '/v1/lanes/ups/DE-HAM-1/AT%2F9020', { key: admin })).status).toBe(204);

    expect((await call('DELETE', '/v1/lanes/ups/DE-HAM-1/DE-BY', { key: admin })).status).toBe(204);
    expect((await call('GET', '/v1/lanes/ups/DE-HAM-1/DE-BY', { key: reader })).body.code).toBe('PW_LANE_NOT_FOUND');
    expect((await call('DELETE', '/v1/carriers/dhl', { key: admin })).status).toBe(204);
    expect((await call('GET', '/v1/lanes', { key: reader })).body.lanes).toEqual([]);
    expect((await call('GET', '/v1/carriers/dhl', { key: reader })).body.code).toBe('PW_CARRIER_NOT_FOUND');
  });
});
