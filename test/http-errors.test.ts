/**
 * The HTTP surface's failure modes against a listening server: every error is RFC 9457
 * problem+json with a code, overload answers 429 + Retry-After without losing what it
 * acknowledged, the ops endpoints report, and no body of any shape gets a 5xx.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { FakeClock } from '../src/core/clock.ts';
import { createKey } from '../src/govern/keys.ts';
import { type Pitwall, startPitwall } from '../src/main.ts';
import { Metrics } from '../src/ops/metrics.ts';

let dir: string;
let pw: Pitwall;
const clock = new FakeClock(Date.parse('2026-04-01T12:00:00Z'));
let ingestKey: string;
let readKey: string;

async function start(dataDir: string, extra: Record<string, string> = {}): Promise<Pitwall> {
  const cfg = loadConfig(
    { PITWALL_DATA_DIR: dataDir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: 'off', PITWALL_LOG_LEVEL: 'silent', ...extra },
    dataDir,
  );
  return startPitwall(cfg, { clock, logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pitwall-http-errors-'));
  mkdirSync(path.join(dir, 'main'));
  pw = await start(path.join(dir, 'main'));
  ingestKey = (await createKey(pw.store.db, clock, { name: 'producer', scopes: ['ingest'] })).key;
  readKey = (await createKey(pw.store.db, clock, { name: 'reader', scopes: ['read'] })).key;
});

afterAll(async () => {
  await pw?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

interface Reply {
  status: number;
  contentType: string;
  headers: Headers;
  body: Record<string, unknown>;
}

async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', headers: res.headers, body: JSON.parse(text) };
}

function expectProblem(r: Reply, status: number, code: string): void {
  expect(r.status).toBe(status);
  expect(r.contentType).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code, type: `https://pitwall.dev/errors#${code}` });
  expect(typeof r.body.title).toBe('string');
  expect(typeof r.body.detail).toBe('string');
}

const productAdded = (id: string, source = 'urn:pitwall-test:http') => ({
  specversion: '1.0',
  id,
  source,
  type: 'commerce.product_added',
  data: { event: 'Product Added', properties: { product_id: 'p-1' } },
});

describe('problem+json errors', () => {
  it('answers malformed JSON with 400 PW_BODY_MALFORMED', async () => {
    for (const contentType of ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json']) {
      const r = await send(`${pw.httpUrl}/v1/events`, {
        method: 'POST',
        headers: { ...bearer(ingestKey), 'content-type': contentType },
        body: '{"specversion": "1.0", "id": ',
      });
      expectProblem(r, 400, 'PW_BODY_MALFORMED');
    }
    const segment = await send(`${pw.httpUrl}/v1/batch`, {
      method: 'POST',
      headers: { ...bearer(ingestKey), 'content-type': 'text/plain' },
      body: '{"batch": [',
    });
    expectProblem(segment, 400, 'PW_BODY_MALFORMED');
  });

  it('answers an unknown route with 404 PW_NOT_FOUND naming the route', async () => {
    const r = await send(`${pw.httpUrl}/v1/nothing-here?x=1`, { headers: bearer(readKey) });
    expectProblem(r, 404, 'PW_NOT_FOUND');
    expect(r.body.detail).toContain('GET /v1/nothing-here');
    const wrongMethod = await send(`${pw.httpUrl}/v1/events`, { method: 'DELETE', headers: bearer(readKey) });
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.contentType).toMatch(/^application\/problem\+json/);
  });

  it('answers a bad query parameter with 400 PW_QUERY_INVALID and a pointer to it', async () => {
    for (const [query, pointer] of [
      ['limit=0', '/limit'],
      ['limit=abc', '/limit'],
      ['limit=1001', '/limit'],
      ['order=sideways', '/order'],
      ['since=yesterday', '/since'],
      ['until=2026-13-45', '/until'],
      ['cursor=bm9wZQ', '/cursor'],
    ] as const) {
      const r = await send(`${pw.httpUrl}/v1/events?${query}`, { headers: bearer(readKey) });
      expectProblem(r, 400, 'PW_QUERY_INVALID');
      expect(r.body.pointer, query).toBe(pointer);
    }
    const q = await send(`${pw.httpUrl}/v1/quarantine?status=lost`, { headers: bearer(readKey) });
    expectProblem(q, 400, 'PW_QUERY_INVALID');
  });

  it('answers a body over 1 MB on /v1/events with 413 PW_BODY_TOO_LARGE and stores nothing', async () => {
    const events = Array.from({ length: 40 }, (_, i) => ({ ...productAdded(`too-large-${i}`), pad: 'z'.repeat(30_000) }));
    const r = await send(`${pw.httpUrl}/v1/events`, {
      method: 'POST',
      headers: { ...bearer(ingestKey), 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(events),
    });
    expectProblem(r, 413, 'PW_BODY_TOO_LARGE');
    expect((await pw.log.read(0, 100_000)).some((e) => e.event.id.startsWith('too-large-'))).toBe(false);
  });

  it('answers a request without a key with 401, a code and WWW-Authenticate', async () => {
    const r = await send(`${pw.httpUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expectProblem(r, 401, 'PW_AUTH_MISSING');
    expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
  });
});

describe('overload', () => {
  it('answers 429 with Retry-After once the commit queue is deeper than PITWALL_MAX_PENDING_EVENTS, and keeps every acknowledged event', async () => {
    const overloadDir = path.join(dir, 'overload');
    mkdirSync(overloadDir);
    const small = await start(overloadDir, { PITWALL_MAX_PENDING_EVENTS: '100' });
    try {
      const key = (await createKey(small.store.db, clock, { name: 'flood', scopes: ['ingest'] })).key;
      const SENDERS = 20;
      const PER_BATCH = 101; // one batch alone never overloads; any second one in the same commit window must
      const acknowledged: string[] = [];
      const refused: string[] = [];
      const tooMany: Reply[] = [];
      // Concurrency is up to the event loop: send rounds until one overlaps (nearly always the first).
      for (let round = 0; round < 30 && tooMany.length === 0; round++) {
        // Open the connections first so every batch's bytes arrive together.
        await Promise.all(Array.from({ length: SENDERS }, () => fetch(`${small.httpUrl}/healthz`).then((r) => r.text())));
        const replies = await Promise.all(
          Array.from({ length: SENDERS }, async (_, s) => {
            const ids = Array.from({ length: PER_BATCH }, (_, i) => `flood-${round}-${s}-${i}`);
            const reply = await send(`${small.httpUrl}/v1/events`, {
              method: 'POST',
              headers: { ...bearer(key), 'content-type': 'application/cloudevents-batch+json' },
              body: JSON.stringify(ids.map((id) => productAdded(id, 'urn:pitwall-test:flood'))),
            });
            return { ids, reply };
          }),
        );
        for (const { ids, reply } of replies) {
          if (reply.status === 200) {
            expect(reply.body).toMatchObject({ accepted: PER_BATCH, rejected: 0 });
            acknowledged.push(...ids);
          } else {
            expectProblem(reply, 429, 'PW_INGEST_OVERLOADED');
            tooMany.push(reply);
            refused.push(...ids);
          }
        }
      }
      expect(tooMany.length).toBeGreaterThan(0);
      for (const r of tooMany) expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(acknowledged.length).toBeGreaterThan(0);

      const stored = new Set((await small.log.read(0, 1_000_000)).map((e) => e.event.id));
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
      expect(refused.filter((id) => stored.has(id))).toEqual([]);
      expect(stored.size).toBe(acknowledged.length);

      const metrics = await (await fetch(`${small.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^pitwall_ingest_overloaded_total ${tooMany.length}$`, 'm'));
    } finally {
      await small.stop();
    }
  });
});

describe('ops endpoints', () => {
  it('/healthz answers 200 ok', async () => {
    const r = await send(`${pw.httpUrl}/healthz`);
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^application\/json/);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 ready with the log head', async () => {
    await send(`${pw.httpUrl}/v1/events`, {
      method: 'POST',
      headers: { ...bearer(ingestKey), 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(productAdded('readyz-1')),
    });
    const head = await pw.log.head();
    expect(head).toBeGreaterThan(0);
    const r = await send(`${pw.httpUrl}/readyz`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ready', store: 'ok', log_head: head, pending_commits: 0 });
    expect(typeof r.body.quarantined).toBe('number');
  });

  /** Sums pitwall_ingest_events_total by outcome label. */
  function eventsByOutcome(text: string): Record<string, number> {
    const sums: Record<string, number> = {};
    for (const m of text.matchAll(/^pitwall_ingest_events_total\{([^}]*)\} (\d+(?:\.\d+)?)$/gm)) {
      const outcome = /outcome="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '?';
      sums[outcome] = (sums[outcome] ?? 0) + Number(m[2]);
    }
    return sums;
  }

  function durationCount(text: string, channel: string): number {
    const m = new RegExp(`^pitwall_ingest_duration_seconds_count\\{channel="${channel}"\\} (\\d+)$`, 'm').exec(text);
    return Number(m?.[1] ?? 0);
  }

  it('/metrics counts accepted, duplicate and rejected events and times ingestion', async () => {
    const before = await (await fetch(`${pw.httpUrl}/metrics`)).text();
    const r = await send(`${pw.httpUrl}/v1/events`, {
      method: 'POST',
      headers: { ...bearer(ingestKey), 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify([
        productAdded('metrics-1'),
        productAdded('metrics-2'),
        productAdded('metrics-1'),
        { ...productAdded('metrics-3'), type: 'nobody.knows_this' },
      ]),
    });
    expect(r.body).toMatchObject({ accepted: 2, duplicates: 1, rejected: 1 });

    const res = await fetch(`${pw.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const after = await res.text();
    expect(after).toContain('# TYPE pitwall_ingest_events_total counter');
    expect(after).toContain('# TYPE pitwall_ingest_duration_seconds histogram');
    expect(after).toMatch(/^pitwall_ingest_events_total\{outcome="accepted",channel="cloudevents"/m);

    const b = eventsByOutcome(before);
    const a = eventsByOutcome(after);
    expect((a.accepted ?? 0) - (b.accepted ?? 0)).toBe(2);
    expect((a.duplicate ?? 0) - (b.duplicate ?? 0)).toBe(1);
    expect((a.rejected ?? 0) - (b.rejected ?? 0)).toBe(1);
    expect(durationCount(after, 'cloudevents') - durationCount(before, 'cloudevents')).toBe(1);
  });
});

describe('no input gets a 5xx', () => {
  const ROUTES = ['/v1/events', '/v1/batch', '/v1/track', '/v1/senml'] as const;
  const CONTENT_TYPES = [
    'application/json',
    'application/json; charset=utf-8',
    'application/cloudevents+json',
    'application/cloudevents-batch+json',
    'application/senml+json',
    'text/plain',
    'text/plain; charset=utf-8',
    'application/octet-stream',
    'application/x-www-form-urlencoded',
    'application/xml',
    'multipart/form-data; boundary=x',
  ] as const;

  /** Checks the contract every ingest answer keeps, whatever was sent. */
  async function expectWellFormed(res: Response, what: string): Promise<void> {
    const text = await res.text();
    expect(res.status, what).toBeLessThan(500);
    let body: { code?: unknown; status?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${what}: answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    const ct = res.headers.get('content-type') ?? '';
    if (res.status >= 200 && res.status < 300) {
      expect(ct, what).toMatch(/^application\/json/);
    } else {
      expect(ct, what).toMatch(/^application\/problem\+json/);
      expect(typeof body.code, what).toBe('string');
      expect(body.status, what).toBe(res.status);
    }
  }

  const printable = fc.stringMatching(/^[!-~]{1,24}$/);
  /** Any time a sender might put in a timestamp field, including the ends of Date's range. */
  const anyTime = fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.constant(null),
    fc.constantFrom('+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '2026-04-01T12:00:00Z', '2026-04-01 12:00:00'),
  );
  const segmentMessage = fc.record(
    {
      type: fc.constantFrom('track', 'identify', 'page', 'alias', 'screen', 'group', 'bogus'),
      userId: fc.oneof(fc.string(), fc.integer(), fc.jsonValue()),
      anonymousId: fc.string(),
      event: fc.oneof(fc.constantFrom('Product Added', 'Order Completed', 'Checkout Started', '', '!!!'), fc.string()),
      previousId: fc.string(),
      name: fc.string(),
      properties: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
      traits: fc.jsonValue(),
      context: fc.oneof(fc.record({ consent: fc.jsonValue(), store: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue()),
      messageId: fc.oneof(fc.string(), fc.string({ minLength: 250, maxLength: 300 })),
      timestamp: anyTime,
      originalTimestamp: anyTime,
      sentAt: anyTime,
    },
    { requiredKeys: [] },
  );
  const segmentBody = fc.oneof(
    segmentMessage,
    fc.record(
      { batch: fc.oneof(fc.array(segmentMessage, { maxLength: 5 }), fc.jsonValue()), sentAt: anyTime },
      { requiredKeys: ['batch'] },
    ),
  );
  const cloudEvent = fc.record(
    {
      specversion: fc.constantFrom('1.0', '0.3', 1),
      id: fc.oneof(fc.string(), fc.integer(), fc.jsonValue()),
      source: fc.oneof(fc.string(), fc.constant('urn:pitwall-test:property'), fc.jsonValue()),
      type: fc.oneof(
        fc.constantFrom('commerce.product_added', 'commerce.order_completed', 'sensor.reading', 'customer.identified', 'nope', 'Bad.Type'),
        fc.jsonValue(),
      ),
      time: anyTime,
      subject: fc.jsonValue(),
      dataschema: fc.jsonValue(),
      data: fc.jsonValue(),
      pitwallhistory: fc.jsonValue(),
      userid: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  const senmlRecord = fc.record(
    {
      bn: fc.string(),
      bt: fc.oneof(fc.double(), fc.integer()),
      bu: fc.string(),
      bv: fc.double(),
      bver: fc.jsonValue(),
      n: fc.oneof(fc.string(), fc.constantFrom('temp', 'urn:dev:mac:0024befffe804ff1:temp')),
      u: fc.string(),
      v: fc.oneof(fc.double(), fc.jsonValue()),
      vs: fc.jsonValue(),
      vb: fc.jsonValue(),
      s: fc.double(),
      t: fc.oneof(fc.double(), fc.integer()),
      ut: fc.double(),
    },
    { requiredKeys: [] },
  );
  const shaped = fc.oneof(segmentBody, cloudEvent, fc.array(cloudEvent, { maxLength: 4 }), fc.array(senmlRecord, { maxLength: 4 }));

  const request = fc.record({
    route: fc.constantFrom(...ROUTES),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    body: fc.oneof(
      { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: fc.string() },
      { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
      { weight: 4, arbitrary: shaped.map((v) => JSON.stringify(v)) },
    ),
    auth: fc.constantFrom('ingest', 'ingest', 'ingest', 'ingest', 'none', 'unknown'),
    history: fc.boolean(),
    ceHeaders: fc.option(
      fc.record(
        {
          'ce-specversion': fc.constantFrom('1.0', '0.3', 'x'),
          'ce-id': printable,
          'ce-source': printable,
          'ce-type': fc.oneof(fc.constantFrom('commerce.product_added', 'sensor.reading'), printable),
          'ce-time': fc.oneof(
            printable,
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
          'ce-pitwallhistory': fc.constantFrom('true', 'false', 'yes'),
          'ce-subject': printable,
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  });

  it('answers every body on every ingest route with JSON, and every non-2xx with problem+json and a code', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { 'content-type': r.contentType, ...(r.ceHeaders ?? {}) };
        if (r.auth === 'ingest') headers.authorization = `Bearer ${ingestKey}`;
        if (r.auth === 'unknown') headers.authorization = 'Bearer pw_unknown_key';
        if (r.history) headers['pitwall-history'] = 'true';
        const res = await fetch(`${pw.httpUrl}${r.route}`, { method: 'POST', headers, body: r.body });
        await expectWellFormed(res, `${r.route} ${r.contentType} ${r.body.slice(0, 120)}`);
      }),
      {
        numRuns: 200,
        examples: [
          [
            {
              route: '/v1/events',
              contentType: 'application/json',
              body: '{"__proto__":{"x":1}}',
              auth: 'ingest',
              history: false,
              ceHeaders: undefined,
            },
          ],
          [{ route: '/v1/batch', contentType: 'text/plain', body: '', auth: 'ingest', history: false, ceHeaders: undefined }],
          // Rejected events whose attributes are not strings are still quarantined, not a 500.
          [
            {
              route: '/v1/events',
              contentType: 'application/json',
              body: '{"type":false}',
              auth: 'ingest',
              history: false,
              ceHeaders: undefined,
            },
          ],
          [
            {
              route: '/v1/events',
              contentType: 'application/json',
              body: '[{"source":[1],"type":{}}]',
              auth: 'ingest',
              history: false,
              ceHeaders: undefined,
            },
          ],
          [{ route: '/v1/senml', contentType: 'application/senml+json', body: '[]', auth: 'ingest', history: true, ceHeaders: undefined }],
          [
            {
              route: '/v1/track',
              contentType: 'application/json',
              body: '{"userId":"u","event":"Product Added","timestamp":1e300}',
              auth: 'ingest',
              history: false,
              ceHeaders: undefined,
            },
          ],
        ],
      },
    );
  });
});
