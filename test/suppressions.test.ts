/**
 * The suppression list over HTTP: add (by customer id, email address or email hash), update,
 * list and page, filter by customer, remove by id or by what it names; addresses never stored or echoed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { emailHash } from '../src/state/index.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
let server: TestServer;
let pw: Pitwall;
let admin: string;
let reader: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'suppressions', clock });
  pw = server.pw;
  admin = (await createKey(pw.store.db, clock, { name: 'admin', scopes: ['admin'] })).key;
  reader = (await createKey(pw.store.db, clock, { name: 'reader', scopes: ['read'] })).key;
});
afterAll(async () => {
  await server?.close();
});

async function call(method: string, path: string, body?: unknown, key = admin): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${pw.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('/v1/suppressions', () => {
  it('adds a suppression by customer id, and updates the same one on a second POST', async () => {
    const first = await call('POST', '/v1/suppressions', { customer: 'cus_1', channel: 'email', reason: 'hard bounce' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      customer: 'cus_1',
      email_sha256: null,
      channel: 'email',
      reason: 'hard bounce',
      until: null,
      active: true,
      created_at: '2026-06-01T09:00:00.000Z',
    });
    expect(String(first.body.created_by)).toMatch(/^key:/);
    clock.advance(60_000);
    const again = await call('POST', '/v1/suppressions', {
      customer: 'cus_1',
      channel: 'email',
      reason: 'asked us',
      until: '2026-07-01T00:00:00Z',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      id: first.body.id,
      reason: 'asked us',
      until: '2026-07-01T00:00:00.000Z',
      created_at: '2026-06-01T09:00:00.000Z',
    });
  });

  it('hashes an email address and never echoes it', async () => {
    clock.advance(60_000);
    const res = await call('POST', '/v1/suppressions', { email: ' Mara@Example.com', reason: 'complaint' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ customer: null, email_sha256: emailHash('mara@example.com'), channel: 'all' });
    expect(JSON.stringify(res.body).toLowerCase()).not.toContain('mara@');
    const byPrefix = await call('POST', '/v1/suppressions', { customer: `email_sha256:${emailHash('mara@example.com')}`, reason: 'again' });
    expect(byPrefix).toMatchObject({ status: 200, body: { id: res.body.id } });
  });

  it('refuses malformed suppressions with a pointer to the field', async () => {
    const cases: [unknown, string][] = [
      [{}, ''],
      [{ customer: 'cus_1', email: 'a@b.c' }, ''],
      [{ customer: 'cus_1', channel: 'ops' }, '/channel'],
      [{ customer: 'cus_1', until: '2020-01-01T00:00:00Z' }, '/until'],
      [{ customer: 'cus_1', color: 'red' }, '/color'],
      [{ email: 'not an address' }, '/email'],
      [{ email_sha256: 'abc' }, '/email_sha256'],
      [{ customer: 'cus_1', reason: '' }, '/reason'],
    ];
    for (const [body, pointer] of cases) {
      const res = await call('POST', '/v1/suppressions', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ code: 'PW_SUPPRESSION_INVALID', pointer });
    }
    expect((await call('POST', '/v1/suppressions', [1])).body.code).toBe('PW_REQUEST_INVALID');
    expect((await call('POST', '/v1/suppressions', { customer: 'vin:WVWZZZAUZHW999999' })).body.code).toBe('PW_CUSTOMER_NOT_FOUND');
  });

  it('needs admin to change and read to list', async () => {
    expect((await call('POST', '/v1/suppressions', { customer: 'cus_2' }, reader)).body.code).toBe('PW_AUTH_SCOPE');
    expect((await call('GET', '/v1/suppressions', undefined, reader)).status).toBe(200);
    expect((await call('GET', '/v1/suppressions', undefined, 'pw_nope')).status).toBe(401);
  });

  it('lists newest first with a cursor, and filters by customer', async () => {
    clock.advance(60_000);
    await call('POST', '/v1/suppressions', { customer: 'cus_3' });
    const page1 = await call('GET', '/v1/suppressions?limit=2', undefined, reader);
    const s1 = page1.body.suppressions as Record<string, unknown>[];
    expect(s1.map((s) => s.customer ?? s.email_sha256)).toEqual(['cus_3', emailHash('mara@example.com')]);
    const page2 = await call('GET', `/v1/suppressions?limit=2&cursor=${page1.body.next_cursor}`, undefined, reader);
    expect((page2.body.suppressions as Record<string, unknown>[]).map((s) => s.customer)).toEqual(['cus_1']);
    expect(page2.body.next_cursor).toBeNull();
    const forMara = await call('GET', `/v1/suppressions?customer=${encodeURIComponent('email:mara@example.com')}`, undefined, reader);
    expect((forMara.body.suppressions as Record<string, unknown>[]).map((s) => s.email_sha256)).toEqual([emailHash('mara@example.com')]);
    const forCus1 = await call('GET', '/v1/suppressions?customer=cus_1', undefined, reader);
    expect((forCus1.body.suppressions as Record<string, unknown>[]).map((s) => s.channel)).toEqual(['email']);
    expect((await call('GET', '/v1/suppressions?cursor=zzz', undefined, reader)).body.code).toBe('PW_QUERY_INVALID');
  });

  it('removes by id, or by what the suppression names', async () => {
    const created = await call('POST', '/v1/suppressions', { customer: 'cus_4' });
    expect((await call('DELETE', `/v1/suppressions/${created.body.id}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/suppressions/${created.body.id}`)).body.code).toBe('PW_SUPPRESSION_NOT_FOUND');
    expect((await call('DELETE', '/v1/suppressions?customer=cus_1&channel=email')).status).toBe(204);
    expect((await call('DELETE', '/v1/suppressions', { email: 'mara@example.com' })).status).toBe(204);
    expect((await call('DELETE', '/v1/suppressions?customer=cus_1')).status).toBe(404);
    const left = await call('GET', '/v1/suppressions', undefined, reader);
    expect((left.body.suppressions as Record<string, unknown>[]).map((s) => s.customer)).toEqual(['cus_3']);
  });
});
