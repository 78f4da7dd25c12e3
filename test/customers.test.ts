/**
 * Customers end to end: Segment identify / alias / track and CloudEvents registrations and
 * consent go in over HTTP, the state consumer folds the identity graph, and
 * GET /v1/customers/:id answers the same canonical profile for every kind of identifier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { emailHash } from '../src/state/identity/index.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
const VIN = 'WVWZZZAUZHW123456';
let server: TestServer;
let pw: Pitwall;
let key: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'customers', clock });
  pw = server.pw;
  key = (await createKey(pw.store.db, clock, { name: 't', scopes: ['ingest', 'read', 'admin'] })).key;
});
afterAll(async () => {
  await server?.close();
});

const now = () => new Date(clock.now()).toISOString();

async function post(path: string, body: unknown, contentType = 'application/json'): Promise<number> {
  const res = await fetch(`${pw.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { seq?: number };
  expect(res.status, JSON.stringify(json)).toBeLessThan(300);
  clock.advance(60_000);
  return json.seq ?? 0;
}

async function get(path: string, auth = true): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${pw.httpUrl}${path}`, { headers: auth ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const cloudEvent = (type: string, id: string, data: Record<string, unknown>, ext: Record<string, unknown> = {}) =>
  post('/v1/events', { specversion: '1.0', id, source: 'crm', type, time: now(), data, ...ext }, 'application/cloudevents+json');

describe('GET /v1/customers/:id', () => {
  beforeAll(async () => {
    const seqs = [
      await post('/v1/track', {
        anonymousId: 'anon-h1',
        event: 'Product Viewed',
        messageId: 'm1',
        timestamp: now(),
        properties: { sku: 'BRK-1' },
        context: { consent: { categoryPreferences: { Advertising: true, Analytics: true } } },
      }),
      await post('/v1/identify', {
        userId: 'cus_1042',
        anonymousId: 'anon-h1',
        messageId: 'm2',
        timestamp: now(),
        traits: { email: 'Mara.Keller@example.com', firstName: 'Mara', garage_vin: VIN },
      }),
      await post('/v1/alias', { userId: 'cus_1042', previousId: 'legacy-77', messageId: 'm3', timestamp: now() }),
      await cloudEvent('device.registered', 'reg-1', {
        device_id: 'dev_bm12_00417',
        kind: 'battery_monitor',
        customer_id: 'cus_1042',
        vin: VIN,
        part_sku: 'BAT-AGM-70AH',
        part_serial: 'VA70-2025-118833',
      }),
      await post('/v1/track', {
        userId: 'cus_1042',
        event: 'Order Completed',
        messageId: 'm4',
        timestamp: now(),
        properties: { order_id: 'ord_50314', total: 189, currency: 'EUR' },
      }),
      await cloudEvent('customer.consent_updated', 'consent-1', { purposes: { advertising: false } }, { userid: 'legacy-77' }),
      await post('/v1/track', { anonymousId: 'anon-other', event: 'Product Viewed', messageId: 'm5', timestamp: now() }),
    ];
    await pw.state?.caughtUp(Math.max(...seqs));
  });

  it('answers the same canonical profile for every kind of identifier', async () => {
    const identifiers = [
      'cus_1042',
      'anon-h1',
      'legacy-77',
      'email:Mara.Keller@example.com',
      `email_sha256:${emailHash('mara.keller@example.com')}`,
      `vin:${VIN}`,
      'device:dev_bm12_00417',
      'serial:VA70-2025-118833',
      'order:ord_50314',
    ];
    for (const id of identifiers) {
      const { status, body } = await get(`/v1/customers/${encodeURIComponent(id)}`);
      expect(status, id).toBe(200);
      expect(body.customer_id, id).toBe('cus_1042');
    }
  });

  it('returns the merged profile in snake_case, with the email only as a hash', async () => {
    const { body } = await get('/v1/customers/anon-h1');
    expect(body).toEqual({
      customer_id: 'cus_1042',
      // legacy-77 became a user id when the consent event named it as `userid`.
      user_ids: ['cus_1042', 'legacy-77'],
      anonymous_ids: ['anon-h1'],
      email_hashes: [emailHash('mara.keller@example.com')],
      traits: { firstName: 'Mara', garage_vin: VIN },
      vehicles: [
        {
          vin: VIN,
          devices: ['dev_bm12_00417'],
          parts: [{ sku: 'BAT-AGM-70AH', serial: 'VA70-2025-118833' }],
          first_linked_at: '2026-06-01T09:01:00.000Z',
          last_linked_at: '2026-06-01T09:03:00.000Z',
        },
      ],
      devices: [
        {
          device_id: 'dev_bm12_00417',
          kind: 'battery_monitor',
          vin: VIN,
          part_sku: 'BAT-AGM-70AH',
          part_serial: 'VA70-2025-118833',
          firmware: null,
          registered_at: '2026-06-01T09:03:00.000Z',
        },
      ],
      parts: [
        { sku: 'BAT-AGM-70AH', serial: 'VA70-2025-118833', vin: VIN, device_id: 'dev_bm12_00417', linked_at: '2026-06-01T09:03:00.000Z' },
      ],
      orders: [{ order_id: 'ord_50314', at: '2026-06-01T09:04:00.000Z', total: 189, currency: 'EUR' }],
      consent: {
        advertising: { granted: false, at: '2026-06-01T09:05:00.000Z' },
        analytics: { granted: true, at: '2026-06-01T09:00:00.000Z' },
      },
      first_seen: '2026-06-01T09:00:00.000Z',
      last_seen: '2026-06-01T09:05:00.000Z',
    });
    expect(JSON.stringify(body).toLowerCase()).not.toContain('mara.keller@example.com');
  });

  it('answers 404 for an unknown identifier without echoing it, 400 for a malformed one, 401 without a key', async () => {
    const missing = await get(`/v1/customers/${encodeURIComponent('email:nobody@example.com')}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('PW_CUSTOMER_NOT_FOUND');
    expect(JSON.stringify(missing.body)).not.toContain('nobody@example.com');
    const bad = await get('/v1/customers/vin:TOO-SHORT');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('PW_CUSTOMER_IDENTIFIER_INVALID');
    expect((await get('/v1/customers/cus_1042', false)).status).toBe(401);
  });

  it('lists customers page by page with next_cursor', async () => {
    const first = await get('/v1/customers?limit=1');
    expect(first.status).toBe(200);
    const customers = first.body.customers as { customer_id: string }[];
    expect(customers.map((c) => c.customer_id)).toEqual(['anon-other']);
    const second = await get(`/v1/customers?limit=1&cursor=${first.body.next_cursor as string}`);
    expect((second.body.customers as { customer_id: string }[]).map((c) => c.customer_id)).toEqual(['cus_1042']);
    const third = await get(`/v1/customers?limit=1&cursor=${second.body.next_cursor as string}`);
    expect(third.body).toEqual({ customers: [], next_cursor: null });
    expect((await get('/v1/customers?limit=0')).body.code).toBe('PW_QUERY_INVALID');
  });
});
