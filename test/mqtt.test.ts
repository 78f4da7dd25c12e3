/**
 * MQTT intake end to end with the real MQTT.js client: the embedded broker (device auth,
 * ack after commit, topic rules, dedupe, quarantine) and an external Mosquitto (shared
 * subscriptions across two instances, persistent sessions).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { systemClock } from '../src/core/clock.ts';
import { createDevice, createKey } from '../src/govern/index.ts';
import { listQuarantine } from '../src/ingest/index.ts';
import type { EventLog } from '../src/log/index.ts';
import { type Pitwall, startPitwall } from '../src/main.ts';
import { Metrics } from '../src/ops/metrics.ts';
import { PG_URL } from './support/backends.ts';

const MOSQUITTO_URL = process.env.PITWALL_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
/** 2026-01-01T09:00:00Z in seconds: absolute SenML times give deterministic event ids. */
const T0 = 1_767_258_000;

const dirs: string[] = [];
const instances: Pitwall[] = [];
const clients: MqttClient[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
  for (const pw of instances.splice(0)) await pw.stop();
  for (const f of cleanups.splice(0)) await f();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-mqtt-'));
  dirs.push(dir);
  return dir;
}

async function start(env: Record<string, string> = {}, dir = tempDir()): Promise<{ pw: Pitwall; metrics: Metrics }> {
  const cfg = loadConfig(
    { PITWALL_DATA_DIR: dir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: '0', PITWALL_LOG_LEVEL: 'silent', ...env },
    dir,
  );
  const metrics = new Metrics({ defaults: false });
  const pw = await startPitwall(cfg, { logger: pino({ level: 'silent' }), metrics });
  instances.push(pw);
  return { pw, metrics };
}

/** Stops an instance the test started, ahead of the afterEach cleanup. */
async function stop(pw: Pitwall): Promise<void> {
  instances.splice(instances.indexOf(pw), 1);
  await pw.stop();
}

async function connect(url: string | undefined, opts: IClientOptions = {}): Promise<MqttClient> {
  if (!url) throw new Error('MQTT is not enabled on this instance');
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(c);
  return c;
}

/** The connection error when a CONNECT is refused. */
async function refusal(url: string | undefined, opts: IClientOptions): Promise<{ code?: unknown; message: string }> {
  try {
    await connect(url, opts);
  } catch (e) {
    return e as { code?: unknown; message: string };
  }
  throw new Error('expected the broker to refuse the connection');
}

function pack(deviceId: string, values: number[], firstT = T0): string {
  return JSON.stringify([
    { bn: `urn:dev:${deviceId}:`, bt: firstT, n: 'temp', u: 'Cel', v: values[0] },
    ...values.slice(1).map((v, i) => ({ n: 'temp', u: 'Cel', v, t: i + 1 })),
  ]);
}

async function deviceClient(pw: Pitwall, id: string): Promise<MqttClient> {
  const { password } = await createDevice(pw.store.db, systemClock, id);
  return connect(pw.mqtt.url, { username: id, password });
}

/** Re-checks `probe` after every append to any of `logs` until it returns a value. */
async function until<T>(logs: EventLog[], probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let wake: () => void = () => undefined;
    const appended = new Promise<void>((resolve) => {
      wake = resolve;
    });
    // Listen before probing, so an append during the probe is not missed.
    const offs = logs.map((l) => l.onAppend(() => wake()));
    try {
      const v = await probe();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      // The bounded wait also covers commits made by another process (shared PostgreSQL).
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.min(left, 250));
      });
      await Promise.race([appended, bound]);
      clearTimeout(timer);
    } finally {
      for (const off of offs) off();
    }
  }
}

