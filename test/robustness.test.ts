/**
 * Failure modes found in review: each test pins one fix so it cannot silently regress.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { FakeClock } from '../src/core/index.ts';
import { createDevice, createKey, revokeDevice } from '../src/govern/index.ts';
import { listQuarantine } from '../src/ingest/index.ts';
import { type Pitwall, startPitwall } from '../src/main.ts';
import { Metrics } from '../src/ops/index.ts';

const dirs: string[] = [];
const running: Pitwall[] = [];

async function start(extra: Record<string, string> = {}, clock = new FakeClock(Date.parse('2026-05-01T08:00:00Z'))): Promise<Pitwall> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-robust-'));
  dirs.push(dir);
  const cfg = loadConfig(
    { PITWALL_DATA_DIR: dir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: 'off', PITWALL_LOG_LEVEL: 'silent', ...extra },
    dir,
  );
  const pw = await startPitwall(cfg, { clock, logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) });
  running.push(pw);
  return pw;
}

afterEach(async () => {
  for (const pw of running.splice(0)) await pw.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('robustness', () => {
  it('stops while an MQTT device is still connected', async () => {
    const pw = await start({ PITWALL_MQTT_PORT: '0' });
    const { password } = await createDevice(pw.store.db, pw.clock, 'dev-1');
    const client = await mqtt.connectAsync(pw.mqtt.url as string, { username: 'dev-1', password, reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    try {
      // Hangs (and the test times out) if the server waits for the device to leave.
      await pw.stop();
      running.splice(running.indexOf(pw), 1);
      await closed;
    } finally {
      client.end(true);
    }
  });

  it('cuts off an open MQTT session once its device is revoked', async () => {
    const pw = await start({ PITWALL_MQTT_PORT: '0' });
    const { password } = await createDevice(pw.store.db, pw.clock, 'dev-2');
    const client = await mqtt.connectAsync(pw.mqtt.url as string, { username: 'dev-2', password, reconnectPeriod: 0 });
    try {
      await client.publishAsync('pitwall/devices/dev-2/senml', JSON.stringify([{ n: 'temp', u: 'Cel', v: 4.1, t: 1.7e9 }]), { qos: 1 });
      expect((await pw.log.read(0, 10)).length).toBe(1);
      await revokeDevice(pw.store.db, pw.clock, 'dev-2');
      (pw.clock as FakeClock).advance(1500); // past the one-second credential cache
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      void client
        .publishAsync('pitwall/devices/dev-2/senml', JSON.stringify([{ n: 'temp', u: 'Cel', v: 4.2, t: 1.7e9 + 1 }]), { qos: 1 })
        .catch(() => undefined);
      await closed;
      expect((await pw.log.read(0, 10)).length).toBe(1);
    } finally {
      client.end(true);
    }
  });

  it('rejects a messageId with a NUL character as a 400, not a failed commit for everyone', async () => {
    const pw = await start();
    const { key } = await createKey(pw.store.db, pw.clock, { name: 't', scopes: ['ingest'] });
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const res = await fetch(`${pw.httpUrl}/v1/batch`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        batch: [
          { type: 'track', event: 'Product Viewed', userId: 'u1', messageId: 'bad\u0000id' },
          { type: 'track', event: 'Product Viewed', userId: 'u1', messageId: 'good-id' },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { status: string; code?: string; pointer?: string }[] };
    expect(body.results.map((r) => r.status)).toEqual(['rejected', 'accepted']);
    expect(body.results[0]).toMatchObject({ code: 'PW_EVENT_ENVELOPE', pointer: '/id' });
  });

  it('replays a partly rejected shipment payload as of its first arrival: good messages come back as duplicates', async () => {
    const clock = new FakeClock(Date.parse('2026-05-01T08:00:00Z'));
    const pw = await start({}, clock);
    // No `time`: both messages take the receive time, which is part of their deterministic ids.
    const payload = [
      { event: 'position', lat: 52.1, lon: 4.3 },
      { event: 'position', lat: 123.4, lon: 4.4 },
    ];
    const [first = []] = await pw.ingestor.ingest('mqtt-shipment', [{ raw: payload, ctx: { shipmentId: 'SH-9' } }]);
    expect(first.map((o) => o.status)).toEqual(['accepted', 'rejected']);
    const [entry] = await listQuarantine(pw.store.db, { status: 'pending', limit: 10 });
    clock.advance(3_600_000);
    const r = await pw.ingestor.replay(entry?.id as string, [payload[0], { event: 'position', lat: 52.2, lon: 4.4 }]);
    expect(r.status).toBe('replayed');
    expect(r.outcomes.map((o) => o.status)).toEqual(['duplicate', 'accepted']);
    const positions = (await pw.log.read(0, 100)).filter((e) => e.event.type === 'shipment.position');
    expect(positions).toHaveLength(2);
    expect(positions.every((e) => e.event.time === '2026-05-01T08:00:00.000Z')).toBe(true);
  });

  it('quarantines thousands of rejected items from one request (bind-parameter limits)', async () => {
    const pw = await start();
    const items = Array.from({ length: 3000 }, (_, i) => ({
      raw: { specversion: '1.0', id: `x${i}`, source: 's', type: 'no.such_type' },
      ctx: {},
    }));
    const out = await pw.ingestor.ingest('cloudevents', items);
    expect(out.every(([o]) => o?.status === 'rejected')).toBe(true);
    expect((await listQuarantine(pw.store.db, { status: 'pending', limit: 5000 })).length).toBe(3000);
  });

  it('fails appends fast with 503 and reports not ready when the SQLite writer thread dies', async () => {
    const pw = await start();
    const { key } = await createKey(pw.store.db, pw.clock, { name: 't', scopes: ['ingest'] });
    await (pw.log as unknown as { worker: Worker }).worker.terminate();
    const res = await fetch(`${pw.httpUrl}/v1/track`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'Product Viewed', userId: 'u1', messageId: 'm1' }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('PW_STORE_UNAVAILABLE');
    const ready = await fetch(`${pw.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { problem?: string }).problem).toMatch(/writer/);
  });

  it('fails start-up with PW_MQTT_UNREACHABLE, not a crash, when the external broker refuses', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    await expect(start({ PITWALL_MQTT_URL: `mqtt://127.0.0.1:${port}` })).rejects.toMatchObject({ code: 'PW_MQTT_UNREACHABLE' });
  });
});
