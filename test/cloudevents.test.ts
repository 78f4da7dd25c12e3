/**
 * CloudEvents over HTTP end to end: the real `cloudevents` SDK's emitter in structured and
 * binary mode, batch mode with per-event results, the unknown-type → register → replay
 * loop, history mode, and reading the log back with filters and cursors.
 */
import { CloudEvent, emitterFor, HTTP, httpTransport, Mode } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.ts';
import { createKey } from '../src/govern/keys.ts';
import type { LoggedEvent } from '../src/log/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const T0 = Date.parse('2026-02-10T08:00:00Z');
const HOUR = 3_600_000;

let server: TestServer;
let pw: Pitwall;
const clock = new FakeClock(T0);
let ingestKey: string;
let readKey: string;
let adminKey: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'cloudevents', clock });
  pw = server.pw;
  ingestKey = (await createKey(pw.store.db, clock, { name: 'producer', scopes: ['ingest'] })).key;
  readKey = (await createKey(pw.store.db, clock, { name: 'reader', scopes: ['read'] })).key;
  adminKey = (await createKey(pw.store.db, clock, { name: 'operator', scopes: ['admin'] })).key;
});

afterAll(async () => {
  await server?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function request(method: string, route: string, key: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const res = await fetch(`${pw.httpUrl}${route}`, {
    method,
    headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function logged(id: string): Promise<LoggedEvent[]> {
  return (await pw.log.read(0, 100_000)).filter((e) => e.event.id === id);
}

async function loggedOnce(id: string): Promise<LoggedEvent> {
  const rows = await logged(id);
  expect(rows).toHaveLength(1);
  return rows[0] as LoggedEvent;
}

const productAdded = { event: 'Product Added', properties: { product_id: 'bp-4471', quantity: 2, currency: 'EUR' } };

/** The transport resolves with `{ body, headers }` (no status); Pitwall's body says what happened. */
function parsed(response: unknown): Record<string, unknown> {
  return JSON.parse((response as { body: string }).body) as Record<string, unknown>;
}

describe('the real cloudevents SDK emitter', () => {
  it('is accepted in structured mode with its attributes, extensions and data intact', async () => {
    const emit = emitterFor(httpTransport(`${pw.httpUrl}/v1/events`), { mode: Mode.STRUCTURED });
    const ce = new CloudEvent({
      id: 'sdk-structured-1',
      source: 'urn:shop:checkout',
      type: 'commerce.product_added',
      subject: 'cust-7',
      time: '2026-02-10T07:59:30.000Z',
      datacontenttype: 'application/json',
      data: productAdded,
      userid: 'cust-7',
      store: 'de',
    });
    const out = parsed(await emit(ce, { headers: bearer(ingestKey) }));
    expect(out).toMatchObject({ status: 'accepted', id: 'sdk-structured-1', type: 'commerce.product_added' });
    const row = await loggedOnce('sdk-structured-1');
    expect(row.seq).toBe(out.seq);
    expect(row.event).toMatchObject({
      specversion: '1.0',
      source: 'urn:shop:checkout',
      type: 'commerce.product_added',
      subject: 'cust-7',
      time: '2026-02-10T07:59:30.000Z',
      userid: 'cust-7',
      store: 'de',
      data: productAdded,
    });
    expect(row.history).toBe(false);
  });

  it('is accepted in binary mode, attributes from ce-* headers and the body as data', async () => {
    const emit = emitterFor(httpTransport(`${pw.httpUrl}/v1/events`), { mode: Mode.BINARY });
    const ce = new CloudEvent({
      id: 'sdk-binary-1',
      source: 'urn:shop:catalogue',
      type: 'commerce.product_added',
      subject: 'cust-8',
      time: '2026-02-10T07:58:00.000Z',
      datacontenttype: 'application/json',
      data: productAdded,
      anonymousid: 'anon-8',
    });
    const out = parsed(await emit(ce, { headers: bearer(ingestKey) }));
    expect(out).toMatchObject({ status: 'accepted', id: 'sdk-binary-1' });
    expect((await loggedOnce('sdk-binary-1')).event).toMatchObject({
      specversion: '1.0',
      source: 'urn:shop:catalogue',
      type: 'commerce.product_added',
      subject: 'cust-8',
      time: '2026-02-10T07:58:00.000Z',
      anonymousid: 'anon-8',
      data: productAdded,
    });
  });

  it('is refused without a key', async () => {
    const emit = emitterFor(httpTransport(`${pw.httpUrl}/v1/events`), { mode: Mode.BINARY });
    const out = parsed(
      await emit(new CloudEvent({ id: 'sdk-nokey', source: 'urn:x', type: 'commerce.product_added', data: productAdded })),
    );
    expect(out).toMatchObject({ status: 401, code: 'PW_AUTH_MISSING' });
    expect(await logged('sdk-nokey')).toEqual([]);
  });

  it('stores an event carrying pitwallhistory: true as history, in both modes', async () => {
    const t = '2025-06-01T12:00:00.000Z';
    for (const mode of [Mode.STRUCTURED, Mode.BINARY]) {
      const id = `sdk-history-${mode}`;
      const emit = emitterFor(httpTransport(`${pw.httpUrl}/v1/events`), { mode });
      const ce = new CloudEvent({
        id,
        source: 'urn:shop:import',
        type: 'commerce.product_added',
        time: t,
        data: productAdded,
        pitwallhistory: true,
      });
      expect(parsed(await emit(ce, { headers: bearer(ingestKey) }))).toMatchObject({ status: 'accepted', id });
      const row = await loggedOnce(id);
      expect(row.history).toBe(true);
      expect(row.event.pitwallhistory).toBe(true);
      expect(row.event.time).toBe(t);
    }
    const events = await request('GET', '/v1/events?source=urn:shop:import', readKey);
    expect((events.body.events as { history: boolean }[]).map((e) => e.history)).toEqual([true, true]);
  });

  it('HTTP.binary messages sent with fetch carry the same event as the emitter', async () => {
    const ce = new CloudEvent({ id: 'fetch-binary-1', source: 'urn:shop:fetch', type: 'commerce.product_added', data: productAdded });
    const msg = HTTP.binary(ce);
    const res = await fetch(`${pw.httpUrl}/v1/events`, {
      method: 'POST',
      headers: { ...(msg.headers as Record<string, string>), ...bearer(ingestKey) },
      body: msg.body as string,
    });
    expect(res.status).toBe(200);
    expect((await loggedOnce('fetch-binary-1')).event).toMatchObject({ source: 'urn:shop:fetch', data: productAdded, time: ce.time });
  });
});

describe('batch mode and the unknown-type loop', () => {
  it('answers a batch with one result per event: accepted, duplicate, and an unknown type rejected at /type', async () => {
    const accepted = { specversion: '1.0', id: 'batch-1', source: 'urn:wh:ham', type: 'commerce.product_added', data: productAdded };
    await request('POST', '/v1/events', ingestKey, { ...accepted, id: 'batch-seen' }, 'application/cloudevents+json');
    const unknown = {
      specversion: '1.0',
      id: 'door-1',
      source: 'urn:wh:ham',
      type: 'warehouse.door_opened',
      time: '2026-02-10T07:00:00Z',
      data: { door: 'D1', open: true },
    };
    const r = await request(
      'POST',
      '/v1/events',
      ingestKey,
      [accepted, { ...accepted, id: 'batch-seen' }, unknown],
      'application/cloudevents-batch+json',
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 1, duplicates: 1, rejected: 1 });
    const [a, b, c] = r.body.results as Record<string, unknown>[];
    expect(a).toMatchObject({ index: 0, status: 'accepted', id: 'batch-1' });
    expect(b).toMatchObject({ index: 1, status: 'duplicate', id: 'batch-seen' });
    expect(c).toMatchObject({ index: 2, status: 'rejected', id: 'door-1', code: 'PW_EVENT_UNKNOWN_TYPE', pointer: '/type' });
    expect(await logged('door-1')).toEqual([]);
    const quarantineId = c?.quarantine_id as string;

    // Replaying before the type exists leaves it quarantined.
    const early = await request('POST', `/v1/quarantine/${quarantineId}/replay`, adminKey);
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({ status: 'still_rejected' });

    // Registering a type needs the admin scope.
    const schema = { type: 'object', required: ['door', 'open'], properties: { door: { type: 'string' }, open: { type: 'boolean' } } };
    const denied = await request('POST', '/v1/event-types', ingestKey, { type: 'warehouse.door_opened', schema });
    expect(denied.status).toBe(403);
    const created = await request('POST', '/v1/event-types', adminKey, {
      type: 'warehouse.door_opened',
      description: 'A dock door opened',
      schema,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'warehouse.door_opened', version: 1 });

    const replay = await request('POST', `/v1/quarantine/${quarantineId}/replay`, adminKey);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ id: quarantineId, status: 'replayed' });
    expect((replay.body.outcomes as unknown[])[0]).toMatchObject({ status: 'accepted', id: 'door-1', type: 'warehouse.door_opened' });
    const row = await loggedOnce('door-1');
    expect(row.event).toMatchObject({ data: { door: 'D1', open: true }, dataschema: 'urn:pitwall:schema:warehouse.door_opened:1' });

    const list = await request('GET', '/v1/quarantine?status=replayed', readKey);
    expect((list.body.items as Record<string, unknown>[]).find((i) => i.id === quarantineId)).toMatchObject({
      status: 'replayed',
      replayedSeq: row.seq,
    });
    const twice = await request('POST', `/v1/quarantine/${quarantineId}/replay`, adminKey);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('PW_QUARANTINE_ALREADY_REPLAYED');

    // Later events of the new type are accepted directly.
    const next = await request('POST', '/v1/events', ingestKey, { ...unknown, id: 'door-2' }, 'application/cloudevents+json');
    expect(next.body).toMatchObject({ status: 'accepted', id: 'door-2' });
  });

  it('rejects a structured event whose data breaks its schema with 400 and the pointer', async () => {
    const r = await request(
      'POST',
      '/v1/events',
      ingestKey,
      {
        specversion: '1.0',
        id: 'bad-order',
        source: 'urn:shop',
        type: 'commerce.order_completed',
        data: { event: 'Order Completed', properties: {} },
      },
      'application/cloudevents+json',
    );
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ code: 'PW_EVENT_SCHEMA', pointer: '/data/properties/order_id', id: 'bad-order' });
    expect(typeof r.body.quarantine_id).toBe('string');
  });
});