describe('embedded MQTT broker', () => {
  it('PUBACKs a device’s QoS 1 SenML pack only after its readings are committed', async () => {
    const { pw } = await start();
    const c = await deviceClient(pw, 'coldroom-1');
    // A slow disk: widens the window in which an early PUBACK would reach the client first.
    const append = pw.log.append.bind(pw.log);
    pw.log.append = async (events) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return append(events);
    };

    await c.publishAsync('pitwall/devices/coldroom-1/senml', pack('coldroom-1', [4.2, 4.4]), { qos: 1 });

    // No waiting: the PUBACK itself is the promise that the readings are in the log.
    const events = await pw.log.read(0, 100);
    expect(events.map((e) => e.event.type)).toEqual(['sensor.reading', 'sensor.reading']);
    expect(events.map((e) => e.event.data)).toEqual([
      { n: 'urn:dev:coldroom-1:temp', u: 'Cel', v: 4.2, t: T0 },
      { n: 'urn:dev:coldroom-1:temp', u: 'Cel', v: 4.4, t: T0 + 1 },
    ]);
    expect(events[0]?.event).toMatchObject({ subject: 'coldroom-1', deviceid: 'coldroom-1', source: 'pitwall:device/coldroom-1' });
  });

  it('refuses a device connecting with a wrong password', async () => {
    const { pw } = await start();
    await createDevice(pw.store.db, systemClock, 'coldroom-1');
    const err = await refusal(pw.mqtt.url, { username: 'coldroom-1', password: 'not-the-password' });
    expect([4, 5]).toContain(err.code);
  });

  it('refuses an unknown device', async () => {
    const { pw } = await start();
    const err = await refusal(pw.mqtt.url, { username: 'ghost-7', password: 'whatever' });
    expect([4, 5]).toContain(err.code);
  });

  it('accepts an API key with the ingest scope as password under any username, and refuses a read-only key', async () => {
    const { pw } = await start();
    const { key } = await createKey(pw.store.db, systemClock, { name: 'gateway', scopes: ['ingest'] });
    const { key: readOnly } = await createKey(pw.store.db, systemClock, { name: 'dashboard', scopes: ['read'] });

    const c = await connect(pw.mqtt.url, { username: 'any-gateway-name', password: key });
    await c.publishAsync('pitwall/devices/gw-sensor-3/senml', pack('gw-sensor-3', [7]), { qos: 1 });
    expect((await pw.log.read(0, 100)).map((e) => e.event.subject)).toEqual(['gw-sensor-3']);

    const err = await refusal(pw.mqtt.url, { username: 'any-gateway-name', password: readOnly });
    expect([4, 5]).toContain(err.code);
  });

  it('disconnects a device that publishes to another device’s topic and stores nothing', async () => {
    const { pw } = await start();
    await createDevice(pw.store.db, systemClock, 'victim-2');
    const c = await deviceClient(pw, 'intruder-1');
    const closed = new Promise<'closed'>((resolve) => c.once('close', () => resolve('closed')));

    const outcome = await Promise.race([
      c.publishAsync('pitwall/devices/victim-2/senml', pack('victim-2', [99]), { qos: 1 }).then(
        () => 'acked',
        () => 'failed',
      ),
      closed,
    ]);

    expect(outcome).not.toBe('acked');
    expect(await pw.log.read(0, 100)).toEqual([]);
    expect(await listQuarantine(pw.store.db, { limit: 10 })).toEqual([]);
  });

  it('turns VSS telemetry on pitwall/devices/<id>/telemetry into vehicle.signal events', async () => {
    const { pw } = await start();
    const c = await deviceClient(pw, 'obd-88211');
    const telemetry = {
      vin: '5YJ3E1EA7KF317000',
      ts: '2026-01-05T08:59:30Z',
      signals: { 'Vehicle.Powertrain.TractionBattery.StateOfHealth': 92.5, 'Vehicle.Speed': 0 },
    };

    await c.publishAsync('pitwall/devices/obd-88211/telemetry', JSON.stringify(telemetry), { qos: 1 });

    const events = await pw.log.read(0, 100);
    expect(events.map((e) => e.event.type)).toEqual(['vehicle.signal', 'vehicle.signal']);
    expect(events.map((e) => e.event.data)).toEqual([
      { signal: 'Vehicle.Powertrain.TractionBattery.StateOfHealth', value: 92.5, vin: '5YJ3E1EA7KF317000', device_id: 'obd-88211' },
      { signal: 'Vehicle.Speed', value: 0, vin: '5YJ3E1EA7KF317000', device_id: 'obd-88211' },
    ]);
    expect(events[0]?.event).toMatchObject({ subject: '5YJ3E1EA7KF317000', time: '2026-01-05T08:59:30.000Z' });
  });

  it('turns a message on pitwall/shipments/<shipmentId> into a shipment.* event', async () => {
    const { pw } = await start();
    const { key } = await createKey(pw.store.db, systemClock, { name: 'carrier-feed', scopes: ['ingest'] });
    const c = await connect(pw.mqtt.url, { username: 'dhl', password: key });
    const message = { event: 'position', time: '2026-01-15T07:42:10Z', lat: 51.3127, lon: 9.4797, speed_kmh: 84 };

    await c.publishAsync('pitwall/shipments/shp_20260114_0042', JSON.stringify(message), { qos: 1 });

    const [event, ...rest] = await pw.log.read(0, 100);
    expect(rest).toEqual([]);
    expect(event?.event).toMatchObject({
      type: 'shipment.position',
      subject: 'shp_20260114_0042',
      time: '2026-01-15T07:42:10.000Z',
      data: { shipment_id: 'shp_20260114_0042', lat: 51.3127, lon: 9.4797, speed_kmh: 84 },
    });
  });

  it('stores a SenML pack with absolute times once when it is delivered twice', async () => {
    const { pw, metrics } = await start();
    const c = await deviceClient(pw, 'coldroom-1');
    const body = pack('coldroom-1', [4.2, 4.4, 4.5]);

    await c.publishAsync('pitwall/devices/coldroom-1/senml', body, { qos: 1 });
    await c.publishAsync('pitwall/devices/coldroom-1/senml', body, { qos: 1 });

    const events = await pw.log.read(0, 100);
    expect(events).toHaveLength(3);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(3);
    const duplicates = (await metrics.events.get()).values.filter((v) => v.labels.outcome === 'duplicate');
    expect(duplicates.reduce((n, v) => n + v.value, 0)).toBe(3);
  });

  it('PUBACKs a payload that is not JSON and quarantines it with its text and the reason', async () => {
    const { pw } = await start();
    const c = await deviceClient(pw, 'coldroom-1');

    await c.publishAsync('pitwall/devices/coldroom-1/senml', '{"n": "temp", "v": 4.', { qos: 1 });

    expect(await pw.log.read(0, 100)).toEqual([]);
    const [q, ...rest] = await listQuarantine(pw.store.db, { limit: 10 });
    expect(rest).toEqual([]);
    expect(q).toMatchObject({
      channel: 'mqtt-senml',
      code: 'PW_BODY_MALFORMED',
      status: 'pending',
      payload: { $malformed: '{"n": "temp", "v": 4.' },
      context: { deviceId: 'coldroom-1', topic: 'pitwall/devices/coldroom-1/senml' },
    });
    expect(q?.reason).toMatch(/not valid JSON/);
  });

  it('PUBACKs a message that breaks its event schema and quarantines it with the code and pointer', async () => {
    const { pw } = await start();
    const { key } = await createKey(pw.store.db, systemClock, { name: 'carrier-feed', scopes: ['ingest'] });
    const c = await connect(pw.mqtt.url, { username: 'dhl', password: key });
    const message = { event: 'position', time: '2026-01-15T07:42:10Z', lat: 123.4, lon: 9.4797 };

    await c.publishAsync('pitwall/shipments/shp_1', JSON.stringify(message), { qos: 1 });

    expect(await pw.log.read(0, 100)).toEqual([]);
    const [q, ...rest] = await listQuarantine(pw.store.db, { limit: 10 });
    expect(rest).toEqual([]);
    expect(q).toMatchObject({
      channel: 'mqtt-shipment',
      type: 'shipment.position',
      code: 'PW_EVENT_SCHEMA',
      pointer: '/data/lat',
      payload: message,
    });
    expect(q?.reason).not.toBe('');
  });

  it('does not ingest topics outside pitwall/devices/<id>/(senml|telemetry) and pitwall/shipments/<id>', async () => {
    const { pw } = await start();
    const c = await deviceClient(pw, 'coldroom-1');
    const body = pack('coldroom-1', [4.2]);

    for (const topic of [
      'factory/line-1/temp',
      'pitwall/devices/coldroom-1/other',
      'pitwall/devices/coldroom-1/senml/extra',
      'pitwall/x',
    ]) {
      await c.publishAsync(topic, body, { qos: 1 });
    }

    expect(await pw.log.read(0, 100)).toEqual([]);
    expect(await listQuarantine(pw.store.db, { limit: 10 })).toEqual([]);
  });
});

