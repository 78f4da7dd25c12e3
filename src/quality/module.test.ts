import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock, isoTime } from '../core/index.ts';
import { recordDuplicates } from '../ingest/index.ts';
import { isSourceTrusted, QUALITY_SOURCE, QUALITY_TIMER_KEY, sourceQuality } from './index.ts';
import { fix, type Harness, MIN, nextId, openHarness, reading, SEC, T0 } from './test-harness.ts';

const SETTINGS = { reject_settle_seconds: 10 };

describeEachBackend('quality module', (make) => {
  let backend: Backend;
  let clock: FakeClock;
  let h: Harness;

  beforeEach(async () => {
    backend = make();
    clock = new FakeClock(T0);
    h = await openHarness(backend, clock, SETTINGS);
  });
  afterEach(async () => {
    await h?.close();
    await backend?.cleanup();
  });

  /** Sends one fix per 30 s from `t`, each at the clock's time; returns the time after the last. */
  const fixes = async (device: string, positions: [number, number][], t: number): Promise<number> => {
    for (const [lat, lon] of positions) {
      clock.set(t);
      await h.send(fix(device, lat, lon, t));
      t += 30 * SEC;
    }
    return t;
  };
  const frozen = (n: number): [number, number][] => Array.from({ length: n }, () => [51.3127, 9.4797]);
  const moving = (n: number, from = 0): [number, number][] =>
    Array.from({ length: n }, (_, i) => [51.3 + (from + i) * 0.01, 9.4 + (from + i) * 0.01]);

  it('a GPS tracker whose fix is frozen for 10 fixes becomes untrusted (flat_line), degrades once, and recovers once when it moves', async () => {
    let t = await fixes('gps-7', frozen(9), T0);
    expect(await isSourceTrusted(h.store.db, 'gps-7')).toBe(true);
    t = await fixes('gps-7', frozen(1), t);
    const q = await sourceQuality(h.store.db, 'gps-7');
    expect(q).toMatchObject({ trusted: false, degraded: true, score: 50 });
    expect(q?.flags.map((f) => f.kind)).toEqual(['flat_line']);
    expect(q?.flags[0]?.detail).toMatch(/shp-1 position unchanged across 10 fixes/);
    expect(await isSourceTrusted(h.store.db, 'gps-7')).toBe(false);

    t = await fixes('gps-7', frozen(5), t); // still frozen: no second event
    const degraded = await h.derived();
    expect(degraded.map((e) => e.type)).toEqual(['quality.degraded']);
    expect(degraded[0]).toMatchObject({
      source: QUALITY_SOURCE,
      subject: 'gps-7',
      data: { source: 'gps-7', score: 50, trigger: 'reading' },
    });
    expect((degraded[0]?.data as { reasons: string[] } | undefined)?.reasons[0]).toMatch(/^flat_line: /);
    expect(await h.openConditions()).toEqual([{ key: 'gps-7', status: 'raised' }]);

    t = await fixes('gps-7', moving(5), t);
    expect(await sourceQuality(h.store.db, 'gps-7')).toMatchObject({ trusted: true, degraded: false, score: 100, flags: [] });
    expect((await h.derived()).map((e) => e.type)).toEqual(['quality.degraded', 'quality.recovered']);
    expect(await h.openConditions()).toEqual([]);
    const pending = await h.store.db.selectFrom('quality_sources').select(['has_pending', 'pending']).execute();
    expect(pending).toEqual([{ has_pending: 0, pending: '[]' }]); // every transition came back from the log
  });

  it('flags an impossible temperature (−60 °C) as out_of_range: untrusted at score 60, without a transition', async () => {
    await h.send(reading('probe-1', 'coldroom_temp', 4.2, 'Cel', T0));
    clock.set(T0 + MIN);
    await h.send(reading('probe-1', 'coldroom_temp', -60, 'Cel', T0 + MIN));
    const q = await sourceQuality(h.store.db, 'probe-1');
    expect(q).toMatchObject({ score: 60, trusted: false, degraded: false });
    expect(q?.flags[0]).toMatchObject({ kind: 'out_of_range', detail: expect.stringContaining('-60 outside -40…85') });
    clock.set(T0 + 2 * MIN);
    await h.send(reading('probe-1', 'coldroom_temp', 4.1, 'Cel', T0 + 2 * MIN));
    expect(await sourceQuality(h.store.db, 'probe-1')).toMatchObject({ score: 100, trusted: true });
    expect(await h.derived()).toEqual([]);
  });

  it('flags a spike by robust z-score, across batches (the window is persisted between them)', async () => {
    for (let i = 0; i < 30; i++) {
      clock.set(T0 + i * MIN);
      await h.send(reading('probe-2', 'temp', 4 + 0.1 * Math.sin(i * 1.7), 'Cel', T0 + i * MIN));
    }
    expect((await sourceQuality(h.store.db, 'probe-2'))?.flags).toEqual([]);
    clock.set(T0 + 30 * MIN);
    await h.send(reading('probe-2', 'temp', 25, 'Cel', T0 + 30 * MIN));
    const q = await sourceQuality(h.store.db, 'probe-2');
    expect(q?.flags.map((f) => f.kind)).toEqual(['spike']);
    expect(q?.flags[0]?.detail).toContain('last: temp = 25');
    expect(q?.trusted).toBe(true);
  });

  it('flags clock skew: event time 10 minutes ahead of the receive time', async () => {
    await h.send(reading('probe-3', 'temp', 4, 'Cel', T0 + 10 * MIN));
    const q = await sourceQuality(h.store.db, 'probe-3');
    expect(q?.flags.map((f) => f.kind)).toEqual(['clock_skew']);
    expect(q?.flags[0]?.detail).toContain('ahead by 10 min');
  });

  it('marks a silent source stale on the timer: one quality.degraded at its stale time, one recovered when it sends again', async () => {
    const first = reading('probe-4', 'temp', 4, 'Cel', T0);
    await h.send(first);
    clock.set(T0 + 5 * MIN);
    await h.send(reading('probe-5', 'temp', 4, 'Cel', T0 + 5 * MIN));
    expect((await h.timers.get(QUALITY_TIMER_KEY))?.dueAt).toBe(T0 + 15 * MIN + 1);
    expect(await h.at(T0 + 14 * MIN)).toMatchObject({ claimed: 0 });

    expect(await h.at(T0 + 16 * MIN)).toMatchObject({ claimed: 1 });
    const q = await sourceQuality(h.store.db, 'probe-4');
    expect(q).toMatchObject({ trusted: false, degraded: true, score: 50, updatedMs: T0 + 15 * MIN + 1, staleAtMs: undefined });
    expect(q?.flags.map((f) => f.kind)).toEqual(['stale']);
    expect(await isSourceTrusted(h.store.db, 'probe-5')).toBe(true);
    // The timer moved on to the next source's stale time.
    expect((await h.timers.get(QUALITY_TIMER_KEY))?.dueAt).toBe(T0 + 20 * MIN + 1);
    const [stale] = await h.derived();
    expect(stale).toMatchObject({
      type: 'quality.degraded',
      time: new Date(T0 + 15 * MIN + 1).toISOString(),
      data: { source: 'probe-4', score: 50, trigger: 'stale', caused_by: [first.id] },
    });

    expect(await h.at(T0 + 21 * MIN)).toMatchObject({ claimed: 1 });
    expect(await h.at(T0 + 40 * MIN)).toMatchObject({ claimed: 0 }); // both stale: nothing left to time
    expect(await h.timers.count()).toBe(0);
    await h.send(reading('probe-4', 'temp', 4.1, 'Cel', T0 + 40 * MIN));
    expect((await h.derived()).map((e) => `${e.type} ${(e.data as { source: string }).source}`)).toEqual([
      'quality.degraded probe-4',
      'quality.degraded probe-5',
      'quality.recovered probe-4',
    ]);
    expect(await h.openConditions()).toEqual([{ key: 'probe-5', status: 'raised' }]);
    expect(await sourceQuality(h.store.db, 'probe-4')).toMatchObject({ trusted: true, staleAtMs: T0 + 55 * MIN + 1 });
  });

  it('counts schema rejects of a device from the quarantine (once settled), and degrades at a 50 % reject rate', async () => {
    for (let i = 0; i < 10; i++) {
      clock.set(T0 + i * SEC);
      await h.send(reading('probe-6', 'temp', 4 + (i % 3) * 0.1, 'Cel', T0 + i * SEC));
    }
    for (let i = 0; i < 10; i++) await h.quarantine(`q-${i}`, T0 + 10 * SEC, { deviceId: 'probe-6' });
    // A reading 5 s later: the rejects are not settled yet (10 s), so they do not count.
    clock.set(T0 + 15 * SEC);
    await h.send(reading('probe-6', 'temp', 4.1, 'Cel', T0 + 15 * SEC));
    expect((await sourceQuality(h.store.db, 'probe-6'))?.flags).toEqual([]);
    clock.set(T0 + 25 * SEC);
    await h.send(reading('probe-6', 'temp', 4.2, 'Cel', T0 + 25 * SEC));
    const q = await sourceQuality(h.store.db, 'probe-6');
    expect(q?.flags).toEqual([{ kind: 'rejects', detail: '10 of last 22 (45%)', penalty: 45.5 }]);
    expect(q).toMatchObject({ score: 55, degraded: true });
    expect(await h.derived()).toMatchObject([{ type: 'quality.degraded', data: { source: 'probe-6', trigger: 'reject' } }]);
    // Counted once: another batch does not count them again.
    clock.set(T0 + 60 * SEC);
    await h.send(reading('probe-6', 'temp', 4.0, 'Cel', T0 + 60 * SEC));
    expect((await sourceQuality(h.store.db, 'probe-6'))?.flags[0]?.detail).toBe('10 of last 23 (43%)');
  });

  it('counts the rejects of a device that sends nothing valid on the timer, and ignores a storefront’s rejects', async () => {
    await h.quarantine('q-a', T0, { deviceId: 'dongle-9', channel: 'mqtt-telemetry', type: null });
    await h.quarantine('q-b', T0, { source: 'pitwall:key/k1', channel: 'segment', type: 'commerce.product_added' });
    // Any batch lets the detector notice rejects waiting in the quarantine.
    await h.send({
      specversion: '1.0',
      id: nextId('c'),
      source: 'shop',
      type: 'commerce.product_viewed',
      time: new Date(T0).toISOString(),
      data: {},
    });
    expect((await h.timers.get(QUALITY_TIMER_KEY))?.dueAt).toBe(T0 + 10 * SEC);
    expect(await h.at(T0 + 10 * SEC)).toMatchObject({ claimed: 1 });
    expect(await h.rows()).toMatchObject([{ source: 'dongle-9', score: 50, degraded: true, flags: [{ kind: 'rejects' }] }]);
    expect(await h.derived()).toMatchObject([{ type: 'quality.degraded', data: { source: 'dongle-9', trigger: 'reject' } }]);
  });

  it('does not flap: after a flat line, a score held between 60 and 80 by rejects recovers only at 80', async () => {
    await h.close();
    h = await openHarness(backend, clock, { ...SETTINGS, outcome_window: 20 });
    let t = await fixes('gps-8', frozen(10), T0);
    for (let i = 0; i < 6; i++)
      await h.quarantine(`q-h${i}`, t, { deviceId: 'gps-8', channel: 'mqtt-shipment', type: 'shipment.position' });
    t += 15 * SEC;
    const scores: number[] = [];
    for (let i = 0; i < 12; i++) {
      t = await fixes('gps-8', moving(1, i), t);
      const q = await sourceQuality(h.store.db, 'gps-8');
      scores.push(q?.score ?? -1);
      if (q && q.score < 80) expect(q.degraded).toBe(true);
    }
    expect(scores.slice(0, 6)).toEqual([70, 70, 70, 70, 70, 70]);
    expect(scores.at(-1)).toBe(100);
    expect((await h.derived()).map((e) => e.type)).toEqual(['quality.degraded', 'quality.recovered']);
  });

  it('counts the duplicates ingest recorded once their minute has settled (on the timer), once, for device sources only', async () => {
    await h.send(...Array.from({ length: 10 }, (_, i) => reading('d-1', 'temp', 4 + i / 10, 'Cel', T0 - (10 - i) * SEC)));
    await recordDuplicates(h.store.db, T0 + 5 * SEC, [
      ...Array.from({ length: 10 }, () => ({ source: 'pitwall:device/d-1', device: 'd-1', type: 'sensor.reading' })),
      ...Array.from({ length: 3 }, () => ({ source: 'urn:shop', device: '', type: 'commerce.order_completed' })),
    ]);
    clock.set(T0 + 20 * SEC);
    await h.send(reading('d-1', 'temp', 5, 'Cel', T0 + 20 * SEC));
    expect((await sourceQuality(h.store.db, 'd-1'))?.flags).toEqual([]); // its minute is not over yet
    expect((await h.timers.get(QUALITY_TIMER_KEY))?.dueAt).toBe(T0 + MIN + 10 * SEC); // minute end + settle time

    await h.at(T0 + MIN + 10 * SEC);
    const q = await sourceQuality(h.store.db, 'd-1');
    expect(q).toMatchObject({ degraded: true, trusted: false, score: 52 });
    expect(q?.flags).toMatchObject([{ kind: 'duplicates', detail: '10 of last 21 (48%)' }]);
    expect((await h.derived()).map((e) => [e.type, (e.data as { trigger: string }).trigger])).toEqual([['quality.degraded', 'duplicate']]);
    expect((await h.rows()).map((r) => r.source)).toEqual(['d-1']); // a storefront's resends make no quality source

    await h.at(T0 + 3 * MIN);
    expect((await sourceQuality(h.store.db, 'd-1'))?.flags).toMatchObject([{ kind: 'duplicates', detail: '10 of last 21 (48%)' }]);
  });

  it('the stale timer is not starved by unrelated traffic that keeps the log head ahead of the state group', async () => {
    const b2 = make();
    const h2 = await openHarness(b2, clock, SETTINGS, { consume: false });
    try {
      /** One round of the state group, by hand: fold, detectors, ack. */
      const fold = async () => {
        const batch = await h2.log.read((await h2.log.position('state')) ?? 0, 500);
        const last = batch[batch.length - 1];
        if (!last) return;
        await h2.applyBatch(batch);
        await h2.detector.onEvents?.(batch);
        await h2.log.ack('state', last.seq);
      };
      const unrelated = () =>
        h2.log.append([
          {
            event: {
              specversion: '1.0',
              id: nextId('c'),
              source: 'shop',
              type: 'commerce.product_viewed',
              time: isoTime(clock.now()),
              data: {},
            },
            receivedAt: clock.now(),
          },
        ]);
      await h2.log.append([{ event: reading('d-s', 'temp', 4, 'Cel', T0), receivedAt: T0 }]);
      await fold();
      for (let i = 0; i < 4; i++) {
        clock.set(T0 + 16 * MIN + i * SEC);
        await unrelated(); // not folded yet when the timer looks
        await h2.runner.tick();
        await fold();
      }
      const q = await sourceQuality(h2.store.db, 'd-s');
      expect(q?.flags.map((f) => f.kind)).toEqual(['stale']);
      expect(q).toMatchObject({ degraded: true, trusted: false });
    } finally {
      await h2.close();
      await b2.cleanup();
    }
  });

  it('emits every transition a batch found, even for more than 500 sources (paged)', async () => {
    // 650 sources whose fold at position 7 found a transition not yet in the log (written as the fold writes them).
    const rows = Array.from({ length: 650 }, (_, i) => {
      const source = `dev-${String(i).padStart(4, '0')}`;
      const id = nextId('t');
      const pending = [
        { id, type: 'quality.degraded', at: T0, score: 50, reasons: ['stale: test'], seq: 7, trigger: 'stale', causedBy: [] },
      ];
      return {
        source,
        score: 50,
        trusted: 0,
        degraded: 1,
        flags: '[]',
        last_received_ms: T0,
        updated_ms: T0,
        pending: JSON.stringify(pending),
        has_pending: 7,
      };
    });
    for (let i = 0; i < rows.length; i += 100)
      await h.store.db
        .insertInto('quality_sources')
        .values(rows.slice(i, i + 100))
        .execute();
    const batch = [{ seq: 7, event: reading('dev-0000', 'temp', 4, 'Cel', T0), receivedAt: T0, history: false }];
    await h.detector.onEvents?.(batch);
    await h.settle();
    const degraded = await h.log.query({ type: 'quality.degraded', order: 'asc', limit: 1000 });
    expect(new Set(degraded.map((l) => l.event.subject)).size).toBe(650);
  });

  it('history-mode readings are not observed: no row, no timer, no event', async () => {
    await h.send(...frozen(12).map(([lat, lon], i) => fix('gps-h', lat, lon, T0 - 60 * MIN + i * SEC, { pitwallhistory: true })));
    expect(await h.rows()).toEqual([]);
    expect(await h.timers.count()).toBe(0);
    expect(await h.derived()).toEqual([]);
  });
});