describe("Pitwall's own events cannot be sent in", () => {
  it('refuses derived types and pitwall: sources, quarantined with PW_EVENT_RESERVED', async () => {
    const base = { specversion: '1.0', time: '2026-02-10T07:00:00Z' };
    const r = await request(
      'POST',
      '/v1/events',
      ingestKey,
      [
        {
          ...base,
          id: 'forged-ack',
          source: 'https://attacker.example',
          type: 'condition.acknowledged',
          data: { condition_id: 'c1', by: 'me' },
        },
        { ...base, id: 'forged-low', source: 'urn:shop', type: 'stock.low', data: { sku: 'X', warehouse: 'W' } },
        { ...base, id: 'forged-src', source: 'pitwall:detector/device-silence', type: 'commerce.product_viewed', data: productAdded },
        { ...base, id: 'fine', source: 'urn:shop', type: 'commerce.product_added', data: productAdded },
      ],
      'application/cloudevents-batch+json',
    );
    expect(r.status).toBe(200);
    const results = r.body.results as Record<string, unknown>[];
    expect(results.map((x) => [x.id, x.status, x.code, x.pointer])).toEqual([
      ['forged-ack', 'rejected', 'PW_EVENT_RESERVED', '/type'],
      ['forged-low', 'rejected', 'PW_EVENT_RESERVED', '/type'],
      ['forged-src', 'rejected', 'PW_EVENT_RESERVED', '/source'],
      ['fine', 'accepted', undefined, undefined],
    ]);
    expect(await logged('forged-ack')).toEqual([]);
    expect(await logged('forged-src')).toEqual([]);
  });
});

