/**
 * `webhook.send` against real peers: an HTTP receiver on 127.0.0.2 (the only address
 * PITWALL_WEBHOOK_ALLOW lets through) verifying signatures with the `standardwebhooks`
 * package, and trap listeners on 127.0.0.1 and ::1 that count every connection they get — the
 * hostile-URL corpus aims at them, so a guard failure shows up as a connection.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { Agent, buildConnector, request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ActionExecutor,
  type ActionRequest,
  builtInExecutors,
  Dispatcher,
  enableEndpoint,
  executorRegistry,
  generateWebhookSecret,
  guardConnector,
  type Outbox,
  openOutbox,
  openSecretStore,
  parseActSettings,
  type Resolver,
  type SecretStore,
  seededRandom,
} from '../src/act/index.ts';
import { deterministicId, FakeClock } from '../src/core/index.ts';
import { type EventLog, openEventLog } from '../src/log/index.ts';
import type { Store } from '../src/store/index.ts';
import { type Backend, sqliteBackend } from './support/backends.ts';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The receiver's behaviour per path; `flaky` fails its first request. */
let flakyFailed = false;
const received: Received[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = req.url ?? '/';
    received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    if (path === '/ok') res.end('thanks');
    else if (path === '/close') res.writeHead(200, { connection: 'close' }).end('bye');
    else if (path === '/gone') res.writeHead(410).end('this hook was deleted');
    else if (path === '/bad') res.writeHead(400).end('unknown event type');
    else if (path === '/limited') res.writeHead(429, { 'retry-after': '7' }).end();
    else if (path === '/flaky') {
      if (flakyFailed) res.end('ok now');
      else {
        flakyFailed = true;
        res.writeHead(503).end('overloaded');
      }
    } else if (path === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${trapPort4}/internal` }).end();
    else if (path === '/huge') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      Readable.from(
        (function* () {
          while (sent < 50 * 1024 * 1024) {
            sent += 16_384;
            yield Buffer.alloc(16_384, 120);
          }
        })(),
      )
        .on('error', () => undefined)
        .pipe(res)
        .on('error', () => undefined);
    } else if (path === '/slow') {
      // Never answers: the sender's time cap must end it.
    } else res.writeHead(404).end();
  });
});

/** Trap listeners: any connection here is an SSRF guard failure. */
const trapConnections: string[] = [];
const trapBytes: number[] = [];
const trap = () =>
  net.createServer((s) => {
    trapConnections.push(`${s.localAddress}:${s.localPort}`);
    s.on('data', (b) => trapBytes.push(b.length));
    s.on('error', () => undefined);
  });
const trap4 = trap();
const trap6 = trap();
let trapPort4 = 0;
let trapPort6 = 0;
let port = 0;

beforeAll(async () => {
  receiver.listen(0, '127.0.0.2');
  trap4.listen(0, '127.0.0.1');
  trap6.listen(0, '::1');
  await Promise.all([once(receiver, 'listening'), once(trap4, 'listening'), once(trap6, 'listening')]);
  port = (receiver.address() as net.AddressInfo).port;
  trapPort4 = (trap4.address() as net.AddressInfo).port;
  trapPort6 = (trap6.address() as net.AddressInfo).port;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await Promise.all([new Promise((r) => receiver.close(r)), new Promise((r) => trap4.close(r)), new Promise((r) => trap6.close(r))]);
});

describe('webhook.send', () => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let outbox: Outbox;
  let secrets: SecretStore;
  let log: EventLog;
  let executors: ActionExecutor[];
  let dispatcher: Dispatcher;
  let secret: string;
  let resolverCalls: Map<string, number>;
  let n = 0;

  /** Names the tests resolve without DNS (`localhost` included): `rebind.test` answers the receiver first, then loopback. */
  const resolve: Resolver = async (host) => {
    const calls = (resolverCalls.get(host) ?? 0) + 1;
    resolverCalls.set(host, calls);
    if (host === 'receiver.test') return [{ address: '127.0.0.2', family: 4 }];
    if (host === 'rebind.test') return [{ address: calls === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    if (host === 'mixed.test')
      return [
        { address: '127.0.0.2', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ];
    if (host === 'mapped.test') return [{ address: '::ffff:127.0.0.1', family: 6 }];
    if (host === 'v6.test') return [{ address: '::1', family: 6 }];
    if (/^(.+\.)?localhost\.?$/i.test(host)) return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
  };

  beforeEach(async () => {
    backend = sqliteBackend();
    store = await backend.open();
    // Near real time: standardwebhooks rejects timestamps more than 5 minutes off.
    clock = new FakeClock(Date.now());
    outbox = openOutbox(store, clock);
    secrets = openSecretStore(store, clock);
    log = openEventLog(store, clock);
    secret = generateWebhookSecret();
    await secrets.set('shop-hook', secret);
    resolverCalls = new Map();
    received.length = 0;
    trapConnections.length = 0;
    trapBytes.length = 0;
    flakyFailed = false;
    const { settings } = parseActSettings({ PITWALL_WEBHOOK_ALLOW: '127.0.0.2/32' });
    executors = builtInExecutors(settings, { resolve, webhookTimeoutMs: 800, maxResponseBytes: 64 * 1024 });
    dispatcher = new Dispatcher(
      outbox,
      executorRegistry(executors),
      { clock, db: store.db, log, secrets, logger: pino({ level: 'silent' }) },
      {
        random: seededRandom(3),
        backoffBaseMs: 1_000,
        maxAttempts: 5,
      },
    );
  });
  afterEach(async () => {
    for (const e of executors) await e.close?.();
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  const action = (url: string, data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): ActionRequest => {
    const runId = `run-${++n}`;
    return {
      key: deterministicId('pitwall.action', runId, 'steps.1'),
      runId,
      workflowId: 'delay-notice',
      workflowVersion: 2,
      stepPath: 'steps.1',
      type: 'webhook.send',
      params: { url, secret: 'shop-hook', event: 'shipment.delay_notice', data, ...extra },
      createdAtMs: clock.now(),
    };
  };
  const send = async (...reqs: ActionRequest[]) => {
    await outbox.enqueue(store.db, reqs);
    return dispatcher.tick();
  };
  const at = (path: string) => `http://127.0.0.2:${port}${path}`;
  const headersOf = (r: Received) => ({
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

  it('delivers a signed webhook that the standardwebhooks package verifies, with the action key as webhook-id', async () => {
    const a = action(at('/ok'), { shipment_id: 'SH-1', delay_hours: 30, note: 'Bremsbeläge' });
    expect(await send(a)).toMatchObject({ completed: 1 });
    expect(received).toHaveLength(1);
    const r = received[0] as Received;
    expect(r.headers['webhook-id']).toBe(a.key);
    expect(r.headers['content-type']).toBe('application/json');
    expect(Number(r.headers['webhook-timestamp'])).toBe(Math.floor(clock.now() / 1000));
    expect(new Webhook(secret).verify(r.body, headersOf(r))).toEqual({
      type: 'shipment.delay_notice',
      timestamp: new Date(a.createdAtMs).toISOString(),
      data: { shipment_id: 'SH-1', delay_hours: 30, note: 'Bremsbeläge' },
    });
    expect(() => new Webhook(generateWebhookSecret()).verify(r.body, headersOf(r))).toThrow();
    expect(() => new Webhook(secret).verify(r.body.replace('30', '31'), headersOf(r))).toThrow();
    expect(await outbox.get(a.key)).toMatchObject({ status: 'done', result: { detail: { status: 200, response_bytes: 6 } } });
  });

  it('signs with the new and the previous secret during a rotation, so either verifies', async () => {
    const next = generateWebhookSecret();
    await secrets.set('shop-hook', next, { keepPrevious: true });
    await send(action(at('/ok')));
    const r = received[0] as Received;
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(secret).verify(r.body, headersOf(r))).toBeTruthy();
    expect(new Webhook(next).verify(r.body, headersOf(r))).toBeTruthy();
    await secrets.set('shop-hook', next);
    await send(action(at('/ok')));
    const r2 = received[1] as Received;
    expect(() => new Webhook(secret).verify(r2.body, headersOf(r2))).toThrow();
    expect(new Webhook(next).verify(r2.body, headersOf(r2))).toBeTruthy();
  });

  it('sends the same webhook-id and body on a retry, with a fresh timestamp and signature', async () => {
    const a = action(at('/flaky'), { n: 1 });
    expect(await send(a)).toMatchObject({ retried: 1 });
    expect((await outbox.get(a.key))?.lastError).toBe(`PW_WEBHOOK_STATUS: 127.0.0.2:${port} answered 503: overloaded`);
    clock.advance(5_000);
    expect(await dispatcher.tick()).toMatchObject({ completed: 1 });
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([a.key, a.key]);
    expect(received[0]?.body).toBe(received[1]?.body);
    expect(Number(received[1]?.headers['webhook-timestamp']) - Number(received[0]?.headers['webhook-timestamp'])).toBe(5);
    for (const r of received) expect(new Webhook(secret).verify(r.body, headersOf(r))).toBeTruthy();
  });

  it('waits as long as Retry-After says on a 429', async () => {
    const a = action(at('/limited'));
    expect(await send(a)).toMatchObject({ retried: 1 });
    expect((await outbox.get(a.key))?.readyAtMs).toBe(clock.now() + 7_000);
  });

  it('dead-letters a 400 at once with what the receiver said', async () => {
    const a = action(at('/bad'));
    expect(await send(a)).toMatchObject({ dead: 1 });
    expect((await outbox.get(a.key))?.lastError).toContain('PW_WEBHOOK_REJECTED');
    expect((await outbox.get(a.key))?.lastError).toContain('unknown event type');
  });

  it('disables an endpoint that answers 410 and sends nothing more to it until it is enabled again', async () => {
    const first = action(at('/gone'));
    expect(await send(first)).toMatchObject({ dead: 1 });
    expect((await outbox.get(first.key))?.lastError).toMatch(/^PW_WEBHOOK_GONE/);
    const second = action(at('/gone'));
    expect(await send(second)).toMatchObject({ dead: 1 });
    expect((await outbox.get(second.key))?.lastError).toMatch(/^PW_WEBHOOK_ENDPOINT_DISABLED/);
    expect(received).toHaveLength(1);
    expect(await enableEndpoint(store.db, at('/gone'))).toBe(true);
    expect(await outbox.replay(second.key)).toBe(true);
    await dispatcher.tick();
    expect(received).toHaveLength(2);
  });

  it('does not follow a redirect, not even one to an internal address', async () => {
    const a = action(at('/redirect'));
    expect(await send(a)).toMatchObject({ dead: 1 });
    expect((await outbox.get(a.key))?.lastError).toMatch(/^PW_WEBHOOK_REDIRECT: .* answered 302 .*redirects are not followed/);
    expect(trapConnections).toEqual([]);
  });

  it('reads at most the response cap and completes without waiting for the rest', async () => {
    const a = action(at('/huge'));
    const started = Date.now();
    expect(await send(a)).toMatchObject({ completed: 1 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const detail = (await outbox.get(a.key))?.result?.detail as { response_truncated?: boolean; response_bytes: number };
    expect(detail.response_truncated).toBe(true);
    expect(detail.response_bytes).toBeLessThan(1024 * 1024);
  });

  it('gives up on a receiver that does not answer within the time cap, and retries later', async () => {
    const a = action(at('/slow'));
    const started = Date.now();
    expect(await send(a)).toMatchObject({ retried: 1 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await outbox.get(a.key))?.lastError).toMatch(/^PW_WEBHOOK_TIMEOUT/);
  });

  it('resolves names and sends to an allowed address', async () => {
    const a = action(`http://receiver.test:${port}/ok`);
    expect(await send(a)).toMatchObject({ completed: 1 });
    expect(received[0]?.headers.host).toBe(`receiver.test:${port}`);
  });

  it('dead-letters a missing secret or invalid params without sending', async () => {
    const noSecret = action(at('/ok'), {}, { secret: 'nobody-made-this' });
    const badParams = action(at('/ok'), {}, { headers: { 'webhook-id': 'spoofed' } });
    expect(await send(noSecret, badParams)).toMatchObject({ dead: 2 });
    expect((await outbox.get(noSecret.key))?.lastError).toMatch(/^PW_SECRET_NOT_FOUND/);
    expect((await outbox.get(badParams.key))?.lastError).toMatch(/^PW_ACTION_PARAMS_INVALID: .*\/headers\/webhook-id is set by Pitwall/);
    expect(received).toEqual([]);
  });

  describe('SSRF guard: hostile URLs, zero connections', () => {
    const corpus = () => [
      `http://127.0.0.1:${trapPort4}/`,
      `http://2130706433:${trapPort4}/`,
      `http://0x7f000001:${trapPort4}/`,
      `http://0177.0.0.1:${trapPort4}/`,
      `http://0x7f.0.0.1:${trapPort4}/`,
      `http://127.1:${trapPort4}/`,
      `http://%31%32%37.0.0.1:${trapPort4}/`,
      `http://0:${trapPort4}/`,
      `http://0.0.0.0:${trapPort4}/`,
      `http://[::ffff:127.0.0.1]:${trapPort4}/`,
      `http://[0:0:0:0:0:ffff:7f00:1]:${trapPort4}/`,
      `http://[::1]:${trapPort6}/`,
      `http://[0:0:0:0:0:0:0:1]:${trapPort6}/`,
      `http://[::]:${trapPort6}/`,
      `http://localhost:${trapPort4}/`,
      `http://localhost.:${trapPort4}/`,
      `http://LocalHost:${trapPort4}/`,
      `http://app.localhost:${trapPort4}/`,
      `http://mixed.test:${trapPort4}/`,
      `http://mapped.test:${trapPort4}/`,
      `http://v6.test:${trapPort6}/`,
    ];

    it('dead-letters every URL of the corpus as forbidden, and nothing connects to the traps', async () => {
      const reqs = corpus().map((url) => action(url));
      const r = await send(...reqs);
      expect(r).toMatchObject({ claimed: reqs.length, dead: reqs.length });
      for (const q of reqs)
        expect((await outbox.get(q.key))?.lastError, String(q.params.url)).toMatch(/^PW_WEBHOOK_ADDRESS_FORBIDDEN: refusing to connect/);
      expect(trapConnections).toEqual([]);
    });

    it('control: with every range allowed, the same corpus does reach the traps (so zero above means refused)', async () => {
      const open = builtInExecutors(parseActSettings({ PITWALL_WEBHOOK_ALLOW: '0.0.0.0/0, ::/0' }).settings, {
        resolve,
        webhookTimeoutMs: 800,
      });
      const d = new Dispatcher(outbox, executorRegistry(open), { clock, db: store.db, log, secrets }, { random: seededRandom(1) });
      const urls = corpus();
      await outbox.enqueue(
        store.db,
        urls.map((url) => action(url)),
      );
      await d.tick();
      for (const e of open) await e.close?.();
      await new Promise((r) => setTimeout(r, 50));
      // Each one connected and then waited for an answer the trap never gives.
      for (const a of (await outbox.list({ limit: 50 })).actions) expect(a.lastError, String(a.params.url)).toMatch(/^PW_WEBHOOK_TIMEOUT/);
      expect(new Set(trapConnections.map((c) => c.replace(/:\d+$/, ''))).size).toBeGreaterThanOrEqual(2);
      expect(trapConnections.length).toBeGreaterThanOrEqual(urls.length);
    });

    it('judges a name again on every connection, so an answer that changes between lookups is refused', async () => {
      const first = action(`http://rebind.test:${port}/close`);
      expect(await send(first)).toMatchObject({ completed: 1 });
      const second = action(`http://rebind.test:${port}/close`);
      expect(await send(second)).toMatchObject({ dead: 1 });
      expect((await outbox.get(second.key))?.lastError).toMatch(
        /^PW_WEBHOOK_ADDRESS_FORBIDDEN: refusing to connect to rebind.test \(127.0.0.1\)/,
      );
      expect(resolverCalls.get('rebind.test')).toBe(2);
      expect(received).toHaveLength(1);
      expect(trapConnections).toEqual([]);
    });

    it('drops a connected socket whose remote address is forbidden before sending a byte', async () => {
      // A connector that ignores the name and lands on the trap: only check 3 stands in the way.
      const wayward = buildConnector({});
      const base: buildConnector.connector = (o, cb) => wayward({ ...o, hostname: '127.0.0.1', port: String(trapPort4) }, cb);
      const agent = new Agent({
        connect: guardConnector(base, parseActSettings({ PITWALL_WEBHOOK_ALLOW: '127.0.0.2/32' }).settings.webhookAllow),
      });
      await expect(
        request(`http://receiver.test:${port}/ok`, { method: 'POST', body: 'secret stuff', dispatcher: agent }),
      ).rejects.toMatchObject({
        code: 'PW_WEBHOOK_ADDRESS_FORBIDDEN',
      });
      await agent.close();
      await new Promise((r) => setTimeout(r, 50));
      expect(trapConnections).toHaveLength(1);
      expect(trapBytes).toEqual([]);
    });
  });
});