/** Why a service cannot be used, or undefined when it can. */
async function mosquittoProblem(): Promise<string | undefined> {
  try {
    const c = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0, connectTimeout: 2000 });
    await c.endAsync();
    return undefined;
  } catch (e) {
    return (e as Error).message || String(e);
  }
}

async function postgresProblem(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const mqttProblem = await mosquittoProblem();
const pgProblem = await postgresProblem();
const inCi = process.env.CI === 'true';
if (mqttProblem && !inCi) console.warn(`[tests] Mosquitto at ${MOSQUITTO_URL} unreachable (${mqttProblem}): external-broker tests skipped`);
if (pgProblem && !inCi) console.warn(`[tests] PostgreSQL at ${PG_URL} unreachable (${pgProblem}): the shared-subscription test skipped`);

/** Drops the broker-side session a test left behind (it was opened with clean: false). */
async function forgetSession(clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 2000 });
  await c.endAsync();
}

describe('external MQTT broker (Mosquitto)', () => {
  if (mqttProblem && inCi) throw new Error(`Mosquitto required in CI but unreachable at ${MOSQUITTO_URL}: ${mqttProblem}`);
  const run = randomBytes(4).toString('hex');

  it.skipIf(mqttProblem !== undefined || (pgProblem !== undefined && !inCi))(
    'two instances in one shared-subscription group on one PostgreSQL database ingest each message exactly once',
    async () => {
      if (pgProblem) throw new Error(`PostgreSQL required in CI but unreachable at ${PG_URL}: ${pgProblem}`);
      const schema = `t_mqtt_${run}`;
      const ids = [`pitwall-it-${run}-a`, `pitwall-it-${run}-b`];
      cleanups.push(async () => {
        for (const id of ids) await forgetSession(id);
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      });
      const shared = {
        PITWALL_MQTT_URL: MOSQUITTO_URL,
        PITWALL_MQTT_SHARE_GROUP: `it-${run}`,
        PITWALL_DATABASE_URL: PG_URL,
        PITWALL_DATABASE_SCHEMA: schema,
      };
      // One after the other: the first migrates the schema.
      const a = await start({ ...shared, PITWALL_MQTT_CLIENT_ID: ids[0] as string });
      const b = await start({ ...shared, PITWALL_MQTT_CLIENT_ID: ids[1] as string });
      expect(a.pw.mqtt.mode).toBe('external');

      // A device id of this run only: other runs on the same broker publish elsewhere.
      const device = `d1-${run}`;
      const source = `pitwall:device/${device}`;
      const N = 200;
      const publisher = await connect(MOSQUITTO_URL, { clientId: `publisher-${run}` });
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          publisher.publishAsync(`pitwall/devices/${device}/senml`, JSON.stringify([{ n: `urn:dev:${device}:msg`, v: i, t: T0 + i }]), {
            qos: 1,
          }),
        ),
      );

      const accepted = async (m: Metrics, outcome: string) =>
        (await m.events.get()).values
          .filter((v) => v.labels.source === source && v.labels.outcome === outcome)
          .reduce((n, v) => n + v.value, 0);
      const events = await until([a.pw.log, b.pw.log], async () => {
        const found = await a.pw.log.query({ source, order: 'asc', limit: 10 * N });
        const total = (await accepted(a.metrics, 'accepted')) + (await accepted(b.metrics, 'accepted'));
        return found.length >= N && total >= N ? found : undefined;
      });

      // Each message once in the shared log…
      const values = events.map((e) => (e.event.data as { v: number }).v).sort((x, y) => x - y);
      expect(values).toEqual(Array.from({ length: N }, (_, i) => i));
      // …because the broker gave each to exactly one instance (dedupe did not have to hide a second copy).
      const [byA, byB] = [await accepted(a.metrics, 'accepted'), await accepted(b.metrics, 'accepted')];
      expect(byA + byB).toBe(N);
      expect((await accepted(a.metrics, 'duplicate')) + (await accepted(b.metrics, 'duplicate'))).toBe(0);
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
    },
  );

  it.skipIf(mqttProblem !== undefined)(
    'ingests, after a restart, the QoS 1 messages published while the instance was down (persistent session)',
    async () => {
      const clientId = `pitwall-it-${run}-persist`;
      cleanups.push(() => forgetSession(clientId));
      const dir = tempDir();
      const env = { PITWALL_MQTT_URL: MOSQUITTO_URL, PITWALL_MQTT_CLIENT_ID: clientId, PITWALL_MQTT_SHARE_GROUP: `it-${run}-p` };
      const device = `d2-${run}`;
      const source = `pitwall:device/${device}`;

      const first = await start(env, dir);
      await stop(first.pw);

      const publisher = await connect(MOSQUITTO_URL, { clientId: `publisher-${run}-p` });
      const M = 20;
      for (let i = 0; i < M; i++) {
        // PUBACK from Mosquitto: the broker holds the message for the offline session.
        await publisher.publishAsync(`pitwall/devices/${device}/senml`, JSON.stringify([{ n: 'odo', v: i, t: T0 + i }]), { qos: 1 });
      }

      const second = await start(env, dir);
      const events = await until([second.pw.log], async () => {
        const found = await second.pw.log.query({ source, order: 'asc', limit: 100 });
        return found.length >= M ? found : undefined;
      });
      expect(events.map((e) => (e.event.data as { v: number }).v)).toEqual(Array.from({ length: M }, (_, i) => i));
    },
  );
});