describe('GET /v1/events', () => {
  const SOURCE = 'urn:pitwall-test:filters';
  const OTHER = 'urn:pitwall-test:other';
  const TYPES = ['commerce.product_added', 'commerce.product_viewed', 'customer.identified'] as const;
  /** Times are shuffled against positions so a time filter cannot pass by filtering positions. */
  const seeds = Array.from({ length: 13 }, (_, i) => ({
    id: `filter-${i}`,
    type: TYPES[i % 3] as string,
    subject: `filter-u${i % 2}`,
    at: T0 - 24 * HOUR + ((i * 5) % 13) * HOUR,
  }));
  const other = { id: 'filter-other', type: 'commerce.product_added', subject: 'filter-u0', at: T0 - 24 * HOUR };

  const toCe = (s: (typeof seeds)[number], source: string) => ({
    specversion: '1.0',
    id: s.id,
    source,
    type: s.type,
    subject: s.subject,
    time: new Date(s.at).toISOString(),
    data: s.type.startsWith('commerce.') ? { event: 'Product Viewed', properties: {} } : { traits: {} },
  });

  beforeAll(async () => {
    const r = await request(
      'POST',
      '/v1/events',
      ingestKey,
      [...seeds.map((s) => toCe(s, SOURCE)), toCe(other, OTHER)],
      'application/cloudevents-batch+json',
    );
    expect(r.body).toMatchObject({ accepted: seeds.length + 1, rejected: 0 });
  });

  interface Page {
    events: { seq: number; received_at: string; history: boolean; event: { id: string } }[];
    next_cursor: string | null;
  }

  async function page(query: string): Promise<Page> {
    const r = await request('GET', `/v1/events?${query}`, readKey);
    expect(r.status).toBe(200);
    return r.body as unknown as Page;
  }
  const ids = (p: Page) => p.events.map((e) => e.event.id);
  const expected = (pred: (s: (typeof seeds)[number]) => boolean) => seeds.filter(pred).map((s) => s.id);

  it('filters by exact type', async () => {
    expect(ids(await page(`source=${SOURCE}&type=commerce.product_added`))).toEqual(expected((s) => s.type === 'commerce.product_added'));
  });

  it('filters by a type prefix ending in .*', async () => {
    expect(ids(await page(`source=${SOURCE}&type=commerce.*`))).toEqual(expected((s) => s.type.startsWith('commerce.')));
  });

  it('filters by subject across sources', async () => {
    expect(ids(await page('subject=filter-u0'))).toEqual([...expected((s) => s.subject === 'filter-u0'), 'filter-other']);
  });

  it('filters by source', async () => {
    expect(ids(await page(`source=${OTHER}`))).toEqual(['filter-other']);
    expect(ids(await page(`source=${SOURCE}`))).toEqual(seeds.map((s) => s.id));
  });

  it('filters by event time: since inclusive, until exclusive', async () => {
    const since = T0 - 24 * HOUR + 3 * HOUR;
    const until = T0 - 24 * HOUR + 7 * HOUR;
    const got = ids(await page(`source=${SOURCE}&since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}`));
    expect(got).toEqual(expected((s) => s.at >= since && s.at < until));
    expect(got).toHaveLength(4);
  });

  it('walks every page with next_cursor, ascending and descending, without repeats or gaps', async () => {
    for (const [order, want] of [
      ['asc', seeds.map((s) => s.id)],
      ['desc', seeds.map((s) => s.id).reverse()],
    ] as const) {
      for (const [filter, subset] of [
        [`source=${SOURCE}`, want],
        [`source=${SOURCE}&type=commerce.*`, want.filter((id) => seeds.find((s) => s.id === id)?.type.startsWith('commerce.'))],
      ] as const) {
        const seen: string[] = [];
        const seqs: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const p: Page = await page(`${filter}&limit=4&order=${order}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(p.events.length).toBeLessThanOrEqual(4);
          seen.push(...ids(p));
          seqs.push(...p.events.map((e) => e.seq));
          cursor = p.next_cursor;
          pages++;
          expect(pages).toBeLessThan(20);
        } while (cursor !== null);
        expect(seen).toEqual(subset);
        const sorted = [...seqs].sort((x, y) => (order === 'asc' ? x - y : y - x));
        expect(seqs).toEqual(sorted);
        expect(new Set(seqs).size).toBe(seqs.length);
      }
    }
  });

  it('needs the read scope', async () => {
    const r = await request('GET', '/v1/events', ingestKey);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('PW_AUTH_SCOPE');
  });
});
