/**
 * The storefront end to end through a real server: publishable keys with an origin allow-list,
 * CORS preflights, rate limits, the decision API over state built from real events (catalogue,
 * shelf sensor, identify traits, a cart, a shipment that goes wrong), a workflow whose
 * `checkout.offer` and `survey.show` the checkout answer serves with their why, and a survey
 * answered with the token from that answer. FakeClock, no sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOutbox } from '../src/act/index.ts';
import { deterministicId, FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { IdentitySecrets, userHash } from '../src/storefront/index.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const H = 3_600_000;
const clock = new FakeClock(Date.parse('2026-11-20T09:00:00Z'));
const SHOP = 'https://shop.example';
let server: TestServer;
let pw: Pitwall;
let admin: string;
let writer: string;
let pk: string;

const iso = (ms: number) => new Date(ms).toISOString();

/** What the shop's server does: HMAC the signed-in user's id with store main's identity secret. */
async function hashOf(userId: string): Promise<string> {
  const { secret } = await new IdentitySecrets(pw.store.db, clock).show('main');
  return userHash(secret, userId);
}

interface Res {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  method: string,
  route: string,
  opts: { key?: string; json?: unknown; origin?: string; type?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.origin) headers.origin = opts.origin;
  if (opts.json !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(`${pw.httpUrl}${route}`, {
    method,
    headers,
    ...(opts.json !== undefined ? { body: typeof opts.json === 'string' ? opts.json : JSON.stringify(opts.json) } : {}),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body };
}

async function settle(): Promise<void> {
  for (;;) {
    const head = await pw.log.head();
    await pw.state?.caughtUp(head);
    await pw.automation?.caughtUp(head);
    if ((await pw.log.head()) === head) return;
  }
}

let n = 0;
async function events(list: { type: string; data: unknown; ext?: Record<string, unknown> }[]): Promise<void> {
  const body = list.map((e) => ({
    specversion: '1.0',
    id: `e-${++n}`,
    source: 'urn:test',
    type: e.type,
    time: iso(clock.now()),
    data: e.data,
    ...e.ext,
  }));
  const r = await call('POST', '/v1/events', { key: writer, json: body, type: 'application/cloudevents-batch+json' });
  expect(r.status).toBe(200);
  expect(r.body.rejected, JSON.stringify(r.body)).toBe(0);
  await settle();
}

async function segment(path: string, body: Record<string, unknown>): Promise<void> {
  const r = await call('POST', path, { key: writer, json: { messageId: `m-${++n}`, timestamp: iso(clock.now()), ...body } });
  expect(r.status).toBe(200);
  await settle();
}

const WORKFLOW = `schemaVersion: 1
id: late-express
name: Late shipment → express offer and survey
customer: "'u-1'"
trigger:
  event: shipment.delayed
steps:
  - action: checkout.offer
    purpose: service
    with: { cart: c-1, shipping: express, message: "Express on us", discount: { percent: 10, code: SORRY10 }, expires_in: 24h }
  - action: survey.show
    purpose: service
    with: { survey: what-stopped-you, placement: exit_intent, expires_in: 24h }
`;

beforeAll(async () => {
  server = await startTestServer({ name: 'storefront', clock });
  pw = server.pw;
  admin = (await createKey(pw.store.db, clock, { name: 'admin', scopes: ['admin'] })).key;
  writer = (await createKey(pw.store.db, clock, { name: 'w', scopes: ['ingest', 'read'] })).key;
  pk = (await createKey(pw.store.db, clock, { name: 'shop', scopes: ['publishable'], origins: [SHOP], store: 'main' })).key;
  expect(pk.startsWith('pk_')).toBe(true);

  const product = {
    sku: 'BRK-1001',
    name: 'Front brake pads',
    price: 49.9,
    currency: 'EUR',
    fitment: [{ make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020 }],
  };
  expect((await call('PUT', '/v1/catalog', { key: admin, json: { products: [product] } })).status).toBe(200);
  expect(
    (
      await call('PUT', '/v1/carriers', {
        key: admin,
        json: [
          { id: 'dhl', name: 'DHL' },
          { id: 'ups', name: 'UPS' },
        ],
      })
    ).status,
  ).toBe(200);
  const lanes = [
    { carrier_id: 'dhl', origin: 'wh-north', destination: 'DE', transit_hours_p50: 48, transit_hours_p90: 96, cost: 4.9, currency: 'EUR' },
    {
      carrier_id: 'ups',
      origin: 'wh-north',
      destination: 'DE',
      transit_hours_p50: 20,
      transit_hours_p90: 30,
      cost: 14.9,
      currency: 'EUR',
      attributes: { service: 'express' },
    },
  ];
  expect((await call('PUT', '/v1/lanes', { key: admin, json: lanes })).status).toBe(200);
  const wf = await call('PUT', '/v1/workflows/late-express', { key: admin, json: WORKFLOW, type: 'application/yaml' });
  expect(wf.status, JSON.stringify(wf.body)).toBeLessThan(300);

  await segment('/v1/identify', { userId: 'u-1', traits: { vehicle: { make: 'Ford', model: 'F-150', year: 2019 } } });
  await events([
    { type: 'sensor.reading', data: { n: 'urn:dev:mac:0024befffe804ff1:shelf:wh-north:BRK-1001', v: 12, t: clock.now() / 1000 } },
  ]);
  await segment('/v1/track', {
    userId: 'u-1',
    event: 'Product Added',
    properties: { cart_id: 'c-1', sku: 'BRK-1001', price: 49.9, quantity: 1 },
  });
  await events([
    {
      type: 'shipment.created',
      data: {
        shipment_id: 's-1',
        carrier: 'dhl',
        origin: 'wh-north',
        destination: 'DE',
        promised_at: iso(clock.now() + 48 * H),
        lines: [{ sku: 'BRK-1001', quantity: 3 }],
      },
    },
  ]);
  clock.advance(H);
  await events([{ type: 'shipment.status', data: { shipment_id: 's-1', status: 'exception', reason: 'vehicle breakdown' } }]);
  await pw.timerRunner?.tick();
  await settle();
  for (let i = 0; i < 5; i++) await pw.dispatcher.tick();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('publishable keys', () => {
  it('refuses a publishable key outside the storefront routes', async () => {
    const r = await call('GET', '/v1/events', { key: pk });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('PW_KEY_SCOPE');
    expect(r.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses a request from an origin the key does not allow, and answers CORS for one it does', async () => {
    const bad = await call('POST', '/v1/decide/product', { key: pk, origin: 'https://evil.example', json: { skus: ['BRK-1001'] } });
    expect(bad.status).toBe(403);
    expect(bad.body.code).toBe('PW_ORIGIN_NOT_ALLOWED');
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const good = await call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: { skus: ['BRK-1001'] } });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe(SHOP);
  });

  it('answers preflights for allowed origins only', async () => {
    const ok = await fetch(`${pw.httpUrl}/v1/decide/checkout`, {
      method: 'OPTIONS',
      headers: { origin: SHOP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(ok.headers.get('access-control-allow-headers')).toContain('Authorization');
    const no = await fetch(`${pw.httpUrl}/v1/decide/checkout`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(no.status).toBe(403);
    expect(((await no.json()) as { code: string }).code).toBe('PW_ORIGIN_NOT_ALLOWED');
  });

  it('lets a server-side read key decide, without an Origin', async () => {
    const r = await call('POST', '/v1/decide/product', { key: writer, json: { skus: ['BRK-1001'] } });
    expect(r.status).toBe(200);
  });
});

describe('POST /v1/decide/product', () => {
  it('answers availability, a promise with a reliability note, fitment and why; an unknown SKU is not an error', async () => {
    const r = await call('POST', '/v1/decide/product', {
      key: pk,
      origin: SHOP,
      json: {
        skus: ['BRK-1001', 'NOPE-1'],
        customer: { userId: 'u-1', userHash: await hashOf('u-1') },
        region: 'DE',
        placement: 'page',
        page: { type: 'product' },
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.identity).toEqual({ status: 'verified' });
    const [p = {}, unknown] = r.body.products as Record<string, unknown>[];
    expect(p).toMatchObject({
      sku: 'BRK-1001',
      known: true,
      name: 'Front brake pads',
      price: 49.9,
      availability: { inStock: true, band: 'in_stock', warehouses: [{ warehouse: 'wh-north', band: 'in_stock' }] },
      promise: { carrier: 'dhl', lane: 'wh-north→DE', note: 'This route has been slower than usual' },
      fitment: { vehicle: '2019 Ford F-150', fits: true, text: 'Fits your 2019 Ford F-150' },
    });
    const promise = p.promise as { p50: string; p90: string };
    expect(promise.p50 <= promise.p90).toBe(true);
    expect((p.why as string[]).some((w) => w.includes('lane dhl wh-north → DE') && w.includes('delayed now'))).toBe(true);
    expect(unknown).toMatchObject({
      sku: 'NOPE-1',
      known: false,
      promise: null,
      availability: { inStock: false, band: 'out', warehouses: [] },
    });
    expect(typeof r.body.decidedAt).toBe('string');
    // A browser learns bands and when a parcel from each warehouse would arrive, not the counts.
    const house = (p.availability as { warehouses: Record<string, unknown>[] }).warehouses[0];
    expect(house).toEqual({
      warehouse: 'wh-north',
      band: 'in_stock',
      eta: { p50: expect.any(String), p90: expect.any(String), carrier: 'dhl' },
    });
    expect(p.availability).not.toHaveProperty('total');
    // The shop's server (a secret key) gets the counts.
    const server = await call('POST', '/v1/decide/product', { key: writer, json: { skus: ['BRK-1001'], customer: { userId: 'u-1' } } });
    expect(server.body.identity).toEqual({ status: 'server' });
    expect((server.body.products as Record<string, unknown>[])[0]).toMatchObject({
      availability: { inStock: true, band: 'in_stock', total: 12, warehouses: [{ warehouse: 'wh-north', onHand: 12, band: 'in_stock' }] },
      fitment: { fits: true },
    });
  });

  it('answers malformed bodies with problem+json and a pointer', async () => {
    const r = await call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: { skus: [] } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'PW_DECIDE_INVALID', pointer: '/skus' });
    const t = await call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: { skus: ['A'], customer: { userId: 5 } } });
    expect(t.body).toMatchObject({ code: 'PW_DECIDE_INVALID', pointer: '/customer/userId' });
  });
});

describe('identity verification for publishable keys', () => {
  const product = (customer: Record<string, string>) =>
    call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: { skus: ['BRK-1001'], customer, placement: 'page' } });
  const checkout = (customer?: Record<string, string>) =>
    call('POST', '/v1/decide/checkout', {
      key: pk,
      origin: SHOP,
      json: { cartId: 'c-1', region: 'DE', ...(customer ? { customer } : {}) },
    });

  it("treats a userId without a valid userHash as anonymous: no fitment for someone else's vehicle, and says why", async () => {
    const tries: Record<string, string>[] = [
      { userId: 'u-1' },
      { userId: 'u-1', userHash: await hashOf('u-2') },
      { userId: 'u-1', userHash: 'f'.repeat(64) },
      { userId: 'u-1', userHash: 'not hex' },
    ];
    for (const customer of tries) {
      const r = await product(customer);
      expect(r.status).toBe(200);
      expect((r.body.products as Record<string, unknown>[])[0]?.fitment).toBeNull();
      const identity = r.body.identity as { status: string; reasons: string[] };
      expect(identity.status).toBe('unverified');
      expect(identity.reasons[0]).toMatch(customer.userHash === undefined ? /userHash is missing/ : /does not match/);
    }
    const ok = await product({ userId: 'u-1', userHash: await hashOf('u-1') });
    expect((ok.body.products as Record<string, unknown>[])[0]?.fitment).toMatchObject({ text: 'Fits your 2019 Ford F-150' });
  });

  it('serves a guessed cart id as an unknown cart: no lines, offers, codes or survey of its owner', async () => {
    const tries: (Record<string, string> | undefined)[] = [
      undefined,
      { anonymousId: 'visitor-1' },
      { userId: 'u-1' },
      // The owner's user id passed off as an anonymous id: it belongs to a signed-in customer.
      { anonymousId: 'u-1' },
      { userId: 'u-2', userHash: await hashOf('u-2'), anonymousId: 'u-1' },
    ];
    for (const customer of tries) {
      const r = await checkout(customer);
      expect(r.status).toBe(200);
      expect(r.body.cart).toMatchObject({ cartId: 'c-1', known: false, value: 0, lines: [] });
      expect(r.body.offers).toEqual([]);
      expect(r.body.survey).toBeNull();
      expect(JSON.stringify(r.body)).not.toContain('SORRY10');
      expect(JSON.stringify(r.body.identity), JSON.stringify(customer)).toMatch(/cart c-1 is not this visitor's|signed-in customer/);
    }
    // The express lane is still recommended for the slow region: that is not the customer's.
    const anon = await checkout({ anonymousId: 'visitor-1' });
    expect((anon.body.shippingOptions as { id: string }[]).map((o) => o.id)).toEqual(['express', 'standard']);
  });

  it("serves an anonymous visitor's own cart to the anonymous id that filled it, and to no other", async () => {
    await segment('/v1/track', {
      anonymousId: 'anon-7f3a',
      event: 'Product Added',
      properties: { cart_id: 'c-anon', sku: 'BRK-1001', price: 49.9, quantity: 2 },
    });
    clock.advance(6000); // past the decision caches
    const ask = (anonymousId: string) =>
      call('POST', '/v1/decide/checkout', { key: pk, origin: SHOP, json: { cartId: 'c-anon', customer: { anonymousId } } });
    const own = await ask('anon-7f3a');
    expect(own.body.cart).toMatchObject({ known: true, lines: [{ sku: 'BRK-1001', quantity: 2 }] });
    expect(own.body.identity).toEqual({ status: 'anonymous' });
    expect((await ask('anon-other')).body.cart).toMatchObject({ known: false, lines: [] });
  });
});

describe('POST /v1/decide/checkout and the survey it offers', () => {
  let token = '';

  it('recommends the express option a workflow offered for a cart on a delayed lane, and says why', async () => {
    const r = await call('POST', '/v1/decide/checkout', {
      key: pk,
      origin: SHOP,
      json: { cartId: 'c-1', region: 'DE', customer: { userId: 'u-1', userHash: await hashOf('u-1') } },
    });
    expect(r.status).toBe(200);
    expect(r.body.cart).toMatchObject({ cartId: 'c-1', known: true, value: 49.9, lines: [{ sku: 'BRK-1001', quantity: 1 }] });
    const options = r.body.shippingOptions as Record<string, unknown>[];
    expect(options.map((o) => o.id)).toEqual(['express', 'standard']);
    expect(options[0]).toMatchObject({ id: 'express', carrier: 'ups', price: 0, recommended: true });
    expect(options[1]).toMatchObject({ id: 'standard', carrier: 'dhl', recommended: false, note: 'This route has been slower than usual' });
    const offers = r.body.offers as Record<string, unknown>[];
    expect(offers).toContainEqual(
      expect.objectContaining({
        kind: 'shipping',
        shipping: 'express',
        text: 'Express on us',
        why: expect.objectContaining({ workflow: 'late-express', signal: 'shipment.delayed' }),
      }),
    );
    // The offer is for this verified customer's own cart: its code comes along.
    expect(offers).toContainEqual(expect.objectContaining({ kind: 'discount', discountPercent: 10, code: 'SORRY10' }));
    const survey = r.body.survey as { id: string; placement: string; token: string; why: Record<string, unknown> };
    expect(survey).toMatchObject({ id: 'what-stopped-you', placement: 'exit_intent', why: { workflow: 'late-express' } });
    // A browser gets the workflow and the signal, not the run id or the directive key.
    expect(survey.why).toEqual({ workflow: 'late-express', run: null, signal: 'shipment.delayed' });
    token = survey.token;
    // The shop's server sees the internals.
    const server = await call('POST', '/v1/decide/checkout', { key: writer, json: { cartId: 'c-1', region: 'DE' } });
    expect((server.body.survey as { why: { run: unknown; directive: unknown } }).why).toMatchObject({
      run: expect.any(String),
      directive: expect.any(String),
    });
  });

  it('serves the survey in a locale, takes the answer with the token, and rejects one never shown', async () => {
    const def = await call('GET', '/v1/surveys/what-stopped-you?locale=de', { key: pk, origin: SHOP });
    expect(def.status).toBe(200);
    expect(def.body).toMatchObject({ id: 'what-stopped-you', locale: 'de' });
    expect((def.body.questions as { prompt: string }[])[0]?.prompt).toContain('abgehalten');

    const never = await call('POST', '/v1/surveys/what-stopped-you/responses', {
      key: pk,
      origin: SHOP,
      json: { answers: [{ question: 'reason', value: 'price' }] },
    });
    expect(never.status).toBe(422);
    expect(never.body.code).toBe('PW_SURVEY_NOT_SHOWN');
    const forged = await call('POST', '/v1/surveys/what-stopped-you/responses', {
      key: pk,
      origin: SHOP,
      json: { token: `${token}x`, answers: [{ question: 'reason', value: 'price' }] },
    });
    expect(forged.body.code).toBe('PW_SURVEY_NOT_SHOWN');
    const range = await call('POST', '/v1/surveys/what-stopped-you/responses', {
      key: pk,
      origin: SHOP,
      json: { token, answers: [{ question: 'reason', value: 'teleport' }] },
    });
    expect(range.status).toBe(422);
    expect(range.body).toMatchObject({ code: 'PW_SURVEY_ANSWER_INVALID', pointer: '/answers/0/value' });

    expect((await call('POST', '/v1/surveys/what-stopped-you/impressions', { key: pk, origin: SHOP, json: { token } })).status).toBe(204);
    const ok = await call('POST', '/v1/surveys/what-stopped-you/responses', {
      key: pk,
      origin: SHOP,
      json: {
        token,
        answers: [
          { question: 'reason', value: 'delivery_time' },
          { question: 'details', value: 'needed them by Friday' },
        ],
        context: { url: `${SHOP}/checkout` },
      },
    });
    expect(ok.status).toBe(201);
    await settle();

    const logged = await pw.log.query({ type: 'survey.response', order: 'asc', limit: 10 });
    expect(logged).toHaveLength(1);
    const data = logged[0]?.event.data as Record<string, unknown>;
    expect(logged[0]?.event.userid).toBe('u-1');
    expect(data).toMatchObject({
      survey_id: 'what-stopped-you',
      cart_id: 'c-1',
      placement: 'exit_intent',
      context: { url: `${SHOP}/checkout` },
    });
    expect((data.context as { delayed_shipments: { shipment_id: string }[] }).delayed_shipments.map((s) => s.shipment_id)).toEqual(['s-1']);

    // The directive was one-shot: shown, so the next checkout answer offers no survey.
    const again = await call('POST', '/v1/decide/checkout', { key: pk, origin: SHOP, json: { cartId: 'c-1', region: 'DE' } });
    clock.advance(2000); // past the directive snapshot's TTL
    const later = await call('POST', '/v1/decide/checkout', { key: pk, origin: SHOP, json: { cartId: 'c-1', region: 'DE' } });
    expect(again.status).toBe(200);
    expect(later.body.survey).toBeNull();

    const results = await call('GET', '/v1/surveys/what-stopped-you/results', { key: writer });
    expect(results.status).toBe(200);
    expect(results.body).toMatchObject({ responses: 1, impressions: 1 });
    expect((results.body.abandonmentReasons as { reason: string; count: number }[])[0]).toMatchObject({
      reason: 'delivery_time',
      count: 1,
      share: 1,
    });
    const csv = await fetch(`${pw.httpUrl}/v1/surveys/what-stopped-you/results?format=csv`, {
      headers: { authorization: `Bearer ${writer}` },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe('response_id,created_at,customer,cart_id,order_id,placement,reason,details');
    expect(text).toContain('delivery_time,needed them by Friday');

    const pkResults = await call('GET', '/v1/surveys/what-stopped-you/results', { key: pk, origin: SHOP });
    expect(pkResults.body.code).toBe('PW_KEY_SCOPE');
  });
});

describe('survey definitions over HTTP', () => {
  it('saves versions with an admin key, lists them with read, refuses bad ones with every problem', async () => {
    const def = {
      id: 'fit-check',
      name: 'Fit check',
      questions: [{ id: 'fit', type: 'rating', prompt: 'How well did it fit?', required: true, min: 1, max: 10 }],
      thankYou: { text: 'Thanks' },
      placements: [{ type: 'page', pageTypes: ['confirmation'] }],
    };
    expect((await call('PUT', '/v1/surveys/fit-check', { key: pk, origin: SHOP, json: def })).body.code).toBe('PW_KEY_SCOPE');
    expect((await call('PUT', '/v1/surveys/fit-check', { key: admin, json: def })).status).toBe(201);
    const v2 = await call('PUT', '/v1/surveys/fit-check', { key: admin, json: { ...def, name: 'Fit check v2' } });
    expect(v2).toMatchObject({ status: 200, body: { version: 2, name: 'Fit check v2' } });
    const bad = await call('PUT', '/v1/surveys/fit-check', {
      key: admin,
      json: { ...def, questions: [{ id: 'fit', type: 'stars', prompt: '', required: 'yes' }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('PW_SURVEY_INVALID');
    expect((bad.body.problems as { pointer: string }[]).map((p) => p.pointer)).toEqual([
      '/questions/0/type',
      '/questions/0/prompt',
      '/questions/0/required',
    ]);
    const list = await call('GET', '/v1/surveys', { key: writer });
    expect((list.body.surveys as { id: string }[]).map((x) => x.id)).toEqual(['fit-check', 'post-purchase-csat', 'what-stopped-you']);
    expect((await call('GET', '/v1/surveys/nope', { key: pk, origin: SHOP })).body.code).toBe('PW_SURVEY_NOT_FOUND');
  });

  it("serves a publishable key its own store's audiences, whatever store the browser names", async () => {
    const def = {
      id: 'outlet-only',
      name: 'Outlet only',
      questions: [{ id: 'q', type: 'csat', prompt: 'How was the outlet?', required: true }],
      thankYou: { text: 'Thanks' },
      placements: [{ type: 'page', auto: true }],
      audience: "store == 'outlet'",
    };
    expect((await call('PUT', '/v1/surveys/outlet-only', { key: admin, json: def })).status).toBe(201);
    clock.advance(60_000); // past the decision cache
    const ask = {
      skus: ['BRK-1001'],
      customer: { userId: 'u-outlet', userHash: await hashOf('u-outlet') },
      store: 'outlet',
      placement: 'page',
    };
    // The pk serves store "main": the browser cannot pick the outlet's audience.
    const browser = await call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: ask });
    expect(browser.status).toBe(200);
    expect(browser.body.survey).toBeNull();
    // A publishable key made without a store serves "default", not whatever the browser names.
    const storeless = (await createKey(pw.store.db, clock, { name: 'storeless', scopes: ['publishable'], origins: [SHOP] })).key;
    const anonymous = { ...ask, customer: { anonymousId: 'anon-outlet' } };
    const fromStoreless = await call('POST', '/v1/decide/product', { key: storeless, origin: SHOP, json: anonymous });
    expect(fromStoreless.status).toBe(200);
    expect(fromStoreless.body.survey).toBeNull();
    // A server-side key names the store it renders for.
    const backend = await call('POST', '/v1/decide/product', { key: writer, json: ask });
    expect((backend.body.survey as { id: string } | null)?.id).toBe('outlet-only');
    const backendAnonymous = await call('POST', '/v1/decide/product', { key: writer, json: anonymous });
    expect((backendAnonymous.body.survey as { id: string } | null)?.id).toBe('outlet-only');
  });
});

describe('recommendations', () => {
  it("serves a recommend action's parts to the verified customer it was made for, and to no one who merely names them", async () => {
    const fits = [{ make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020 }];
    const products = [
      { sku: 'BRK-1001', name: 'Front brake pads', price: 49.9, currency: 'EUR', fitment: fits },
      { sku: 'BRK-2002', name: 'Front brake pads, ceramic', price: 69.9, currency: 'EUR', fitment: fits },
    ];
    expect((await call('PUT', '/v1/catalog', { key: admin, json: { products } })).status).toBe(200);
    // What a workflow's `recommend` step does: through the outbox and the dispatcher.
    const runId = 'run-garage-upsell';
    await openOutbox(pw.store, clock).enqueue(pw.store.db, [
      {
        key: deterministicId('pitwall.action', runId, 'steps.0'),
        runId,
        workflowId: 'garage-upsell',
        workflowVersion: 1,
        stepPath: 'steps.0',
        type: 'recommend',
        params: { kind: 'upsell', sku: 'BRK-1001' },
        customerId: 'u-1',
        createdAtMs: clock.now(),
      },
    ]);
    expect(await pw.dispatcher.tick()).toMatchObject({ completed: 1 });
    clock.advance(11_000); // past the decision caches
    const ask = (customer: Record<string, string>) =>
      call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: { skus: ['BRK-1001'], customer } });
    const mine = await ask({ userId: 'u-1', userHash: await hashOf('u-1') });
    expect(mine.body.recommendations).toEqual([
      {
        sku: 'BRK-2002',
        name: 'Front brake pads, ceramic',
        price: 69.9,
        reason: 'An upgrade for BRK-1001 that fits your 2019 Ford F-150',
        fitsVehicle: true,
        why: { workflow: 'garage-upsell', run: null, signal: null },
      },
    ]);
    const others: Record<string, string>[] = [{ userId: 'u-1' }, { anonymousId: 'u-1' }, { userId: 'u-2', userHash: await hashOf('u-2') }];
    for (const customer of others) expect((await ask(customer)).body.recommendations, JSON.stringify(customer)).toEqual([]);
  });
});

describe('rate limits', () => {
  it('limits survey responses per address (spam) with 429', async () => {
    let limited: Res | undefined;
    for (let i = 0; i < 12 && limited === undefined; i++) {
      const r = await call('POST', '/v1/surveys/what-stopped-you/responses', {
        key: pk,
        origin: SHOP,
        json: { token: 'x.y', answers: [] },
      });
      if (r.status === 429) limited = r;
      else expect(r.body.code).toBe('PW_SURVEY_NOT_SHOWN');
    }
    expect(limited?.body.code).toBe('PW_RATE_LIMITED');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    clock.advance(60_000); // the bucket refills (one per 5 s)
  });

  it('limits one browser address with 429 and Retry-After, not a server-side key, and lets it in again as the bucket refills', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 120; i++) {
      const r = await call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: { skus: ['BRK-1001'] } });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        expect(r.body.code).toBe('PW_RATE_LIMITED');
        break;
      }
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // A server-side key from the same address is not a browser: only its own bucket applies.
    expect((await call('POST', '/v1/decide/product', { key: writer, json: { skus: ['BRK-1001'] } })).status).toBe(200);
    // A made-up server-side key does not escape the address's limit.
    expect((await call('POST', '/v1/decide/product', { key: 'pw_made_up', json: { skus: ['BRK-1001'] } })).status).toBe(429);
    clock.advance(Number(retryAfter) * 1000);
    expect((await call('POST', '/v1/decide/product', { key: pk, origin: SHOP, json: { skus: ['BRK-1001'] } })).status).toBe(200);
  });
});
