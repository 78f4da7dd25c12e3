/**
 * The conditions projection: raise / refresh / clear / acknowledge folded from derived events,
 * idempotent by position, on SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { isoTime } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import {
  acknowledgementEvent,
  type ConditionRule,
  conditionId,
  createConditionsProjection,
  getCondition,
  listConditions,
  type Projection,
  writeTransaction,
} from './index.ts';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const MIN = 60_000;

const rules: ConditionRule[] = [
  {
    type: 'device.silent',
    action: 'raise',
    kind: 'device.silent',
    key: (e) => (e.data as { device_id?: string }).device_id,
    severity: (e) => (((e.data as { minutes?: number }).minutes ?? 0) > 60 ? 'critical' : 'warning'),
    summary: (e) => `device ${(e.data as { device_id: string }).device_id} silent`,
  },
  { type: 'device.back', action: 'clear', kind: 'device.silent', key: (e) => (e.data as { device_id?: string }).device_id },
  {
    type: 'device.retired',
    action: 'clear',
    terminal: true,
    kind: 'device.silent',
    key: (e) => (e.data as { device_id?: string }).device_id,
  },
];

let seq = 0;
function logged(type: string, data: Record<string, unknown>, atMs: number, id = `e${seq + 1}`): LoggedEvent {
  seq += 1;
  const event: CloudEvent = { specversion: '1.0', id, source: 'pitwall:detector/test', type, time: isoTime(atMs), data };
  return { seq, event, receivedAt: atMs, history: false };
}

describeEachBackend('conditions projection', (make) => {
  let backend: Backend;
  let store: Store;
  let projection: Projection;
  const fold = (events: LoggedEvent[]) =>
    writeTransaction(store, (db) =>
      projection.apply(
        db,
        events.filter((e) => projection.handles(e.event)),
        store.dialect,
      ),
    );

  beforeEach(async () => {
    seq = 0;
    backend = make();
    store = await backend.open();
    projection = createConditionsProjection(rules);
  });
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('raises, refreshes while open, and clears; a later raise opens a new condition', async () => {
    const first = logged('device.silent', { device_id: 'd1', minutes: 15 }, T0);
    await fold([first, logged('device.silent', { device_id: 'd1', minutes: 90 }, T0 + 75 * MIN)]);
    let [c] = await listConditions(store.db, { status: 'open', limit: 10 });
    expect(c).toMatchObject({
      id: conditionId('device.silent', 'd1', first.event),
      kind: 'device.silent',
      key: 'd1',
      status: 'raised',
      severity: 'critical',
      summary: 'device d1 silent',
      raiseCount: 2,
      raisedAt: isoTime(T0),
      lastRaisedAt: isoTime(T0 + 75 * MIN),
      details: { device_id: 'd1', minutes: 90 },
    });

    await fold([logged('device.back', { device_id: 'd1' }, T0 + 80 * MIN, 'back-1')]);
    expect(await listConditions(store.db, { status: 'open', limit: 10 })).toEqual([]);
    c = await getCondition(store.db, c?.id ?? '');
    expect(c).toMatchObject({ status: 'cleared', clearedAt: isoTime(T0 + 80 * MIN), clearedEventId: 'back-1' });

    await fold([logged('device.silent', { device_id: 'd1', minutes: 15 }, T0 + 200 * MIN)]);
    const all = await listConditions(store.db, { limit: 10 });
    expect(all.map((x) => x.status)).toEqual(['raised', 'cleared']);
  });

  it('ignores a clear with nothing open, and keys conditions apart', async () => {
    await fold([logged('device.back', { device_id: 'd9' }, T0), logged('device.silent', { device_id: 'd2' }, T0)]);
    await fold([logged('device.silent', { device_id: 'd3' }, T0 + MIN)]);
    const open = await listConditions(store.db, { status: 'open', limit: 10 });
    expect(open.map((c) => c.key).sort()).toEqual(['d2', 'd3']);
    expect(await listConditions(store.db, { status: 'open', key: 'd2', limit: 10 })).toHaveLength(1);
  });

  it('acknowledges a raised condition once; a cleared one keeps its status but records the acknowledgement', async () => {
    await fold([logged('device.silent', { device_id: 'd1' }, T0), logged('device.silent', { device_id: 'd2' }, T0)]);
    const [a, b] = (await listConditions(store.db, { status: 'open', limit: 10 })).sort((x, y) => x.key.localeCompare(y.key));
    const ack = (id: string, by: string, at: number) =>
      logged('condition.acknowledged', acknowledgementEvent(id, by, 'on it', at, `ack-${seq}`).data as Record<string, unknown>, at);
    await fold([ack(a?.id ?? '', 'ops-1', T0 + MIN), ack(a?.id ?? '', 'ops-2', T0 + 2 * MIN)]);
    expect(await getCondition(store.db, a?.id ?? '')).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'ops-1',
      acknowledgedAt: isoTime(T0 + MIN),
      note: 'on it',
    });
    // Still open: a clear closes an acknowledged condition too.
    await fold([logged('device.back', { device_id: 'd1' }, T0 + 3 * MIN)]);
    expect(await getCondition(store.db, a?.id ?? '')).toMatchObject({ status: 'cleared', acknowledgedBy: 'ops-1' });

    await fold([logged('device.back', { device_id: 'd2' }, T0 + 3 * MIN), ack(b?.id ?? '', 'ops-3', T0 + 4 * MIN)]);
    expect(await getCondition(store.db, b?.id ?? '')).toMatchObject({ status: 'cleared', acknowledgedBy: 'ops-3' });
  });

  it('is idempotent by position: re-folding a batch after a crash changes nothing', async () => {
    const batch = [
      logged('device.silent', { device_id: 'd1' }, T0),
      logged('device.silent', { device_id: 'd1' }, T0 + MIN),
      logged('device.back', { device_id: 'd1' }, T0 + 2 * MIN),
      logged('device.silent', { device_id: 'd1' }, T0 + 3 * MIN),
    ];
    await fold(batch);
    const before = await listConditions(store.db, { limit: 10 });
    await fold(batch);
    await fold(batch.slice(1));
    expect(await listConditions(store.db, { limit: 10 })).toEqual(before);
    expect(before.map((c) => [c.status, c.raiseCount])).toEqual([
      ['raised', 1],
      ['cleared', 2],
    ]);
  });

  it('a replayed batch that refreshed and then cleared an open condition raises no second one', async () => {
    await fold([logged('device.silent', { device_id: 'd1' }, T0)]);
    const batch = [logged('device.silent', { device_id: 'd1' }, T0 + MIN), logged('device.back', { device_id: 'd1' }, T0 + 2 * MIN)];
    await fold(batch);
    await fold(batch); // the consumer crashed before its ack
    const all = await listConditions(store.db, { limit: 10 });
    expect(all.map((c) => [c.status, c.raiseCount])).toEqual([['cleared', 2]]);
  });

  it('a terminal clear is sticky: a raise folded after it opens nothing, with or without an open condition before', async () => {
    // d1: open, then ended; a raise the detector appended from state read before the fold comes after.
    await fold([logged('device.silent', { device_id: 'd1' }, T0)]);
    await fold([logged('device.retired', { device_id: 'd1' }, T0 + MIN), logged('device.silent', { device_id: 'd1' }, T0 + 2 * MIN)]);
    // d2: ended with nothing open; a raise arrives (by position) later, stamped earlier.
    await fold([logged('device.retired', { device_id: 'd2' }, T0 + 5 * MIN)]);
    await fold([logged('device.silent', { device_id: 'd2' }, T0 + 4 * MIN)]);
    expect(await listConditions(store.db, { status: 'open', limit: 10 })).toEqual([]);
    const all = await listConditions(store.db, { limit: 10 });
    expect(all.map((c) => [c.key, c.status, c.raiseCount])).toEqual([['d1', 'cleared', 1]]);
    // An ordinary clear stays non-terminal: d3 can be raised again after it.
    await fold([logged('device.silent', { device_id: 'd3' }, T0), logged('device.back', { device_id: 'd3' }, T0 + MIN)]);
    await fold([logged('device.silent', { device_id: 'd3' }, T0 + 2 * MIN)]);
    expect((await listConditions(store.db, { status: 'open', limit: 10 })).map((c) => c.key)).toEqual(['d3']);
  });

  it('pages newest first with a cursor pair', async () => {
    const events = Array.from({ length: 5 }, (_, i) => logged('device.silent', { device_id: `d${i}` }, T0 + i * MIN));
    await fold(events);
    const page1 = await listConditions(store.db, { limit: 2 });
    const last = page1[1];
    const page2 = await listConditions(store.db, { limit: 10, before: { raisedMs: Date.parse(last?.raisedAt ?? ''), id: last?.id ?? '' } });
    expect([...page1, ...page2].map((c) => c.key)).toEqual(['d4', 'd3', 'd2', 'd1', 'd0']);
  });
});
