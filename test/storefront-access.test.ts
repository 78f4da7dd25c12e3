/**
 * Storefront access through a real server: which client address the rate limits see
 * (`PITWALL_TRUST_PROXY` off and on, IPv6 by /64), and the demo shop binding its keys to the
 * server's own address or the configured public URL, never to a forged `Host` header.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey, listKeys } from '../src/govern/index.ts';
import { IdentitySecrets, userHash } from '../src/storefront/index.ts';
import { PITWALL_BIN } from './support/process.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-11-20T09:00:00Z'));
const dirs: string[] = [];
const servers: TestServer[] = [];

/** A server whose per-IP limit is 3 requests (then one a minute). */
async function server(name: string, env: Record<string, string> = {}): Promise<{ s: TestServer; pk: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-sf-access-'));
  dirs.push(dir);
  const file = path.join(dir, 'pitwall.config.json');
  writeFileSync(file, JSON.stringify({ storefront: { rate_limits: { per_ip: { per_second: 0.0167, burst: 3 } } } }));
  const s = await startTestServer({ name, clock, env: { PITWALL_CONFIG: file, ...env } });
  servers.push(s);
  const pk = (
    await createKey(s.pw.store.db, clock, { name: 'shop', scopes: ['publishable'], origins: ['https://shop.example'], store: 'main' })
  ).key;
  return { s, pk };
}

/** A raw HTTP request, so headers fetch() forbids (Host) can be sent. */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const decide = (s: TestServer, pk: string, forwardedFor?: string) =>
  raw(`${s.pw.httpUrl}/v1/decide/product`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${pk}`,
      'content-type': 'application/json',
      ...(forwardedFor !== undefined ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify({ skus: ['BRK-1001'] }),
  }).then((r) => r.status);

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the client address rate limits use', () => {
  it('ignores X-Forwarded-For by default: a sprayed header does not escape the limit', async () => {
    const { s, pk } = await server('trust-off');
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await decide(s, pk, `198.51.100.${i}`));
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('with PITWALL_TRUST_PROXY believes the proxy: each forwarded client has its own bucket, IPv6 by /64', async () => {
    const { s, pk } = await server('trust-on', { PITWALL_TRUST_PROXY: '127.0.0.1,::1' });
    for (let i = 0; i < 5; i++) expect(await decide(s, pk, `198.51.100.${i}`)).toBe(200);
    // One client: limited after its burst.
    const one = [];
    for (let i = 0; i < 4; i++) one.push(await decide(s, pk, '203.0.113.9'));
    expect(one).toEqual([200, 200, 200, 429]);
    // Addresses of one IPv6 /64 share a bucket; another /64 has its own.
    const v6 = [];
    for (let i = 1; i <= 4; i++) v6.push(await decide(s, pk, `2001:db8:7:1::${i.toString(16)}`));
    expect(v6).toEqual([200, 200, 200, 429]);
    expect(await decide(s, pk, '2001:db8:7:2::1')).toBe(200);
  });

  it('refuses a malformed PITWALL_TRUST_PROXY at start with a clear message', async () => {
    await expect(startTestServer({ name: 'trust-bad', env: { PITWALL_TRUST_PROXY: 'yes please' } })).rejects.toMatchObject({
      code: 'PW_CONFIG_INVALID',
      message: expect.stringContaining('PITWALL_TRUST_PROXY'),
    });
  });
});

describe('the demo shop and the Host header', () => {
  let shop: TestServer;
  beforeAll(async () => {
    shop = (await server('shop-host', { PITWALL_DEMO_SHOP: 'on' })).s;
  });

  it('binds its keys to the address the connection reached, not to a forged Host', async () => {
    const url = shop.pw.httpUrl; // http://127.0.0.1:<port>
    const port = new URL(url).port;
    for (const host of ['evil.example', 'evil.example:443', `127.0.0.2:${port}`, 'a'.repeat(300)]) {
      const r = await raw(`${url}/demo/shop`, { headers: { host } });
      expect(r.status, host).toBe(200);
    }
    // A loopback name of the same port is how browsers reach a local server: it may pick that.
    expect((await raw(`${url}/demo/shop`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
    const origins = (await listKeys(shop.pw.store.db))
      .filter((k) => k.name.startsWith('demo shop') && k.revokedAt === null && k.origins !== undefined)
      .flatMap((k) => k.origins ?? []);
    expect(origins.sort()).toEqual([`http://localhost:${port}`, url].sort());
  });

  it('signs a signed-in shopper for the widget as a shop server would', async () => {
    const r = await fetch(`${shop.pw.httpUrl}/demo/shop/api/identity?user=cust-anna`);
    const body = (await r.json()) as { userId: string; userHash: string };
    const { secret } = await new IdentitySecrets(shop.pw.store.db, clock).show('main');
    expect(body).toEqual({ userId: 'cust-anna', userHash: userHash(secret, 'cust-anna') });
    expect((await fetch(`${shop.pw.httpUrl}/demo/shop/api/identity`)).status).toBe(400);
  });

  it('uses the configured public URL when there is one', async () => {
    const { s } = await server('shop-public', { PITWALL_DEMO_SHOP: 'on', PITWALL_PUBLIC_URL: 'https://parts.example.com/' });
    expect((await raw(`${s.pw.httpUrl}/demo/shop`, { headers: { host: 'evil.example' } })).status).toBe(200);
    const origins = (await listKeys(s.pw.store.db))
      .filter((k) => k.name.startsWith('demo shop') && k.revokedAt === null)
      .flatMap((k) => k.origins ?? []);
    expect(origins).toEqual(['https://parts.example.com']);
  });
});

describe('pitwall storefront identity-secret', () => {
  it("prints the store's secret a shop server signs with, and rotates it", async () => {
    const { s, pk } = await server('identity-cli');
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [PITWALL_BIN, 'storefront', 'identity-secret', ...args], {
        env: { ...process.env, PITWALL_DATA_DIR: s.dir, PITWALL_LOG_LEVEL: 'silent' },
        cwd: s.dir,
      }).then((r) => r.stdout);
    const secretIn = (out: string) => /^(pwid_\S+)$/m.exec(out)?.[1] ?? '';
    const first = secretIn(await cli('--store', 'main'));
    expect(first).toMatch(/^pwid_/);
    const ask = (userHash: string) =>
      fetch(`${s.pw.httpUrl}/v1/decide/product`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pk}`, 'content-type': 'application/json' },
        body: JSON.stringify({ skus: ['BRK-1001'], customer: { userId: 'cust-anna', userHash } }),
      }).then(async (r) => ((await r.json()) as { identity: { status: string } }).identity.status);
    expect(await ask(userHash(first, 'cust-anna'))).toBe('verified');
    const rotated = await cli('--store', 'main', '--rotate', '--grace-hours', '0');
    expect(rotated).toContain('no longer verifies');
    clock.advance(6000); // the server's cache of the secret
    expect(await ask(userHash(first, 'cust-anna'))).toBe('unverified');
    expect(await ask(userHash(secretIn(rotated), 'cust-anna'))).toBe('verified');
  }, 60_000);
});
