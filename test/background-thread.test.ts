/**
 * The background thread (ADR 0022). A server started the way `pitwall start` starts it (no
 * injected clock) runs Decide, Act and Learn on a worker thread of their own; the loop still
 * closes across the two threads: an event in over HTTP → group `automate` on the worker, with a
 * custom type registered on the HTTP thread after the worker started → a signed alert webhook to a real
 * receiver. And the host answers `caughtUp` for group `state` and stops the worker cleanly.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, openSecretStore } from '../src/act/index.ts';
import { type BackgroundThread, startBackgroundThread } from '../src/background-thread.ts';
import { loadConfig } from '../src/config/index.ts';
import { systemClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import { type EventLog, openEventLog } from '../src/log/index.ts';
import { openStore, type Store, sqliteFileIn } from '../src/store/index.ts';
import { startTestServer } from './support/server.ts';

const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(204).end();
  });
});
let port = 0;
beforeAll(async () => {
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  port = (receiver.address() as net.AddressInfo).port;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});

/** Polls `check` every 50 ms until it is true or `ms` pass (real time: the server runs on the system clock). */
async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** A store, its log and a background thread hosted on them (the worker script: the real one unless given). */
async function hosted(
  name: string,
  extra: { entry?: string; restartMs?: number[] } = {},
): Promise<{ dir: string; store: Store; log: EventLog; thread: BackgroundThread; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), `pitwall-${name}-`));
  const config = loadConfig({ PITWALL_DATA_DIR: dir, PITWALL_LOG_LEVEL: 'silent', PITWALL_MQTT_PORT: 'off' }, dir);
  const store = await openStore({ sqliteFile: sqliteFileIn(dir) });
  const log = openEventLog(store, systemClock);
  const thread = await startBackgroundThread({
    config,
    clockStart: Date.now(),
    log,
    logger: pino({ level: 'silent' }),
    onEnqueued: () => undefined,
    ...extra,
  });
  if (!thread) throw new Error('no compiled worker entry');
  return {
    dir,
    store,
    log,
    thread,
    async close() {
      await thread.stop();
      await log.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('background thread', () => {
  it('closes the loop across threads: HTTP event → run on the worker → signed webhook, with a type registered after start', async () => {
    const server = await startTestServer({ name: 'bg-thread', env: { PITWALL_WEBHOOK_ALLOW: '127.0.0.0/8' } });
    try {
      const { pw } = server;
      expect(pw.background).toBe('thread');
      // Nothing of the background lives on this thread.
      expect(pw.state).toBeUndefined();
      expect(pw.automation).toBeUndefined();
      const { key } = await createKey(pw.store.db, pw.clock, { name: 'test', scopes: ['ingest', 'read', 'admin'] });
      const secret = generateWebhookSecret();
      await openSecretStore(pw.store, pw.clock).set('door-hook', secret);
      const call = async (method: string, url: string, body: unknown, type = 'application/json') => {
        const res = await fetch(`${pw.httpUrl}${url}`, {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': type },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };

      // Custom types the worker's registry did not have when it started: the workflow is triggered by
      // one and emits the other, which the worker's emit validates against its registry — so the
      // emitted event exists only if the worker reloaded it when the HTTP thread registered them.
      for (const type of ['warehouse.door_opened', 'warehouse.door_alarm']) {
        const reg = await call('POST', '/v1/event-types', {
          type,
          description: 'A cold-room door',
          schema: { type: 'object', properties: { door: { type: 'string' } }, required: ['door'] },
        });
        expect(reg.status).toBe(201);
      }
      const wf = await call(
        'PUT',
        '/v1/workflows/door-alert',
        `
schemaVersion: 1
id: door-alert
name: Cold-room door A
trigger: { event: warehouse.door_opened }
conditions:
  - 'event.data.door == "A"'
steps:
  - action: emit
    with: { type: warehouse.door_alarm, data: { door: "{{ event.data.door }}" } }
  - action: alert
    with: { summary: "door {{ event.data.door }} open", webhook: { url: "http://127.0.0.1:${port}/hooks", secret: door-hook } }
`,
        'application/yaml',
      );
      expect(wf.status).toBe(201);

      const door = (id: string, d: string) => ({
        specversion: '1.0',
        id,
        source: 'warehouse-7',
        type: 'warehouse.door_opened',
        time: new Date().toISOString(),
        data: { door: d },
      });
      // Door B first, then door A: the group handles them in order, so once A's webhook is in,
      // B has been decided (and must not have sent one).
      for (const e of [door('d-1', 'B'), door('d-2', 'A')])
        expect((await call('POST', '/v1/events', e, 'application/cloudevents+json')).status).toBe(200);
      expect(await until(() => received.length > 0)).toBe(true);
      const hook = received[0] as (typeof received)[number];
      const verified = new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>) as { data: unknown };
      expect(verified).toMatchObject({ data: { summary: 'door A open' } });
      expect(received).toHaveLength(1);
      const alarms = async () => (await pw.log.query({ type: 'warehouse.door_alarm', order: 'asc', limit: 10 })).map((e) => e.event.data);
      expect(await until(async () => (await alarms()).length > 0)).toBe(true);
      expect(await alarms()).toEqual([{ door: 'A' }]);
      // The run is recorded on the worker's connection and read here through the API.
      const runs = await fetch(`${pw.httpUrl}/v1/runs?workflow=door-alert`, { headers: { authorization: `Bearer ${key}` } });
      expect(runs.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('answers caughtUp once group state on the worker has folded the event, and stops the worker', async () => {
    const { store, log, thread, close } = await hosted('bg-host');
    try {
      const [outcome] = await log.append([
        {
          event: {
            specversion: '1.0',
            id: 'a-1',
            source: 'shop',
            type: 'commerce.product_added',
            time: new Date().toISOString(),
            userid: 'u-1',
            data: { event: 'Product Added', properties: { cart_id: 'cart-1', sku: 'BRK-1', price: 10, quantity: 2 } },
          },
          receivedAt: Date.now(),
        },
      ]);
      if (!outcome) throw new Error('no outcome');
      await thread.state.caughtUp(outcome.seq);
      // Folded by the worker, read here on this thread's own connection.
      const cart = await store.db.selectFrom('carts').select(['cart_id', 'value']).where('cart_id', '=', 'cart-1').executeTakeFirst();
      expect(cart).toEqual({ cart_id: 'cart-1', value: 20 });
      expect(await log.position('state')).toBeGreaterThanOrEqual(outcome.seq);
    } finally {
      await close();
    }
  });

  it('starts a worker that died again, with what was asked of it meanwhile, and reports it down until then', async () => {
    // A scripted worker (same protocol): the first one exits 20 ms after it is ready.
    const { dir, thread, close } = await hosted('bg-restart', {
      entry: new URL('./support/fake-background-worker.mjs', import.meta.url).href,
      restartMs: [300, 300],
    });
    try {
      expect(await until(() => thread.problem() !== undefined, 5_000)).toBe(true);
      expect(thread.problem()).toMatch(/stopped \(code 3\); starting it again in 0.3 s/);
      // Asked while it is down: carried to the next worker once it is ready.
      thread.typesChanged();
      await thread.state.caughtUp(7);
      expect(thread.problem()).toBeUndefined();
      const received = readFileSync(path.join(dir, 'received'), 'utf8');
      expect(readFileSync(path.join(dir, 'starts'), 'utf8')).toBe('xx');
      expect(received).toContain('2 caughtUp');
      expect(received).toContain('2 types');
    } finally {
      await close();
    }
  });
});
