/**
 * Data quality end to end: readings in over HTTP, the state consumer folds them into per-source
 * verdicts, the gate (`isSourceTrusted`) answers from them, `quality.degraded` / `quality.recovered`
 * come back as conditions, and `GET /v1/quality` serves them — on a FakeClock, without sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { isSourceTrusted } from '../src/quality/index.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.parse('2026-06-01T09:00:00Z');
const clock = new FakeClock(T0);
let server: TestServer;
let pw: Pitwall;
let key: string;
let ingestOnly: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'quality', clock });
  pw = server.pw;
  key = (await createKey(pw.store.db, clock, { name: 't', scopes: ['ingest', 'read'] })).key;
  ingestOnly = (await createKey(pw.store.db, clock, { name: 'i', scopes: ['ingest'] })).key;
  // Timers fire only when a test ticks: the background loop would race the assertions.
  await pw.timerRunner?.stop();
});
afterAll(async () => {
  await server?.close();
});

const iso = (ms: number) => new Date(ms).toISOString();
let n = 0;

async function settle(): Promise<void> {
  for (;;) {
    const head = await pw.log.head();
    await pw.state?.caughtUp(head);
    if ((await pw.log.head()) === head) return;
  }
}

async function post(event: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${pw.httpUrl}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id: `q-${++n}`, time: iso(clock.now()), ...event }),
  });
  await settle();
  return res.status;
}

const gpsFix = (lat: number, lon: number) =>
  post({ source: 'urn:carrier:dhl', type: 'shipment.position', deviceid: 'trk-7', data: { shipment_id: 'shp-9', lat, lon } });
const probe = (v: unknown) =>
  post({ source: 'urn:dev:probe/1', type: 'sensor.reading', data: { n: 'coldroom_temp', u: 'Cel', v, t: clock.now() / 1000 } });

async function get(path: string, bearer = key): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${pw.httpUrl}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const derived = async (type: string) =>
  (await pw.log.query({ type, order: 'asc', limit: 100 })).map((e) => (e.event.data as { source: string }).source);

describe('data quality, wired into the server', () => {
  it('a GPS tracker with a frozen fix is untrusted (flat_line): the gate says no, quality.degraded once; moving again recovers once', async () => {
    for (let i = 0; i < 9; i++) {
      expect(await gpsFix(51.3127, 9.4797)).toBe(200);
      clock.advance(30 * SEC);
    }
    expect(await get('/v1/quality/trk-7')).toMatchObject({ status: 200, body: { source: 'trk-7', trusted: true, score: 100 } });
    expect(await isSourceTrusted(pw.store.db, 'trk-7')).toBe(true);

    await gpsFix(51.3127, 9.4797); // the 10th identical fix
    const frozen = await get('/v1/quality/trk-7');
    expect(frozen.body).toMatchObject({ trusted: false, degraded: true, score: 50, last_received_at: iso(clock.now()) });
    expect((frozen.body.flags as { kind: string }[]).map((f) => f.kind)).toEqual(['flat_line']);
    expect(await isSourceTrusted(pw.store.db, 'trk-7')).toBe(false);
    clock.advance(30 * SEC);
    await gpsFix(51.3127, 9.4797);
    expect(await derived('quality.degraded')).toEqual(['trk-7']);
    const open = await get('/v1/conditions?kind=quality.degraded');
    expect(open.body.conditions).toMatchObject([{ key: 'trk-7', status: 'raised', details: { source: 'trk-7', score: 50 } }]);

    for (let i = 0; i < 3; i++) {
      clock.advance(30 * SEC);
      await gpsFix(51.32 + i * 0.01, 9.49 + i * 0.01);
    }
    expect(await isSourceTrusted(pw.store.db, 'trk-7')).toBe(true);
    expect(await derived('quality.recovered')).toEqual(['trk-7']);
    expect(await derived('quality.degraded')).toEqual(['trk-7']);
    expect((await get('/v1/conditions?kind=quality.degraded')).body.conditions).toEqual([]);
  });

  it('counts schema rejects from the quarantine, serves a source with a slash URL-encoded, and marks it stale on the timer', async () => {
    expect(await probe(4.2)).toBe(200);
    expect(await probe('warm')).toBe(400); // v must be a number: quarantined
    clock.advance(20 * SEC); // past the 10 s the quarantine is given to settle
    expect(await probe(4.3)).toBe(200);
    const path = `/v1/quality/${encodeURIComponent('urn:dev:probe/1')}`;
    const q = await get(path);
    expect(q.body).toMatchObject({ source: 'urn:dev:probe/1', trusted: true });
    expect(q.body.flags).toMatchObject([{ kind: 'rejects', detail: '1 of last 3 (33%)' }]);

    clock.advance(16 * MIN);
    await pw.timerRunner?.tick();
    await settle();
    const stale = await get(path);
    expect(stale.body).toMatchObject({ trusted: false, degraded: true, stale_at: null });
    expect((stale.body.flags as { kind: string }[]).map((f) => f.kind)).toContain('stale');
    expect(await derived('quality.degraded')).toContain('urn:dev:probe/1');
  });

  it('lists sources with filters and a cursor; answers problem+json for unknown sources and bad queries', async () => {
    const all = await get('/v1/quality');
    expect((all.body.sources as { source: string }[]).map((s) => s.source)).toEqual(['trk-7', 'urn:dev:probe/1']);
    const untrusted = await get('/v1/quality?trusted=false');
    expect((untrusted.body.sources as { source: string }[]).map((s) => s.source)).toEqual(['trk-7', 'urn:dev:probe/1']); // both stale by now

    const page1 = await get('/v1/quality?limit=1');
    expect(page1.body.sources).toMatchObject([{ source: 'trk-7' }]);
    expect(typeof page1.body.next_cursor).toBe('string');
    const page2 = await get(`/v1/quality?limit=1&cursor=${page1.body.next_cursor as string}`);
    expect(page2.body).toMatchObject({ sources: [{ source: 'urn:dev:probe/1' }], next_cursor: expect.any(String) });
    const page3 = await get(`/v1/quality?limit=1&cursor=${page2.body.next_cursor as string}`);
    expect(page3.body).toEqual({ sources: [], next_cursor: null });

    expect(await get('/v1/quality/nobody')).toMatchObject({ status: 404, body: { code: 'PW_QUALITY_SOURCE_NOT_FOUND' } });
    expect(await get('/v1/quality?trusted=maybe')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/quality?cursor=bogus')).toMatchObject({ status: 400, body: { code: 'PW_QUERY_INVALID' } });
    expect(await get('/v1/quality', ingestOnly)).toMatchObject({ status: 403, body: { code: 'PW_AUTH_SCOPE' } });
  });

  it('a device that resends its readings shows its duplicate rate and, at half its traffic, degrades (duplicates)', async () => {
    clock.set(Math.ceil(clock.now() / MIN) * MIN); // the start of a receive minute
    const start = clock.now();
    const batch = Array.from({ length: 10 }, (_, i) => ({
      specversion: '1.0',
      id: `resend-${i}`,
      source: 'urn:dev:resender',
      type: 'sensor.reading',
      deviceid: 'thermo-3',
      time: iso(start - (10 - i) * SEC),
      data: { n: 'coldroom_temp', u: 'Cel', v: 4 + i / 10, t: (start - (10 - i) * SEC) / 1000 },
    }));
    const send = async () => {
      const res = await fetch(`${pw.httpUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(batch),
      });
      await settle();
      return (await res.json()) as { accepted: number; duplicates: number };
    };
    expect(await send()).toMatchObject({ accepted: 10, duplicates: 0 });
    clock.advance(5 * SEC);
    expect(await send()).toMatchObject({ accepted: 0, duplicates: 10 }); // the gateway resends all of it
    expect((await get('/v1/quality/thermo-3')).body).toMatchObject({ score: 100, flags: [] }); // counted once its minute is over

    // The minute has ended and settled: the next fold of anything (here another device's reading) counts it.
    clock.set(start + MIN + 10 * SEC);
    expect(await probe(4.4)).toBe(200);
    const q = await get('/v1/quality/thermo-3');
    expect(q.body).toMatchObject({ source: 'thermo-3', degraded: true, trusted: false, score: 50 });
    expect(q.body.flags).toMatchObject([{ kind: 'duplicates', detail: '10 of last 20 (50%)' }]);
    const degraded = (await pw.log.query({ type: 'quality.degraded', order: 'asc', limit: 100 })).filter(
      (e) => (e.event.data as { source: string }).source === 'thermo-3',
    );
    expect(degraded).toHaveLength(1);
    expect((degraded[0]?.event.data as { reasons: string[] } | undefined)?.reasons[0]).toMatch(/^duplicates: /);

    // Counted once: another fold and the timer leave the count as it is.
    clock.advance(MIN);
    expect(await probe(4.5)).toBe(200);
    await pw.timerRunner?.tick();
    await settle();
    expect((await get('/v1/quality/thermo-3')).body.flags).toMatchObject([{ kind: 'duplicates', detail: '10 of last 20 (50%)' }]);
  });
});
