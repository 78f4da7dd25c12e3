/**
 * Shipments end to end: carrier events in over HTTP (a history backfill for the lane, then a live
 * shipment), the state consumer folds them, the detector and its timer raise `shipment.delayed`,
 * and the read API answers with the predicted window, the lane's reliability and the lists.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const clock = new FakeClock(T0);
const LANE = { carrier: 'dhl', origin: 'DE-HAM-1', destination: 'DE-BY' };
let server: TestServer;
let pw: Pitwall;
let key: string;
let configDir: string;

beforeAll(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), 'pitwall-shipments-config-'));
  const file = path.join(configDir, 'pitwall.config.yaml');
  writeFileSync(file, 'detectors:\n  shipments:\n    late_after_hours: 1\n    carriers:\n      ups:\n        late_after_hours: 12\n');
  server = await startTestServer({ name: 'shipments', clock, env: { PITWALL_CONFIG: file } });
  pw = server.pw;
  key = (await createKey(pw.store.db, clock, { name: 't', scopes: ['ingest', 'read'] })).key;
});
afterAll(async () => {
  await server?.close();
  rmSync(configDir, { recursive: true, force: true });
});

const iso = (ms: number) => new Date(ms).toISOString();
let n = 0;
function ev(type: string, shipmentId: string, atMs: number, data: Record<string, unknown> = {}, ext: Record<string, unknown> = {}) {
  n += 1;
  return {
    specversion: '1.0',
    id: `http-${type}-${n}`,
    source: 'urn:carrier:dhl',
    type: `shipment.${type}`,
    time: iso(atMs),
    data: { shipment_id: shipmentId, ...data },
    ...ext,
  };
}

async function settle(): Promise<void> {
  for (;;) {
    const head = await pw.log.head();
    await pw.state?.caughtUp(head);
    if ((await pw.log.head()) === head) return;
  }
}

async function post(events: unknown[]): Promise<void> {
  const res = await fetch(`${pw.httpUrl}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { rejected: number }).rejected).toBe(0);
  await settle();
}

async function get(route: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${pw.httpUrl}${route}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('shipments over HTTP', () => {
  it('backfills a lane in history mode: reliability and transit quantiles, no derived events', async () => {
    const hours = [20, 20, 21, 21, 22, 22, 23, 23, 24, 48];
    await post(
      hours.flatMap((h, i) => {
        const start = T0 - 40 * 86_400_000 + i * 86_400_000;
        const hist = { pitwallhistory: true };
        return [
          ev('created', `hist-${i}`, start, { ...LANE, promised_at: iso(start + 24 * H) }, hist),
          ev('delivered', `hist-${i}`, start + h * H, {}, hist),
        ];
      }),
    );
    const r = await get('/v1/reliability?carrier=dhl');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      lanes: [
        {
          ...LANE,
          delivered_count: 10,
          on_time_count: 9,
          on_time_share: 0.9,
          transit_p50_hours: 22,
          transit_p90_hours: 26.4,
          sample_size: 10,
          last_delivered_at: iso(T0 - 31 * 86_400_000 + 48 * H),
        },
      ],
      next_cursor: null,
    });
    expect(await pw.log.query({ type: 'shipment.delayed', order: 'asc', limit: 10 })).toEqual([]);
  });

  it('shows a live shipment with its window, then the timer flags it late (margin from the config file)', async () => {
    await post([
      ev('created', 'shp-1', T0, { ...LANE, promised_at: iso(T0 + 24 * H), order_id: 'ord-1' }),
      ev('status', 'shp-1', T0, { status: 'in_transit' }),
    ]);
    const first = await get('/v1/shipments/shp-1');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      shipment_id: 'shp-1',
      ...LANE,
      order_id: 'ord-1',
      status: 'in_transit',
      promised_at: iso(T0 + 24 * H),
      delayed: true,
      delay_reasons: ['late_prediction'],
      prediction: { p50: iso(T0 + 22 * H), p90: iso(T0 + 26.4 * H), basis: 'empirical', sample_size: 10 },
      reliability: { delivered_count: 10, on_time_share: 0.9 },
    });
    // P90 26.4 h is past the 24 h promise by more than the configured 1 h: late at once.
    const delayed = await pw.log.query({ type: 'shipment.delayed', order: 'asc', limit: 10 });
    expect(delayed.map((e) => (e.event.data as { reason: string }).reason)).toEqual(['late_prediction']);

    const list = await get('/v1/shipments?delayed=true');
    expect((list.body.shipments as { shipment_id: string }[]).map((s) => s.shipment_id)).toEqual(['shp-1']);
    const conditions = await get('/v1/conditions?kind=shipment.delayed');
    expect(conditions.body.conditions).toMatchObject([{ key: 'shp-1', status: 'raised' }]);

    clock.set(T0 + 24.5 * H);
    await pw.timerRunner?.tick();
    await settle();
    const later = await get('/v1/shipments/shp-1');
    // Only the 48 h transit was longer than 24.5 h.
    expect(later.body).toMatchObject({ prediction: { p50: iso(T0 + 48 * H), p90: iso(T0 + 48 * H), sample_size: 1 } });

    clock.set(T0 + 30 * H);
    await post([ev('delivered', 'shp-1', T0 + 30 * H)]);
    const done = await get('/v1/shipments/shp-1');
    expect(done.body).toMatchObject({
      status: 'delivered',
      delayed: false,
      on_time: false,
      transit_hours: 30,
      prediction: { basis: 'delivered' },
    });
    expect((await get('/v1/conditions?kind=shipment.delayed&status=cleared')).body.conditions).toMatchObject([{ key: 'shp-1' }]);
    expect((await get('/v1/reliability?carrier=dhl&origin=DE-HAM-1&destination=DE-BY')).body.lanes).toMatchObject([
      { delivered_count: 11, on_time_count: 9 },
    ]);
  });

  it('uses a carrier’s own margin, and reports condition breaches on the shipment', async () => {
    const now = clock.now();
    await post([
      ev('created', 'shp-ups', now, { carrier: 'ups', origin: 'DE-HAM-1', destination: 'DE-BY', promised_at: iso(now + 2 * H) }),
      ev('condition', 'shp-ups', now, { kind: 'shock', value: 14, unit: 'g' }),
    ]);
    clock.set(now + 5 * H);
    await pw.timerRunner?.tick();
    await settle();
    // Promise basis (no ups history, no catalogue lane): 3 h past the promise is within ups's 12 h margin.
    const s = await get('/v1/shipments/shp-ups');
    expect(s.body).toMatchObject({
      delayed: false,
      prediction: { basis: 'promise', p90: iso(now + 5 * H) },
      breaches: [{ kind: 'shock', value: 14, unit: 'g', limit_max: 10, reading_at: iso(now) }],
      reliability: null,
    });
  });

  it('lists with filters and cursors, and answers problem+json for bad input', async () => {
    const page1 = await get('/v1/shipments?limit=1');
    expect((page1.body.shipments as unknown[]).length).toBe(1);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await get(`/v1/shipments?limit=1&cursor=${page1.body.next_cursor as string}`);
    expect((page2.body.shipments as { shipment_id: string }[])[0]?.shipment_id).not.toBe(
      (page1.body.shipments as { shipment_id: string }[])[0]?.shipment_id,
    );
    const delivered = await get('/v1/shipments?status=delivered&carrier=dhl&limit=100');
    expect((delivered.body.shipments as unknown[]).length).toBe(11);

    const missing = await get('/v1/shipments/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('PW_SHIPMENT_NOT_FOUND');
    for (const bad of ['/v1/shipments?status=lost', '/v1/shipments?delayed=yes', '/v1/shipments?limit=0', '/v1/reliability?cursor=zzz']) {
      const r = await get(bad);
      expect(r.status, bad).toBe(400);
      expect(r.body.code).toBe('PW_QUERY_INVALID');
    }
  });
  it('a returned shipment clears its delay and breach conditions; a raise folded after the end opens nothing', async () => {
    const now = clock.now();
    await post([
      ev('created', 'shp-ret', now, { ...LANE, promised_at: iso(now + H) }),
      ev('status', 'shp-ret', now, { status: 'exception' }),
      ev('condition', 'shp-ret', now, { kind: 'shock', value: 14, unit: 'g' }),
    ]);
    const open = async () =>
      ((await get('/v1/conditions?status=open&limit=100')).body.conditions as { key: string }[])
        .map((c) => c.key)
        .filter((k) => k.startsWith('shp-ret'));
    expect((await open()).sort()).toEqual(['shp-ret', 'shp-ret:shock']);
    clock.set(now + 2 * H);
    await post([ev('status', 'shp-ret', now + 2 * H, { status: 'returned' })]);
    expect(await open()).toEqual([]);

    // A detector that read the shipment before the return was folded appends its raise afterwards
    // (the log has it after the return): the condition stays closed, live and on rebuild alike.
    const late = (type: string, id: string, data: Record<string, unknown>) => ({
      event: { specversion: '1.0' as const, id, source: 'pitwall:detector/test', type, time: iso(now + 2 * H), data },
      receivedAt: clock.now(),
    });
    await pw.log.append([
      late('shipment.delayed', 'late-delay', { shipment_id: 'shp-ret', reason: 'stalled' }),
      late('shipment.condition_breach', 'late-breach', { shipment_id: 'shp-ret', kind: 'shock', value: 15 }),
    ]);
    await settle();
    expect(await open()).toEqual([]);
    // Delivery of another shipment followed by a late raise: the same.
    await post([ev('created', 'shp-del', now, { ...LANE, promised_at: iso(now + 48 * H) }), ev('delivered', 'shp-del', now + 2 * H)]);
    await pw.log.append([late('shipment.delayed', 'late-delay-2', { shipment_id: 'shp-del', reason: 'stalled' })]);
    await settle();
    expect(((await get('/v1/conditions?status=open&key=shp-del')).body.conditions as unknown[]).length).toBe(0);
  });
});
