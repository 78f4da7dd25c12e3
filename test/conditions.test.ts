/**
 * Conditions through a real server: a device goes silent (timer on a FakeClock) → a raised
 * condition listed by the API → acknowledged by an admin (folded from `condition.acknowledged`)
 * → cleared when the device speaks again; the lifecycle survives a rebuild of the state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const MIN = 60_000;
const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
let server: TestServer;
let pw: Pitwall;
let reader: string;
let admin: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'conditions', clock });
  pw = server.pw;
  reader = (await createKey(pw.store.db, clock, { name: 'r', scopes: ['ingest', 'read'] })).key;
  admin = (await createKey(pw.store.db, clock, { name: 'a', scopes: ['admin'] })).key;
});
afterAll(async () => {
  await server?.close();
});

async function reading(device: string, value: number): Promise<void> {
  const res = await fetch(`${pw.httpUrl}/v1/senml?device=${device}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/senml+json' },
    body: JSON.stringify([{ bn: `urn:dev:${device}:`, bt: clock.now() / 1000, n: 'temp', u: 'Cel', v: value }]),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { seq: number }[] };
  await pw.state?.caughtUp(Math.max(...body.results.map((r) => r.seq)));
}

async function call(method: string, url: string, key: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${pw.httpUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Fires due timers, then waits until the state group has folded what they appended. */
async function fireAt(ms: number): Promise<void> {
  clock.set(ms);
  await pw.timerRunner?.tick();
  await pw.state?.caughtUp(await pw.log.head());
}

describe('conditions over HTTP', () => {
  it('raised by device.silent, acknowledged by an admin, cleared by device.back', async () => {
    const t0 = clock.now();
    await reading('cold-7', 4.2);
    await fireAt(t0 + 16 * MIN);

    // Silent past 15 minutes: the device detector and the quality monitor (stale) both raise one.
    const everything = await call('GET', '/v1/conditions', reader);
    expect(everything.status).toBe(200);
    expect((everything.json.conditions as { kind: string }[]).map((x) => x.kind).sort()).toEqual(['device.silent', 'quality.degraded']);
    const open = await call('GET', '/v1/conditions?kind=device.silent', reader);
    const list = open.json.conditions as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    const c = list[0] as Record<string, unknown>;
    expect(c).toMatchObject({ kind: 'device.silent', key: 'cold-7', status: 'raised', acknowledged_at: null, cleared_at: null });
    const id = c.id as string;

    // Acknowledging needs admin; the note is validated.
    expect((await call('POST', `/v1/conditions/${id}/acknowledge`, reader, {})).status).toBe(403);
    expect((await call('POST', `/v1/conditions/${id}/acknowledge`, admin, { note: 42 })).json).toMatchObject({
      code: 'PW_REQUEST_INVALID',
      pointer: '/note',
    });
    expect((await call('POST', '/v1/conditions/nope/acknowledge', admin, {})).json).toMatchObject({ code: 'PW_CONDITION_NOT_FOUND' });

    const acked = await call('POST', `/v1/conditions/${id}/acknowledge`, admin, { note: 'driver is on it' });
    expect(acked.status).toBe(200);
    expect(acked.json).toMatchObject({ id, status: 'acknowledged', note: 'driver is on it' });
    expect(String(acked.json.acknowledged_by)).toMatch(/^key:/);
    const ackEvents = await pw.log.query({ type: 'condition.acknowledged', order: 'asc', limit: 10 });
    expect(ackEvents.map((e) => (e.event.data as { condition_id: string }).condition_id)).toEqual([id]);
    // Acknowledging again changes nothing and appends nothing.
    expect((await call('POST', `/v1/conditions/${id}/acknowledge`, admin, {})).status).toBe(200);
    expect(await pw.log.query({ type: 'condition.acknowledged', order: 'asc', limit: 10 })).toHaveLength(1);

    clock.advance(MIN);
    await reading('cold-7', 4.3);
    await pw.state?.caughtUp(await pw.log.head());
    expect((await call('GET', '/v1/conditions?kind=device.silent', reader)).json.conditions).toEqual([]);
    const cleared = await call('GET', `/v1/conditions/${id}`, reader);
    expect(cleared.json).toMatchObject({ status: 'cleared', note: 'driver is on it' });
    expect(cleared.json.cleared_at).not.toBeNull();
    const all = await call('GET', '/v1/conditions?status=cleared&kind=device.silent', reader);
    expect((all.json.conditions as unknown[]).length).toBe(1);
    expect((await call('GET', '/v1/conditions?status=sideways', reader)).json).toMatchObject({ code: 'PW_QUERY_INVALID' });
    const repeated = await call('GET', '/v1/conditions?kind=device.silent&kind=quality.degraded', reader);
    expect(repeated).toMatchObject({ status: 400, json: { code: 'PW_QUERY_INVALID', pointer: '/kind' } });
  });

  it('is cleared by hand by an admin; a recurrence opens a new condition', async () => {
    const t0 = clock.now();
    await reading('cold-9', 4.1);
    await fireAt(t0 + 16 * MIN);
    const open = (await call('GET', '/v1/conditions?kind=device.silent&key=cold-9', reader)).json.conditions as { id: string }[];
    expect(open).toHaveLength(1);
    const id = open[0]?.id as string;
    expect((await call('POST', `/v1/conditions/${id}/clear`, reader, {})).status).toBe(403);
    expect((await call('POST', '/v1/conditions/nope/clear', admin, {})).json).toMatchObject({ code: 'PW_CONDITION_NOT_FOUND' });
    const cleared = await call('POST', `/v1/conditions/${id}/clear`, admin, { note: 'sensor swapped' });
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ id, status: 'cleared', note: 'sensor swapped' });
    expect(cleared.json.cleared_at).not.toBeNull();
    const events = await pw.log.query({ type: 'condition.cleared', order: 'asc', limit: 10 });
    expect(events.map((e) => e.event.data)).toEqual([{ condition_id: id, by: expect.stringMatching(/^key:/), note: 'sensor swapped' }]);
    expect(cleared.json.cleared_event_id).toBe(events[0]?.event.id);
    // Clearing again appends nothing; acknowledging a cleared one changes nothing.
    expect((await call('POST', `/v1/conditions/${id}/clear`, admin, {})).json).toMatchObject({ status: 'cleared' });
    expect((await call('POST', `/v1/conditions/${id}/acknowledge`, admin, {})).json).toMatchObject({
      status: 'cleared',
      acknowledged_at: null,
    });
    expect(await pw.log.query({ type: 'condition.cleared', order: 'asc', limit: 10 })).toHaveLength(1);
    // The device reports, then falls silent again: a new condition, the cleared one stays cleared.
    clock.advance(MIN);
    await reading('cold-9', 4.2);
    await fireAt(clock.now() + 16 * MIN);
    const again = (await call('GET', '/v1/conditions?kind=device.silent&key=cold-9', reader)).json.conditions as { id: string }[];
    expect(again).toHaveLength(1);
    expect(again[0]?.id).not.toBe(id);
    expect((await call('GET', `/v1/conditions/${id}`, reader)).json).toMatchObject({ status: 'cleared', note: 'sensor swapped' });
  });
});
