/**
 * The demo world against a real embedded Pitwall (port 0, FakeClock): the world reads the server's
 * clock over HTTP, loads its shop, and drives two simulated days through the public routes; the
 * starter workflows run, enabled and pointed at the demo's own receiver. State is read back
 * through the API. No sleeps: each step moves the FakeClock, ticks the world, then lets the
 * consumers, timers and dispatcher catch up.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateWebhookSecret, openSecretStore } from '../src/act/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { FakeClock } from '../src/core/index.ts';
import {
  backfillHistory,
  DEMO_DETECTORS,
  DemoRunner,
  type Receiver,
  STARTER_SECRETS,
  starterWorkflows,
  startReceiver,
  writeStarterWorkflows,
} from '../src/demo/index.ts';
import { createKey } from '../src/govern/index.ts';
import { type Pitwall, startPitwall } from '../src/main.ts';
import { Metrics } from '../src/ops/index.ts';

const MIN = 60_000;
const START = Date.parse('2026-03-02T05:00:00Z');

let dir: string;
let pw: Pitwall;
let receiver: Receiver;
let runner: DemoRunner;
let key: string;
const clock = new FakeClock(START);
const notes: string[] = [];

async function api(p: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${pw.httpUrl}${p}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status, `${p}: ${res.status}`).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function settle(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const head = await pw.log.head();
    await pw.state?.caughtUp(head);
    await pw.automation?.caughtUp(head);
    const fired = await pw.timerRunner?.tick();
    await pw.automation?.caughtUp(await pw.log.head());
    const sent = await pw.dispatcher.tick();
    if ((fired?.claimed ?? 0) === 0 && sent.claimed === 0 && (await pw.log.head()) === head) return;
  }
}

async function count(type: string): Promise<number> {
  const r = await api(`/v1/events?type=${type}&limit=1000`);
  return (r.events as unknown[]).length;
}

describe('demo world against an embedded Pitwall', () => {
  beforeAll(async () => {
    // SQLite commits with fsync: a RAM-backed directory, where there is one, keeps the run quick.
    dir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pitwall-demo-'));
    receiver = await startReceiver();
    const base = loadConfig(
      {
        PITWALL_DATA_DIR: dir,
        PITWALL_HTTP_PORT: '0',
        PITWALL_MQTT_PORT: '0',
        PITWALL_LOG_LEVEL: 'silent',
        PITWALL_WEBHOOK_ALLOW: '127.0.0.1/32',
      },
      dir,
    );
    const workflowsDir = path.join(dir, 'workflows');
    writeStarterWorkflows(workflowsDir, receiver.url);
    pw = await startPitwall(
      { ...base, workflowsDir, detectors: structuredClone(DEMO_DETECTORS) as unknown as Record<string, unknown> },
      { clock, logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) },
    );
    const secrets = openSecretStore(pw.store, clock);
    for (const s of STARTER_SECRETS) await secrets.set(s, generateWebhookSecret());
    key = (await createKey(pw.store.db, clock, { name: 'demo', scopes: ['ingest', 'read', 'admin'] })).key;
    runner = new DemoRunner({
      url: pw.httpUrl,
      mqttUrl: pw.mqtt.url,
      deviceCredentials: true,
      key,
      seed: 11,
      trouble: 15,
      sessionsPerHour: 20,
      vehicles: 30,
      sensorMinutes: 20,
      note: (m) => notes.push(m),
    });
    await runner.setup();
    // Two simulated days in one-hour steps.
    for (let i = 0; i < 48; i++) {
      clock.advance(60 * MIN);
      await runner.tick();
      await settle();
    }
  }, 300_000);

  afterAll(async () => {
    await pw?.stop();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('GET /v1/clock gives the server time and speed', async () => {
    const c = await api('/v1/clock');
    expect(c.now_ms).toBe(clock.now());
    expect(c.now).toBe(new Date(clock.now()).toISOString());
    expect(c.speed).toBe(1);
    const anon = await fetch(`${pw.httpUrl}/v1/clock`);
    expect(anon.status).toBe(401);
  });

  test('the shop is loaded through the reference-data routes', async () => {
    const products = await api('/v1/catalog/products?limit=1000');
    expect((products.products as unknown[]).length).toBe(500);
    expect(((await api('/v1/warehouses')).warehouses as unknown[]).length).toBe(3);
    expect(((await api('/v1/carriers')).carriers as unknown[]).length).toBe(4);
  });

  test('two simulated days end with carts abandoned, shipments delayed and delivered, sensors and vehicles reporting', async () => {
    const w = runner.world;
    expect(w?.stats.orders).toBeGreaterThan(20);
    expect(runner.client.counts.rejected).toBe(0);
    // Warehouse sensors and carriers reported over MQTT (device sources), shoppers over HTTP.
    expect(pw.mqtt.mode).toBe('embedded');
    const readings = (await api('/v1/events?type=sensor.reading&limit=5')).events as { event: { source: string } }[];
    expect(readings[0]?.event.source).toMatch(/^pitwall:device\/env-/);
    const statuses = (await api('/v1/events?type=shipment.status&limit=5')).events as { event: { source: string } }[];
    expect(statuses[0]?.event.source).toMatch(/^pitwall:/);
    // Vehicles published VSS telemetry as themselves, each device with its own credential.
    const signals = (await api('/v1/events?type=vehicle.signal&limit=200')).events as { event: { source: string } }[];
    expect(signals.length).toBeGreaterThan(0);
    for (const s of signals) expect(s.event.source).toMatch(/^pitwall:device\/(bm|bw)-[0-9a-z]{8}$/);
    expect(await count('cart.abandoned')).toBeGreaterThan(5);
    expect(await count('shipment.delayed')).toBeGreaterThan(0);
    expect(await count('shipment.delivered')).toBeGreaterThan(5);
    expect(await count('sensor.sustained')).toBeGreaterThan(0);
    expect(await count('part.service_due')).toBeGreaterThan(0);
    const vehicles = (await api('/v1/vehicles?customer_id=cus_0001')).vehicles as { vin: string }[];
    expect(vehicles).toHaveLength(1);
    expect(notes).toEqual([]);
  });

  test('the starter workflows run and deliver to the demo receiver', async () => {
    const runs = ((await api('/v1/runs?limit=500')).runs as { workflow_id?: string; workflowId?: string }[]).map(
      (r) => r.workflow_id ?? r.workflowId,
    );
    const byWorkflow = new Set(runs);
    // Every starter workflow (workflows/examples) runs at least once in two simulated days.
    const starters = starterWorkflows('http://127.0.0.1/').map((f) => f.file.replace(/\.yaml$/, ''));
    expect(starters).toHaveLength(7);
    for (const wf of starters) expect(byWorkflow, `runs: ${[...byWorkflow].join(', ')}`).toContain(wf);
    expect([...receiver.counts.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  test('shoppers answer the surveys the workflows show them, and the answers are stored', async () => {
    console.log(`demo run: ${runner.client.counts.surveyAnswers} survey answers, world ${JSON.stringify(runner.world?.stats)}`);
    // A short run already tells a handful of shoppers' reasons: the automatic exit survey on small
    // carts and delivery-concern-rescue's on big ones (post-purchase surveys come after 3 days).
    expect(runner.client.counts.surveyAnswers).toBeGreaterThanOrEqual(5);
    const results = await api('/v1/surveys/what-stopped-you/results');
    expect(results.responses).toBe(runner.client.counts.surveyAnswers);
  });
});

describe('demo history backfill', () => {
  test('backfills days in history mode: state is built, nothing is sent and no workflow runs', async () => {
    const hdir = mkdtempSync(path.join(tmpdir(), 'pitwall-demo-history-'));
    const hclock = new FakeClock(START);
    const hrec = await startReceiver();
    const cfg = loadConfig(
      {
        PITWALL_DATA_DIR: hdir,
        PITWALL_HTTP_PORT: '0',
        PITWALL_MQTT_PORT: 'off',
        PITWALL_LOG_LEVEL: 'silent',
        PITWALL_WEBHOOK_ALLOW: '127.0.0.1/32',
      },
      hdir,
    );
    const workflowsDir = path.join(hdir, 'workflows');
    writeStarterWorkflows(workflowsDir, hrec.url);
    const server = await startPitwall(
      { ...cfg, workflowsDir, detectors: structuredClone(DEMO_DETECTORS) as unknown as Record<string, unknown> },
      { clock: hclock, logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) },
    );
    try {
      const hkey = (await createKey(server.store.db, hclock, { name: 'h', scopes: ['ingest', 'read', 'admin'] })).key;
      const progress: number[] = [];
      const r = await backfillHistory({
        url: server.httpUrl,
        key: hkey,
        seed: 5,
        days: 2,
        sessionsPerHour: 12,
        vehicles: 10,
        progress: (d) => progress.push(d),
      });
      expect(progress).toEqual([1, 2]);
      expect(r.rejected).toBe(0);
      expect(r.events).toBeGreaterThan(1000);
      const head = await server.log.head();
      await server.state?.caughtUp(head);
      await server.automation?.caughtUp(head);
      await server.timerRunner?.tick();
      await server.dispatcher.tick();
      const get = async (p: string) =>
        (await (await fetch(`${server.httpUrl}${p}`, { headers: { authorization: `Bearer ${hkey}` } })).json()) as Record<
          string,
          unknown[]
        >;
      expect((await get('/v1/shipments?limit=5')).shipments?.length).toBeGreaterThan(0);
      expect((await get('/v1/runs?limit=5')).runs).toEqual([]);
      expect((await get('/v1/events?type=cart.abandoned&limit=5')).events).toEqual([]);
      expect([...hrec.counts.values()]).toEqual([]);
    } finally {
      await server.stop();
      await hrec.close();
      rmSync(hdir, { recursive: true, force: true });
    }
  }, 60_000);
});
