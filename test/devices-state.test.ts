/**
 * Device state inside a real server: SenML in over HTTP, the state consumer folds it, the timer
 * runner fires `sensor.sustained` and `device.silent` on a FakeClock; the read API shows it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-06-01T09:00:00Z');
const clock = new FakeClock(T0);
const configDir = mkdtempSync(path.join(tmpdir(), 'pitwall-devices-config-'));
const CONFIG = `
detectors:
  devices:
    silent_minutes: 15
    silent_overrides:
      - { kind: tracker, minutes: 0 }
    sensor_rules:
      - name: cold-room-temp
        match: { name: temp, unit: Cel }
        above: 8
        clear_below: 7
        for_minutes: 10
        severity: critical
`;
let server: TestServer;
let pw: Pitwall;
let key: string;

beforeAll(async () => {
  writeFileSync(path.join(configDir, 'pitwall.config.yaml'), CONFIG);
  server = await startTestServer({ name: 'devices', clock, env: { PITWALL_CONFIG: path.join(configDir, 'pitwall.config.yaml') } });
  pw = server.pw;
  key = (await createKey(pw.store.db, clock, { name: 't', scopes: ['ingest', 'read'] })).key;
});
afterAll(async () => {
  await server?.close();
  rmSync(configDir, { recursive: true, force: true });
});

const auth = () => ({ authorization: `Bearer ${key}` });

async function senml(device: string, records: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${pw.httpUrl}/v1/senml?device=${device}`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/senml+json' },
    body: JSON.stringify([{ bn: `urn:dev:${device}:`, bt: clock.now() / 1000 }, ...records]),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { seq: number }[] };
  await pw.state?.caughtUp(Math.max(...body.results.map((r) => r.seq)));
}

async function get(url: string, status = 200): Promise<Record<string, unknown>> {
  const res = await fetch(`${pw.httpUrl}${url}`, { headers: auth() });
  expect(res.status).toBe(status);
  return (await res.json()) as Record<string, unknown>;
}

/** Fires what is due at the clock's time and waits until the derived events are folded. */
async function tick(): Promise<void> {
  await pw.timerRunner?.tick();
  await pw.state?.caughtUp(await pw.log.head());
}

describe('device state over HTTP', () => {
  it('shows devices, their signals, sustained sensors and silence', async () => {
    await senml('cold-1', [
      { n: 'temp', u: 'Cel', v: 9 },
      { n: 'battery', u: '%EL', v: 76 },
    ]);
    const list = await get('/v1/devices');
    expect(list).toMatchObject({ devices: [{ device_id: 'cold-1', message_count: 2, silent: false }], next_cursor: null });
    const state = await get('/v1/devices/cold-1/state');
    expect(state).toMatchObject({
      device_id: 'cold-1',
      last_seen_at: new Date(T0).toISOString(),
      battery: { percent: 76, percent_at: new Date(T0).toISOString(), voltage: null },
      signals: [
        { signal: 'urn:dev:cold-1:battery', last_value: 76, count: 1 },
        { signal: 'urn:dev:cold-1:temp', unit: 'Cel', last_value: 9, min: 9, max: 9, mean: 9, count: 1 },
      ],
    });
    expect(await get('/v1/sensor-rules')).toMatchObject({
      rules: [{ name: 'cold-room-temp', direction: 'above', threshold: 8, clear_level: 7, for_minutes: 10, pending: 1, sustained: [] }],
    });

    clock.advance(10 * MIN);
    await tick();
    const rules = (await get('/v1/sensor-rules')).rules as { pending: number; sustained: unknown[] }[];
    expect(rules[0]).toMatchObject({
      pending: 0,
      sustained: [{ device_id: 'cold-1', n: 'urn:dev:cold-1:temp', value: 9, since: new Date(T0).toISOString() }],
    });

    clock.advance(5 * MIN);
    await tick();
    expect(await get('/v1/devices?silent=true')).toMatchObject({ devices: [{ device_id: 'cold-1', silent: true }] });
    const conditions = (await get('/v1/conditions?status=open')).conditions as { kind: string; key: string; severity: string }[];
    expect(conditions.map((c) => [c.kind, c.key, c.severity]).sort()).toEqual([
      ['device.silent', 'cold-1', 'warning'],
      ['sensor.sustained', 'cold-room-temp|cold-1|urn:dev:cold-1:temp', 'critical'],
    ]);

    await senml('cold-1', [{ n: 'temp', u: 'Cel', v: 5 }]);
    await pw.state?.caughtUp(await pw.log.head());
    expect(await get('/v1/devices?silent=true')).toMatchObject({ devices: [] });
    expect(await get('/v1/conditions?status=open')).toMatchObject({ conditions: [] });
    const back = await pw.log.query({ type: 'device.back', order: 'asc', limit: 10 });
    const cleared = await pw.log.query({ type: 'sensor.cleared', order: 'asc', limit: 10 });
    expect([back.length, cleared.length]).toEqual([1, 1]);
  });

  it('pages the device list with a cursor and filters by silence', async () => {
    for (const d of ['pg-a', 'pg-b', 'pg-c']) await senml(d, [{ n: 'x', v: 1 }]);
    const first = await get('/v1/devices?limit=2&silent=false');
    expect((first.devices as { device_id: string }[]).map((d) => d.device_id)).toEqual(['cold-1', 'pg-a']);
    const second = await get(`/v1/devices?limit=2&silent=false&cursor=${String(first.next_cursor)}`);
    expect((second.devices as { device_id: string }[]).map((d) => d.device_id)).toEqual(['pg-b', 'pg-c']);
  });

  it('answers 404 for a device with no state and 400 for bad query parameters', async () => {
    expect(await get('/v1/devices/nope/state', 404)).toMatchObject({ code: 'PW_DEVICE_STATE_NOT_FOUND' });
    expect(await get('/v1/devices?silent=maybe', 400)).toMatchObject({ code: 'PW_QUERY_INVALID', pointer: '/silent' });
    expect(await get('/v1/devices?cursor=bogus', 400)).toMatchObject({ code: 'PW_QUERY_INVALID', pointer: '/cursor' });
    expect(await get('/v1/devices?limit=0', 400)).toMatchObject({ code: 'PW_QUERY_INVALID', pointer: '/limit' });
    const res = await fetch(`${pw.httpUrl}/v1/devices`);
    expect(res.status).toBe(401);
  });

  it('refuses to start with a bad detectors.devices section, naming the field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-devices-bad-'));
    try {
      const file = path.join(dir, 'pitwall.config.yaml');
      writeFileSync(file, 'detectors:\n  devices:\n    sensor_rules:\n      - { name: r, match: { name: t }, above: 8, clear_below: 9 }\n');
      await expect(startTestServer({ name: 'devices-bad', env: { PITWALL_CONFIG: file } })).rejects.toMatchObject({
        code: 'PW_CONFIG_INVALID',
        message: expect.stringContaining('detectors.devices.sensor_rules[0].clear_below'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
