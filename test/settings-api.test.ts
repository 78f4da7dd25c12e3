/**
 * The settings routes over HTTP on both backends: keys are listed without secrets, created with
 * the secret answered once (and it works), revoked (and then refused); a key cannot revoke itself;
 * everything key-related needs admin — also through a dashboard session, which needs its CSRF token;
 * the contact policy and holdout defaults read back as configured; stores come from publishable keys.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parsePolicySettings } from '../src/automate/index.ts';
import { FakeClock } from '../src/core/index.ts';
import { SchemaRegistry } from '../src/events/index.ts';
import { createKey, KeyAuthenticator, SessionStore } from '../src/govern/index.ts';
import { buildApp } from '../src/http/index.ts';
import { defaultDoors, Ingestor } from '../src/ingest/index.ts';
import { type EventLog, openEventLog } from '../src/log/index.ts';
import { Metrics } from '../src/ops/index.ts';
import type { Store } from '../src/store/index.ts';
import { type Backend, describeEachBackend } from './support/backends.ts';

describeEachBackend('settings API', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let app: FastifyInstance;
  let clock: FakeClock;
  let admin: string;
  let adminId: string;
  let reader: string;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock(Date.parse('2026-06-01T08:00:00Z'));
    log = openEventLog(store, clock);
    const registry = await new SchemaRegistry().load(store.db);
    const metrics = new Metrics({ defaults: false });
    const ingestor = new Ingestor({ store, log, registry, clock, metrics, maxPendingEvents: 1000, doors: defaultDoors() });
    // A short cache, as in production, so a revocation shows once the clock moves past it.
    const keys = new KeyAuthenticator(store.db, clock, 1000);
    keys.sessions = new SessionStore(store.db, clock);
    const policySettings = parsePolicySettings({
      timezone: 'Europe/Berlin',
      quiet_hours: { start: '22:00', end: '07:30' },
      caps: { email: '1 per 1d', onsite: 'off' },
      consent_defaults: { service: false },
    });
    app = buildApp({
      store,
      log,
      registry,
      ingestor,
      keys,
      metrics,
      clock,
      logger: pino({ level: 'silent' }),
      isReady: () => true,
      policySettings,
    });
    const a = await createKey(store.db, clock, { name: 'ops lead', scopes: ['read', 'admin'] });
    admin = a.key;
    adminId = a.info.id;
    reader = (await createKey(store.db, clock, { name: 'analyst', scopes: ['read'] })).key;
  });

  afterEach(async () => {
    await app.close();
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  const call = async (
    method: 'GET' | 'POST',
    url: string,
    key: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await app.inject({
      method,
      url,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), body: res.json() as Record<string, unknown> };
  };

  it('creates a key whose secret is answered once and works, lists keys without secrets, and revokes it', async () => {
    clock.advance(1000);
    const made = await call('POST', '/v1/keys', admin, { name: 'shop backend', scopes: ['ingest', 'read'] });
    expect(made.status).toBe(201);
    const secret = String(made.body.key);
    expect(secret).toMatch(/^pw_[0-9a-f]{12}_[\w-]{43}$/);
    expect(made.body).toMatchObject({ name: 'shop backend', scopes: ['ingest', 'read'], revoked_at: null, current: false });
    expect(secret.startsWith(String(made.body.prefix))).toBe(true);

    expect((await call('GET', '/v1/settings', secret)).status).toBe(200);

    const list = await call('GET', '/v1/keys', admin);
    expect(list.status).toBe(200);
    const keys = list.body.keys as { id: string; name: string; current: boolean }[];
    expect(keys.map((k) => k.name)).toHaveLength(3);
    expect(keys[0]?.name).toBe('shop backend'); // newest first
    expect(keys.find((k) => k.id === adminId)?.current).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(JSON.stringify(list.body)).not.toMatch(/hash|"key":/);

    const revoked = await call('POST', `/v1/keys/${String(made.body.id)}/revoke`, admin);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toBe('2026-06-01T08:00:01.000Z');
    clock.advance(1500); // past the authenticator's one-second cache
    const refused = await call('GET', '/v1/settings', secret);
    expect(refused).toMatchObject({ status: 401, body: { code: 'PW_AUTH_INVALID' } });
    // Revoking again answers the same revoked key.
    expect((await call('POST', `/v1/keys/${String(made.body.id)}/revoke`, admin)).body.revoked_at).toBe('2026-06-01T08:00:01.000Z');
  });

  it('creates a publishable key with origins and a store, which then lists as a store', async () => {
    const made = await call('POST', '/v1/keys', admin, {
      name: 'shop widget',
      scopes: ['publishable'],
      origins: ['https://shop.example'],
      store: 'north',
    });
    expect(made.status).toBe(201);
    expect(String(made.body.key)).toMatch(/^pk_/);
    expect(made.body).toMatchObject({ origins: ['https://shop.example'], store: 'north' });
    const stores = await call('GET', '/v1/stores', reader);
    expect(stores.status).toBe(200);
    expect(stores.body).toMatchObject({
      from: '2026-03-04',
      to: '2026-06-01',
      stores: [
        { store: 'north', views: 0, orders: 0, revenue: 0, publishable_keys: [{ id: made.body.id, origins: ['https://shop.example'] }] },
      ],
    });
  });

  it('rejects bad key requests with problem+json codes and pointers', async () => {
    const cases: [unknown, string, string | undefined][] = [
      [{ name: '', scopes: ['read'] }, 'PW_REQUEST_INVALID', undefined],
      [{ name: 'x', scopes: ['root'] }, 'PW_REQUEST_INVALID', undefined],
      [{ name: 'x', scopes: [] }, 'PW_REQUEST_INVALID', undefined],
      [{ name: 'x', scopes: ['read'], extra: 1 }, 'PW_REQUEST_INVALID', undefined],
      [{ name: 'x', scopes: ['publishable'] }, 'PW_KEY_SCOPE_INVALID', undefined],
      [{ name: 'x', scopes: ['publishable', 'read'], origins: ['https://a.example'] }, 'PW_KEY_SCOPE_INVALID', undefined],
      [{ name: 'x', scopes: ['read'], store: 'north' }, 'PW_KEY_SCOPE_INVALID', '/store'],
      [{ name: 'x', scopes: ['publishable'], origins: ['https://a.example/shop'] }, 'PW_REQUEST_INVALID', '/origins/0'],
      // A store name the identity secret cannot be made for (pitwall storefront identity-secret --store refuses it too).
      [{ name: 'x', scopes: ['publishable'], origins: ['https://a.example'], store: 'My Shop' }, 'PW_REQUEST_INVALID', undefined],
    ];
    for (const [body, code, pointer] of cases) {
      const r = await call('POST', '/v1/keys', admin, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.type).toContain('application/problem+json');
      expect(r.body.code, JSON.stringify(body)).toBe(code);
      if (pointer) expect(r.body.pointer).toBe(pointer);
    }
    expect(await call('POST', '/v1/keys/k_nothing/revoke', admin)).toMatchObject({ status: 404, body: { code: 'PW_KEY_NOT_FOUND' } });
  });

  it('needs admin for keys: a read-only key gets 403 whatever it sends, and none gets 401', async () => {
    expect(await call('GET', '/v1/keys', reader)).toMatchObject({ status: 403, body: { code: 'PW_AUTH_SCOPE', required_scope: 'admin' } });
    expect(await call('POST', '/v1/keys', reader, { bogus: true })).toMatchObject({ status: 403, body: { code: 'PW_AUTH_SCOPE' } });
    expect(await call('POST', `/v1/keys/${adminId}/revoke`, reader)).toMatchObject({ status: 403 });
    expect(await call('GET', '/v1/keys', undefined)).toMatchObject({ status: 401, body: { code: 'PW_AUTH_MISSING' } });
    expect((await call('GET', '/v1/settings', reader)).status).toBe(200);
  });

  it('refuses to let a key revoke itself, by bearer or through its dashboard session', async () => {
    expect(await call('POST', `/v1/keys/${adminId}/revoke`, admin)).toMatchObject({ status: 409, body: { code: 'PW_KEY_REVOKE_SELF' } });
    const signIn = await app.inject({ method: 'POST', url: '/v1/session', payload: { key: admin } });
    expect(signIn.statusCode).toBe(201);
    const cookie = String(signIn.headers['set-cookie']).split(';')[0] ?? '';
    const csrf = String((signIn.json() as { csrf_token: string }).csrf_token);
    const noCsrf = await call('POST', `/v1/keys/${adminId}/revoke`, undefined, undefined, { cookie });
    expect(noCsrf).toMatchObject({ status: 403, body: { code: 'PW_SESSION_CSRF' } });
    const self = await call('POST', `/v1/keys/${adminId}/revoke`, undefined, undefined, { cookie, 'x-pitwall-csrf': csrf });
    expect(self).toMatchObject({ status: 409, body: { code: 'PW_KEY_REVOKE_SELF' } });
    const listed = await call('GET', '/v1/keys', undefined, undefined, { cookie });
    expect((listed.body.keys as { id: string; current: boolean }[]).find((k) => k.current)?.id).toBe(adminId);
  });

  it('reads the configured contact policy and the holdout defaults, read-only', async () => {
    const s = await call('GET', '/v1/settings', reader);
    expect(s.status).toBe(200);
    expect(s.body).toEqual({
      contact_policy: {
        timezone: 'Europe/Berlin',
        quiet_hours: { start: '22:00', end: '07:30', channels: ['email', 'webhook', 'reminder'] },
        caps: { all: ['5 per 7d'], email: ['1 per 1d'], survey: ['1 per 1d'] },
        consent_defaults: { transactional: true, service: false, marketing: false },
        exempt_purposes: ['transactional'],
        editable: false,
        change_in: expect.stringContaining('automation.policy'),
      },
      holdouts: { default_percent: 0, max_percent: 50, editable: false, change_in: expect.stringContaining('holdout: 10%') },
    });
  });
});
