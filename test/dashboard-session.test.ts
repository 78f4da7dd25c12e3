/**
 * Dashboard sign-in over real HTTP: an API key in, an HttpOnly SameSite=Strict session cookie out;
 * reads work with the cookie alone, changes need the session's CSRF token too; a session ends on
 * sign-out, on expiry (fake clock) and when its key is revoked. Plus `/` for a browser and for an
 * API client, and the live feed over Server-Sent Events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey, revokeKey } from '../src/govern/index.ts';
import { STREAM_LIMITS } from '../src/http/routes/dashboard.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-06-01T08:00:00Z'));
let server: TestServer;
let url: string;
let admin: string;
let reader: string;
let ingestOnly: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'dash-session', clock });
  url = server.pw.httpUrl;
  const db = server.pw.store.db;
  admin = (await createKey(db, clock, { name: 'admin', scopes: ['ingest', 'read', 'admin'] })).key;
  reader = (await createKey(db, clock, { name: 'reader', scopes: ['read'] })).key;
  ingestOnly = (await createKey(db, clock, { name: 'ingest', scopes: ['ingest'] })).key;
});
afterAll(async () => {
  await server?.close();
});

async function signIn(key: string): Promise<{ cookie: string; csrf: string; setCookie: string; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  expect(res.status).toBe(201);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const body = (await res.json()) as Record<string, unknown>;
  return { cookie: setCookie.split(';')[0] ?? '', csrf: String(body.csrf_token), setCookie, body };
}

const SURVEY = {
  id: 'csrf-probe',
  name: 'Probe',
  locale: 'en',
  questions: [
    {
      id: 'reason',
      type: 'single',
      prompt: 'What stopped you today?',
      required: true,
      options: [
        { id: 'price', label: 'The price' },
        { id: 'other', label: 'Something else' },
      ],
    },
  ],
  thankYou: { text: 'Thanks.' },
  placements: [{ type: 'exit_intent', auto: true }],
};

describe('dashboard sessions', () => {
  it('signs in with a key and sets an HttpOnly, SameSite=Strict cookie that holds no key', async () => {
    const s = await signIn(admin);
    expect(s.setCookie).toMatch(/^pw_session=pws_[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(s.setCookie).not.toContain(admin);
    expect(s.body).toMatchObject({ key: { name: 'admin', scopes: ['ingest', 'read', 'admin'] } });
    const me = await fetch(`${url}/v1/session`, { headers: { cookie: s.cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ signed_in: true, csrf_token: s.csrf, key: { name: 'admin' } });
    expect(await (await fetch(`${url}/v1/session`)).json()).toEqual({ signed_in: false });
  });

  it('reads with the cookie alone; a change needs the CSRF header', async () => {
    const s = await signIn(admin);
    const read = await fetch(`${url}/v1/reports/overview`, { headers: { cookie: s.cookie } });
    expect(read.status).toBe(200);
    const put = (headers: Record<string, string>) =>
      fetch(`${url}/v1/surveys/csrf-probe`, {
        method: 'PUT',
        headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(SURVEY),
      });
    const without = await put({});
    expect(without.status).toBe(403);
    expect(without.headers.get('content-type')).toContain('application/problem+json');
    expect(await without.json()).toMatchObject({ code: 'PW_SESSION_CSRF' });
    const wrong = await put({ 'x-pitwall-csrf': `${s.csrf}x` });
    expect(wrong.status).toBe(403);
    const right = await put({ 'x-pitwall-csrf': s.csrf });
    expect(right.status).toBeLessThan(300);
  });

  it('keeps the key’s scopes: a read-only session cannot change things', async () => {
    const s = await signIn(reader);
    const res = await fetch(`${url}/v1/surveys/csrf-probe`, {
      method: 'PUT',
      headers: { cookie: s.cookie, 'content-type': 'application/json', 'x-pitwall-csrf': s.csrf },
      body: JSON.stringify(SURVEY),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'PW_AUTH_SCOPE' });
  });

  it('refuses keys that cannot read, and unknown keys, with a problem', async () => {
    const ing = await fetch(`${url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: ingestOnly }),
    });
    expect(ing.status).toBe(403);
    expect(await ing.json()).toMatchObject({ code: 'PW_SESSION_SCOPE' });
    const bad = await fetch(`${url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'pw_nope' }),
    });
    expect(bad.status).toBe(401);
    const malformed = await fetch(`${url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"key":',
    });
    expect(malformed.status).toBe(400);
  });

  it('ends on sign-out (which needs the CSRF token), on expiry, and when the key is revoked', async () => {
    const a = await signIn(admin);
    const forged = await fetch(`${url}/v1/session`, { method: 'DELETE', headers: { cookie: a.cookie } });
    expect(forged.status).toBe(403);
    const out = await fetch(`${url}/v1/session`, { method: 'DELETE', headers: { cookie: a.cookie, 'x-pitwall-csrf': a.csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    const after = await fetch(`${url}/v1/reports/overview`, { headers: { cookie: a.cookie } });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: 'PW_SESSION_EXPIRED' });

    const b = await signIn(reader);
    clock.advance(13 * 3_600_000); // idle longer than 12 h
    expect(await (await fetch(`${url}/v1/session`, { headers: { cookie: b.cookie } })).json()).toEqual({ signed_in: false });
    expect((await fetch(`${url}/v1/reports/overview`, { headers: { cookie: b.cookie } })).status).toBe(401);

    const temp = await createKey(server.pw.store.db, clock, { name: 'temp', scopes: ['read'] });
    const c = await signIn(temp.key);
    expect((await fetch(`${url}/v1/reports/overview`, { headers: { cookie: c.cookie } })).status).toBe(200);
    await revokeKey(server.pw.store.db, clock, temp.info.id);
    expect((await fetch(`${url}/v1/reports/overview`, { headers: { cookie: c.cookie } })).status).toBe(401);
    expect(await (await fetch(`${url}/v1/session`, { headers: { cookie: c.cookie } })).json()).toEqual({ signed_in: false });
  });

  it('keeps a used session alive past the idle limit, but not past the absolute one', async () => {
    const s = await signIn(admin);
    for (let i = 0; i < 14; i++) {
      clock.advance(11 * 3_600_000); // used every 11 h: never idle for 12 h
      const res = await fetch(`${url}/v1/reports/maturity`, { headers: { cookie: s.cookie } });
      // 7 days = 168 h: alive at 11..154 h, ended at 165 h.
      expect(res.status, `after ${(i + 1) * 11} h`).toBe((i + 1) * 11 < 168 ? 200 : 401);
    }
  });
});

describe('what a session may not do', () => {
  it('lives in the browser for the session’s 7-day limit, the server ending it sooner when unused', async () => {
    const s = await signIn(reader);
    expect(s.setCookie).toContain(`Max-Age=${7 * 86_400}`);
  });

  it('answers a mangled cookie as no session (401), never a 500', async () => {
    for (const cookie of ['pw_session=%E0%A4%A', 'pw_session=', 'pw_session', 'pw_session=pws_x;pw_session=%']) {
      const res = await fetch(`${url}/v1/reports/maturity`, { headers: { cookie } });
      expect(res.status, cookie).toBe(401);
      expect(await (await fetch(`${url}/v1/session`, { headers: { cookie } })).json()).toEqual({ signed_in: false });
    }
  });

  it('is refused on the ingest routes: senders use keys', async () => {
    const s = await signIn(admin);
    const res = await fetch(`${url}/v1/track`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-pitwall-csrf': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u1', event: 'Product Viewed', messageId: 'session-track' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'PW_SESSION_SCOPE' });
  });
});

describe('the root and the live feed', () => {
  it('serves the dashboard to a browser, with a strict policy, and the endpoint list to an API client', async () => {
    const html = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await html.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${url}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${url}/workflows/some-id`, { headers: { accept: 'text/html' } })).status).toBe(200);
    expect((await fetch(`${url}/assets/nope.js`)).status).toBe(404);
    const api = await fetch(`${url}/`);
    expect(await api.json()).toMatchObject({ name: 'Pitwall', endpoints: { events: '/v1/events' } });
  });

  it('streams batches of new events by source family and type to a signed-in reader', async () => {
    const s = await signIn(reader);
    const ctl = new AbortController();
    const res = await fetch(`${url}/v1/stream`, { headers: { cookie: s.cookie }, signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader2 = res.body?.getReader();
    if (!reader2) throw new Error('no body');
    const dec = new TextDecoder();
    let buf = '';
    const next = async (event: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const m = new RegExp(`event: ${event}\\ndata: (.*)\\n\\n`).exec(buf);
        if (m) {
          buf = buf.slice((m.index ?? 0) + m[0].length);
          return JSON.parse(m[1] ?? '{}') as Record<string, unknown>;
        }
        const { value, done } = await reader2.read();
        if (done) throw new Error('stream ended');
        buf += dec.decode(value, { stream: true });
      }
    };
    await next('history');
    const senml = [
      { bn: 'scale-1:', n: 'weight', u: 'kg', v: 10, t: 0 },
      { n: 'weight', u: 'kg', v: 11, t: 1 },
    ];
    const post = await fetch(`${url}/v1/senml`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/senml+json' },
      body: JSON.stringify(senml),
    });
    expect(post.status).toBeLessThan(300);
    let seen = 0;
    while (seen < 2) {
      const b = (await next('batch')) as { types: Record<string, number>; recent: { type: string }[] };
      seen += b.types['sensor.reading'] ?? 0;
    }
    expect(seen).toBe(2);
    ctl.abort();
  });

  it('ends a stream when its session ends, and caps the streams of one key', async () => {
    const saved = { ...STREAM_LIMITS };
    STREAM_LIMITS.recheckMs = 100;
    STREAM_LIMITS.perKey = 2;
    try {
      const s = await signIn(reader);
      const open = () => fetch(`${url}/v1/stream`, { headers: { cookie: s.cookie } });
      const a = await open();
      const b = await open();
      expect([a.status, b.status]).toEqual([200, 200]);
      const third = await open();
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('30');
      expect(await third.json()).toMatchObject({ code: 'PW_STREAM_LIMIT' });
      // Signing out ends both streams at their next re-check: their bodies end.
      const out = await fetch(`${url}/v1/session`, { method: 'DELETE', headers: { cookie: s.cookie, 'x-pitwall-csrf': s.csrf } });
      expect(out.status).toBe(204);
      for (const res of [a, b]) {
        const body = res.body?.getReader();
        if (!body) throw new Error('no body');
        for (;;) if ((await body.read()).done) break;
      }
      // Their slots are free again for a new session of the same key.
      const again = await signIn(reader);
      const c = await fetch(`${url}/v1/stream`, { headers: { cookie: again.cookie } });
      expect(c.status).toBe(200);
      await c.body?.cancel();
    } finally {
      Object.assign(STREAM_LIMITS, saved);
    }
  });

  it('refuses the live feed without a session or key', async () => {
    const res = await fetch(`${url}/v1/stream`);
    expect(res.status).toBe(401);
  });
});
