/**
 * Segment's HTTP Tracking API end to end: the real `@segment/analytics-node` SDK against a
 * listening Pitwall, plus hand-made requests for what browser SDKs and backfills send.
 */
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.ts';
import { createKey } from '../src/govern/keys.ts';
import type { LoggedEvent } from '../src/log/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const HOUR = 3_600_000;

let server: TestServer;
let pw: Pitwall;
const clock = new FakeClock(T0);
/** An ingest key and the source its events get. */
let ingestKey: string;
let ingestSource: string;
let readKey: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'segment', clock });
  pw = server.pw;
  const ingest = await createKey(pw.store.db, clock, { name: 'storefront', scopes: ['ingest'] });
  ingestKey = ingest.key;
  ingestSource = `pitwall:key/${ingest.info.id}`;
  readKey = (await createKey(pw.store.db, clock, { name: 'analyst', scopes: ['read'] })).key;
});

afterAll(async () => {
  await server?.close();
});

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function post(route: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${pw.httpUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Every logged copy of the event with this id (dedupe means at most one per source). */
async function logged(id: string): Promise<LoggedEvent[]> {
  return (await pw.log.read(0, 100_000)).filter((e) => e.event.id === id);
}

async function loggedOnce(id: string): Promise<LoggedEvent> {
  const rows = await logged(id);
  expect(rows).toHaveLength(1);
  return rows[0] as LoggedEvent;
}

function results(r: Reply): Record<string, unknown>[] {
  return r.body.results as Record<string, unknown>[];
}

describe('the real @segment/analytics-node SDK', () => {
  it('delivers track, identify, page and alias as canonical events with the key as source and messageId as id', async () => {
    const analytics = new Analytics({
      writeKey: ingestKey,
      host: pw.httpUrl,
      path: '/v1/batch',
      flushAt: 4,
      maxRetries: 0,
      httpRequestTimeout: 10_000,
    });
    const statuses: number[] = [];
    const errors: unknown[] = [];
    analytics.on('http_response', (r) => statuses.push(r.status));
    analytics.on('error', (e) => errors.push(e));
    const consent = { categoryPreferences: { Analytics: true, Advertising: false } };

    analytics.track({
      userId: 'cust-881',
      event: 'Product Added',
      properties: { product_id: 'bp-4471', sku: 'BRK-PAD-F-4471', price: 64.9, quantity: 2, currency: 'EUR' },
      context: { consent },
      messageId: 'sdk-track-1',
    });
    analytics.identify({ userId: 'cust-881', traits: { email: 'mara@example.com', garage_vin: 'WVWZZZ1' }, messageId: 'sdk-identify-1' });
    analytics.page({
      anonymousId: 'anon-42',
      name: 'Brake pads',
      category: 'Catalogue',
      properties: { path: '/c/brakes' },
      messageId: 'sdk-page-1',
    });
    analytics.alias({ userId: 'cust-881', previousId: 'anon-42', messageId: 'sdk-alias-1' });
    await analytics.closeAndFlush({ timeout: 15_000 });

    expect(errors).toEqual([]);
    expect(statuses).toEqual([200]);

    const track = (await loggedOnce('sdk-track-1')).event;
    expect(track).toMatchObject({
      specversion: '1.0',
      id: 'sdk-track-1',
      source: ingestSource,
      type: 'commerce.product_added',
      subject: 'cust-881',
      userid: 'cust-881',
      data: {
        event: 'Product Added',
        properties: { product_id: 'bp-4471', sku: 'BRK-PAD-F-4471', price: 64.9, quantity: 2, currency: 'EUR' },
      },
    });
    expect((track.data as { context: Record<string, unknown> }).context.consent).toEqual(consent);
    expect(track.anonymousid).toBeUndefined();
    // The SDK's timestamp and sentAt are moments apart, so the corrected time is Pitwall's "now".
    const t = Date.parse(track.time);
    expect(t).toBeLessThanOrEqual(T0);
    expect(t).toBeGreaterThan(T0 - 60_000);

    expect((await loggedOnce('sdk-identify-1')).event).toMatchObject({
      source: ingestSource,
      type: 'customer.identified',
      userid: 'cust-881',
      data: { traits: { email: 'mara@example.com', garage_vin: 'WVWZZZ1' } },
    });
    const page = (await loggedOnce('sdk-page-1')).event;
    expect(page).toMatchObject({
      source: ingestSource,
      type: 'storefront.page_viewed',
      subject: 'anon-42',
      anonymousid: 'anon-42',
      data: { name: 'Brake pads', category: 'Catalogue', properties: { path: '/c/brakes' } },
    });
    expect(page.userid).toBeUndefined();
    expect((await loggedOnce('sdk-alias-1')).event).toMatchObject({
      source: ingestSource,
      type: 'customer.aliased',
      userid: 'cust-881',
      data: { previousId: 'anon-42' },
    });
  });
});

describe('authentication', () => {
  it('accepts the write key as HTTP Basic username, as Segment server libraries send it', async () => {
    const basic = `Basic ${Buffer.from(`${ingestKey}:`).toString('base64')}`;
    const r = await post('/v1/track', { userId: 'u-basic', event: 'Product Viewed', messageId: 'basic-1' }, { authorization: basic });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: true, status: 'accepted', id: 'basic-1', type: 'commerce.product_viewed' });
    expect((await loggedOnce('basic-1')).event.source).toBe(ingestSource);
  });

  it('accepts writeKey in a text/plain body, as browser SDKs send it, and answers with CORS headers', async () => {
    const origin = 'https://parts.example.com';
    const res = await fetch(`${pw.httpUrl}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin },
      body: JSON.stringify({ writeKey: ingestKey, anonymousId: 'anon-browser', event: 'Product Viewed', messageId: 'browser-1' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(await res.json()).toMatchObject({ status: 'accepted', id: 'browser-1' });
    const e = (await loggedOnce('browser-1')).event;
    expect(e.source).toBe(ingestSource);
    expect(e.anonymousid).toBe('anon-browser');
    expect(JSON.stringify(e)).not.toContain(ingestKey);
  });

  it('answers a CORS preflight with 204 and the methods and headers a browser SDK needs', async () => {
    const origin = 'https://parts.example.com';
    const res = await fetch(`${pw.httpUrl}/v1/batch`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    expect(allowed).toContain('content-type');
    expect(allowed).toContain('authorization');
  });

  it('rejects a request without a key with 401 problem+json', async () => {
    const r = await post('/v1/batch', { batch: [{ userId: 'u', event: 'Product Viewed', type: 'track', messageId: 'nokey-1' }] });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(r.body).toMatchObject({ status: 401, code: 'PW_AUTH_MISSING' });
    expect(await logged('nokey-1')).toEqual([]);
  });

  it('rejects an unknown key with 401', async () => {
    for (const key of ['pw_unknown_0000000000000000000000000000', 'not-even-a-pitwall-key']) {
      const r = await post('/v1/track', { userId: 'u', event: 'Product Viewed', messageId: 'unknown-key' }, bearer(key));
      expect(r.status).toBe(401);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body.code).toBe('PW_AUTH_INVALID');
    }
    expect(await logged('unknown-key')).toEqual([]);
  });

  it('rejects a key without the ingest scope with 403', async () => {
    const r = await post('/v1/track', { userId: 'u', event: 'Product Viewed', messageId: 'read-only-1' }, bearer(readKey));
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ code: 'PW_AUTH_SCOPE', required_scope: 'ingest' });
    expect(await logged('read-only-1')).toEqual([]);
  });
});

describe('timestamps', () => {
  it('corrects a device clock that runs an hour ahead: timestamp = receivedAt − (sentAt − originalTimestamp)', async () => {
    clock.set(T0 + 5 * HOUR);
    const now = clock.now();
    const r = await post(
      '/v1/track',
      {
        userId: 'u-skew',
        event: 'Product Viewed',
        messageId: 'skew-1',
        // Device clock is 1 h ahead; the event happened 90 s before the device sent it.
        originalTimestamp: new Date(now + HOUR - 90_000).toISOString(),
        sentAt: new Date(now + HOUR).toISOString(),
      },
      bearer(ingestKey),
    );
    expect(r.status).toBe(200);
    const row = await loggedOnce('skew-1');
    expect(row.event.time).toBe(new Date(now - 90_000).toISOString());
    expect(row.receivedAt).toBe(now);
    expect(row.history).toBe(false);
  });

  it("uses the batch's sentAt to correct a message's timestamp", async () => {
    clock.set(T0 + 6 * HOUR);
    const now = clock.now();
    const r = await post(
      '/v1/batch',
      {
        sentAt: new Date(now + HOUR).toISOString(),
        batch: [
          {
            type: 'track',
            userId: 'u-skew',
            event: 'Product Viewed',
            messageId: 'skew-2',
            timestamp: new Date(now + HOUR - 3000).toISOString(),
          },
        ],
      },
      bearer(ingestKey),
    );
    expect(r.status).toBe(200);
    expect((await loggedOnce('skew-2')).event.time).toBe(new Date(now - 3000).toISOString());
  });

  it('keeps the original timestamp and marks the event as history with Pitwall-History: true', async () => {
    clock.set(T0 + 7 * HOUR);
    const original = '2025-11-20T08:15:00.000Z';
    const r = await post(
      '/v1/track',
      {
        userId: 'u-backfill',
        event: 'Product Viewed',
        messageId: 'history-1',
        originalTimestamp: original,
        sentAt: '2026-03-02T17:00:00.000Z',
      },
      { ...bearer(ingestKey), 'pitwall-history': 'true' },
    );
    expect(r.status).toBe(200);
    const row = await loggedOnce('history-1');
    expect(row.event.time).toBe(original);
    expect(row.event.pitwallhistory).toBe(true);
    expect(row.history).toBe(true);
  });

  it('rejects a timestamp a Date cannot hold with PW_SEGMENT_INVALID rather than failing the request', async () => {
    const r = await post('/v1/track', { userId: 'u', event: 'Product Viewed', messageId: 'huge-ts', timestamp: 1e300 }, bearer(ingestKey));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'PW_SEGMENT_INVALID', pointer: '/timestamp' });
    const skewed = await post(
      '/v1/track',
      {
        userId: 'u',
        event: 'Product Viewed',
        messageId: 'huge-skew',
        originalTimestamp: '+275760-09-13T00:00:00.000Z',
        sentAt: '-271821-04-20T00:00:00.000Z',
      },
      bearer(ingestKey),
    );
    expect(skewed.status).toBe(400);
    expect(skewed.body).toMatchObject({ code: 'PW_SEGMENT_INVALID', pointer: '/sentAt' });
  });
});

describe('dedupe, limits and per-event results', () => {
  it('answers a resent messageId with duplicate and stores no second row', async () => {
    const msg = { userId: 'u-dup', event: 'Product Viewed', messageId: 'resend-1' };
    const first = await post('/v1/track', msg, bearer(ingestKey));
    const again = await post('/v1/track', msg, bearer(ingestKey));
    expect(first.body).toMatchObject({ status: 'accepted', id: 'resend-1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'duplicate', id: 'resend-1', seq: first.body.seq });
    await loggedOnce('resend-1');
  });

  it('rejects only the 33 KB event of a batch with PW_EVENT_TOO_LARGE and accepts its siblings', async () => {
    const big = {
      type: 'track',
      userId: 'u-big',
      event: 'Product Viewed',
      messageId: 'big-1',
      properties: { name: 'x'.repeat(33 * 1024) },
    };
    const r = await post(
      '/v1/batch',
      {
        batch: [
          { type: 'track', userId: 'u-big', event: 'Product Viewed', messageId: 'big-sibling-1' },
          big,
          { type: 'identify', userId: 'u-big', traits: { name: 'Big Sender' }, messageId: 'big-sibling-2' },
        ],
      },
      bearer(ingestKey),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 2, duplicates: 0, rejected: 1 });
    const [a, b, c] = results(r);
    expect(a).toMatchObject({ index: 0, status: 'accepted', id: 'big-sibling-1' });
    expect(b).toMatchObject({ index: 1, status: 'rejected', code: 'PW_EVENT_TOO_LARGE', pointer: '' });
    expect(c).toMatchObject({ index: 2, status: 'accepted', id: 'big-sibling-2' });
    await loggedOnce('big-sibling-1');
    await loggedOnce('big-sibling-2');
    expect(await logged('big-1')).toEqual([]);

    const res = await fetch(`${pw.httpUrl}/v1/quarantine?code=PW_EVENT_TOO_LARGE`, { headers: bearer(readKey) });
    const items = ((await res.json()) as { items: { id: string; payload: { messageId?: string } }[] }).items;
    expect(items.find((i) => i.id === b?.quarantine_id)?.payload.messageId).toBe('big-1');
  });

  it('rejects a batch over 500 KB with 413 problem+json and stores none of it', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({
      type: 'track',
      userId: 'u-huge',
      event: 'Product Viewed',
      messageId: `huge-batch-${i}`,
      properties: { name: 'y'.repeat(30 * 1024) },
    }));
    const r = await post('/v1/batch', { batch }, bearer(ingestKey));
    expect(r.status).toBe(413);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ status: 413, code: 'PW_BODY_TOO_LARGE' });
    expect(await logged('huge-batch-0')).toEqual([]);
  });

  it('reports index, status, code and pointer per event for a mixed batch and quarantines the rejected one', async () => {
    await post('/v1/track', { userId: 'u-mixed', event: 'Product Viewed', messageId: 'mixed-seen' }, bearer(ingestKey));
    const incomplete = { type: 'track', userId: 'u-mixed', event: 'Order Completed', messageId: 'mixed-bad', properties: { total: 129.8 } };
    const r = await post(
      '/v1/batch',
      {
        batch: [
          {
            type: 'track',
            userId: 'u-mixed',
            event: 'Order Completed',
            messageId: 'mixed-new',
            properties: { order_id: 'ord-1', total: 64.9 },
          },
          { type: 'track', userId: 'u-mixed', event: 'Product Viewed', messageId: 'mixed-seen' },
          incomplete,
        ],
      },
      bearer(ingestKey),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: true, accepted: 1, duplicates: 1, rejected: 1 });
    const [ok, dup, bad] = results(r);
    expect(ok).toMatchObject({ index: 0, status: 'accepted', id: 'mixed-new', type: 'commerce.order_completed' });
    expect(dup).toMatchObject({ index: 1, status: 'duplicate', id: 'mixed-seen' });
    expect(bad).toMatchObject({
      index: 2,
      status: 'rejected',
      id: 'mixed-bad',
      code: 'PW_EVENT_SCHEMA',
      pointer: '/data/properties/order_id',
    });
    expect(typeof bad?.quarantine_id).toBe('string');
    await loggedOnce('mixed-new');
    await loggedOnce('mixed-seen');
    expect(await logged('mixed-bad')).toEqual([]);

    const res = await fetch(`${pw.httpUrl}/v1/quarantine?code=PW_EVENT_SCHEMA`, { headers: bearer(readKey) });
    expect(res.status).toBe(200);
    const items = ((await res.json()) as { items: Record<string, unknown>[] }).items;
    const item = items.find((i) => i.id === bad?.quarantine_id);
    expect(item).toMatchObject({
      channel: 'segment',
      status: 'pending',
      code: 'PW_EVENT_SCHEMA',
      pointer: '/data/properties/order_id',
      type: 'commerce.order_completed',
      source: ingestSource,
      payload: incomplete,
    });
  });
});
