/**
 * Property: whatever body arrives at the decision API (any JSON, malformed text, near-valid
 * requests with odd values), the answer is a 200 or a 4xx problem+json — never a 5xx.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-11-20T09:00:00Z'));
let server: TestServer;
let key: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pitwall-sf-prop-'));
  const file = path.join(dir, 'pitwall.config.yaml');
  writeFileSync(
    file,
    'storefront:\n  rate_limits:\n    per_ip: { per_second: 100000, burst: 100000 }\n    per_key: { per_second: 100000, burst: 100000 }\n',
  );
  server = await startTestServer({ name: 'sf-prop', clock, env: { PITWALL_CONFIG: file } });
  key = (await createKey(server.pw.store.db, clock, { name: 'shop', scopes: ['publishable'], origins: ['https://shop.example'] })).key;
  const admin = (await createKey(server.pw.store.db, clock, { name: 'admin', scopes: ['admin'] })).key;
  const put = await fetch(`${server.pw.httpUrl}/v1/catalog`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ products: [{ sku: 'BRK-1', name: 'Pads', price: 10 }] }),
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('BRK-1', '', ' ', 'DE', 'a'.repeat(300), '__proto__', 'constructor'));
const value = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(text, { maxLength: 3 }),
  fc.dictionary(text, text, { maxKeys: 3 }),
);
const customer = fc.oneof(value, fc.record({ userId: fc.oneof(text, value), anonymousId: fc.oneof(text, value) }, { requiredKeys: [] }));
const product = fc.record(
  {
    skus: fc.oneof(fc.array(text, { maxLength: 60 }), value),
    customer,
    region: fc.oneof(text, value),
    postalCode: fc.oneof(text, value),
    store: fc.oneof(text, value),
    placement: fc.oneof(fc.constantFrom('page', 'exit_intent', 'nope'), value),
    page: fc.oneof(fc.record({ url: fc.oneof(text, value), type: fc.oneof(text, value) }, { requiredKeys: [] }), value),
  },
  { requiredKeys: [] },
);
const checkout = fc.record(
  { cartId: fc.oneof(text, value), customer, region: fc.oneof(text, value), postalCode: value },
  { requiredKeys: [] },
);
const word = fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/);
const valid = fc.oneof(
  fc.record(
    {
      skus: fc.array(fc.oneof(word, fc.constant('BRK-1')), { minLength: 1, maxLength: 50 }),
      customer: fc.record({ userId: word, anonymousId: word }, { requiredKeys: [] }),
      region: word,
      postalCode: word,
      placement: fc.constantFrom('page', 'exit_intent'),
      page: fc.record({ url: word, type: word }, { requiredKeys: [] }),
    },
    { requiredKeys: ['skus'] },
  ),
  fc.record({ cartId: word, customer: fc.record({ userId: word }), region: word }, { requiredKeys: ['cartId'] }),
);
const body = fc.oneof(
  valid.map((b) => JSON.stringify(b)),
  product.map((b) => JSON.stringify(b)),
  checkout.map((b) => JSON.stringify(b)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 50 }),
);

it('never answers a decide request with a 5xx', async () => {
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/v1/decide/product', '/v1/decide/checkout'),
      body,
      fc.constantFrom('application/json', 'text/plain'),
      async (route, payload, type) => {
        const res = await fetch(`${server.pw.httpUrl}${route}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, origin: 'https://shop.example', 'content-type': type },
          body: payload,
        });
        const answer = (await res.json()) as Record<string, unknown>;
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect(res.status, `${route} ${payload} → ${JSON.stringify(answer)}`).toBeLessThan(500);
        if (res.status === 200) expect(answer.decidedAt).toEqual(expect.any(String));
        else expect(answer.code).toMatch(/^PW_/);
      },
    ),
    { numRuns: 300, seed: 20261128 },
  );
  // The generator reaches both the decision code and the input checks.
  expect(seen.get(200) ?? 0).toBeGreaterThan(10);
  expect(seen.get(400) ?? 0).toBeGreaterThan(10);
}, 120_000);
