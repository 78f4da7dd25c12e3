/** Restarts, replays and rebuilds: the quality module's state comes from the log and the quarantine only. */
import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import { writeTransaction } from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import { foldQuality } from './fold.ts';
import { parseQualitySettings } from './index.ts';
import { fix, type Harness, MIN, openHarness, reading, SEC, T0 } from './test-harness.ts';

const SETTINGS = { reject_settle_seconds: 10 };

describeEachBackend('quality module across restarts', (make) => {
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

  /** Three sources, 30 s apart from `from`: a frozen GPS, a moving one, a cold-room probe. */
  const round = (i: number, from: number): CloudEvent[] => {
    const t = from + i * 30 * SEC;
    return [
      fix('gps-frozen', 50, 8, t),
      fix('gps-moving', 50 + i * 0.01, 8 + i * 0.01, t),
      reading('probe', 'temp', 4 + (i % 3) * 0.1, 'Cel', t),
    ];
  };
  const sendRounds = async (from: number, count: number, offset = 0) => {
    for (let i = offset; i < offset + count; i++) {
      clock.set(from + i * 30 * SEC);
      await h.send(...round(i, from));
    }
  };
  const summary = async () => (await h.derived()).map((e) => `${e.type} ${(e.data as { source: string }).source}`);
  /** The rows without the module's bookkeeping columns. */
  const verdicts = async () =>
    (await h.rows()).map(({ source, score, trusted, degraded, flags, lastReceivedMs, updatedMs, staleAtMs }) => ({
      source,
      score,
      trusted,
      degraded,
      flags,
      lastReceivedMs,
      updatedMs,
      staleAtMs,
    }));

  it('a restart in the middle of a flat line neither re-emits nor invents a transition', async () => {
    await sendRounds(T0, 6);
    await h.close();
    h = await openHarness(backend, clock, SETTINGS, { reopen: true });
    await sendRounds(T0, 8, 6); // the frozen GPS reaches 10 identical fixes after the restart
    expect(await summary()).toEqual(['quality.degraded gps-frozen']);
    await h.close();
    h = await openHarness(backend, clock, SETTINGS, { reopen: true });
    await sendRounds(T0, 4, 14);
    expect(await summary()).toEqual(['quality.degraded gps-frozen']);
    expect((await h.rows()).map((r) => [r.source, r.trusted])).toEqual([
      ['gps-frozen', false],
      ['gps-moving', true],
      ['probe', true],
    ]);
  });

  it('a crash after the batch committed but before the detector appended: the replayed batch emits the transition once', async () => {
    await sendRounds(T0, 9);
    await h.close();
    // The process that folds the 10th fix dies after the commit, before the append and the ack.
    h = await openHarness(backend, clock, SETTINGS, { reopen: true, consume: false });
    clock.set(T0 + 9 * 30 * SEC);
    await h.log.append(round(9, T0).map((event) => ({ event, receivedAt: clock.now() })));
    const position = (await h.log.position('state')) ?? 0;
    const batch = await h.log.read(position, 100);
    await h.applyBatch(batch);
    expect((await h.rows()).find((r) => r.source === 'gps-frozen')).toMatchObject({ degraded: true, trusted: false });
    expect(await summary()).toEqual([]);
    await h.close();

    h = await openHarness(backend, clock, SETTINGS, { reopen: true });
    await h.settle();
    expect(await summary()).toEqual(['quality.degraded gps-frozen']);
    expect(await h.openConditions()).toEqual([{ key: 'gps-frozen', status: 'raised' }]);
    // A duplicate delivery of the detector's input changes nothing either.
    await h.detector.onEvents?.(batch);
    await h.settle();
    expect(await summary()).toEqual(['quality.degraded gps-frozen']);
  });

  it('re-applying a batch (a crash before the ack) changes no row', async () => {
    await sendRounds(T0, 12);
    const before = await h.store.db.selectFrom('quality_sources').selectAll().orderBy('source').execute();
    const all: LoggedEvent[] = await h.log.read(0, 1000);
    await h.applyBatch(all.slice(-7));
    await h.applyBatch(all);
    expect(await h.store.db.selectFrom('quality_sources').selectAll().orderBy('source').execute()).toEqual(before);
  });

  it('a restart while a source is silent: the durable timer still marks it stale once', async () => {
    await h.send(reading('probe', 'temp', 4, 'Cel', T0));
    await h.close();
    h = await openHarness(backend, clock, SETTINGS, { reopen: true });
    expect(await h.at(T0 + 16 * MIN)).toMatchObject({ claimed: 1 });
    expect(await h.at(T0 + 17 * MIN)).toMatchObject({ claimed: 0 });
    expect(await summary()).toEqual(['quality.degraded probe']);
  });

  it('a rebuild from the log reaches the verdicts live operation reached, the timer’s stale verdicts included', async () => {
    await sendRounds(T0, 12);
    await h.quarantine('q-1', T0 + 12 * 30 * SEC, { deviceId: 'probe' });
    clock.set(T0 + 13 * 30 * SEC);
    await h.send(reading('probe', 'temp', 4.1, 'Cel', clock.now()));
    await h.at(T0 + 30 * MIN); // both trackers go stale
    clock.set(T0 + 31 * MIN);
    await h.send(fix('gps-moving', 52, 9, clock.now())); // and one comes back
    expect(await summary()).toEqual([
      'quality.degraded gps-frozen',
      'quality.degraded gps-moving',
      'quality.degraded probe',
      'quality.recovered gps-moving',
    ]);
    const live = await verdicts();

    await h.store.db.deleteFrom('quality_sources').execute();
    await h.store.db.deleteFrom('quality_cursors').execute();
    const settings = parseQualitySettings(SETTINGS);
    for (const batch of chunks(await h.log.read(0, 10_000), 5)) {
      const newest = Math.max(...batch.map((le) => le.receivedAt));
      await writeTransaction(h.store, (db) =>
        foldQuality(db, h.store.dialect === 'postgres', settings, {
          events: batch,
          rejectsUpTo: newest - settings.rejectSettleMs,
          now: newest,
        }),
      );
    }
    expect(await verdicts()).toEqual(live);
    expect((await h.rows()).map((r) => r.source)).toEqual(['gps-frozen', 'gps-moving', 'probe']);
    const pending = await h.store.db.selectFrom('quality_sources').select('pending').execute();
    expect(pending.map((p) => p.pending)).toEqual(['[]', '[]', '[]']); // every transition found its event
  });

  it('folding in any batch split, with any batch delivered twice, gives the same rows as one fold (property)', async () => {
    const settings = parseQualitySettings({ flat_line_count: 3, outcome_window: 10 });
    const value = fc.constantFrom(4, 4, 4, 5, -60, 25);
    const step = fc.record({
      source: fc.constantFrom('a', 'b'),
      v: value,
      lateBy: fc.constantFrom(0, 0, 0, 2 * MIN, 10 * MIN),
      gap: fc.constantFrom(SEC, 30 * SEC, 20 * MIN),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.nat(),
        async (steps, cuts, dup) => {
          run++;
          let t = T0;
          const events: LoggedEvent[] = steps.map((s, i) => {
            t += s.gap;
            const event = reading(`${s.source}-${run}`, 'temp', s.v, 'Cel', t - s.lateBy);
            return { seq: i + 1, event, receivedAt: t, history: false };
          });
          const lock = h.store.dialect === 'postgres';
          const fold = (batch: readonly LoggedEvent[]) =>
            writeTransaction(h.store, (db) =>
              foldQuality(db, lock, settings, {
                events: batch,
                rejectsUpTo: Number.NEGATIVE_INFINITY,
                now: Math.max(...batch.map((le) => le.receivedAt)),
              }),
            );
          const rows = () =>
            h.store.db
              .selectFrom('quality_sources')
              .select([
                'source',
                'score',
                'trusted',
                'degraded',
                'flags',
                'last_received_ms',
                'updated_ms',
                'state',
                'updated_seq',
                'stale_at_ms',
              ])
              .where('source', 'in', [`a-${run}`, `b-${run}`])
              .orderBy('source')
              .execute();

          await fold(events);
          const once = await rows();
          await h.store.db
            .deleteFrom('quality_sources')
            .where('source', 'in', [`a-${run}`, `b-${run}`])
            .execute();

          const edges = [...new Set([0, ...cuts.map((c) => c % events.length), events.length])].sort((x, y) => x - y);
          const nonEmpty = edges.slice(1).map((end, i) => events.slice(edges[i] ?? 0, end));
          const again = nonEmpty[dup % nonEmpty.length] ?? [];
          for (const [i, b] of nonEmpty.entries()) {
            await fold(b);
            if (i === dup % nonEmpty.length) await fold(again); // redelivered right away
          }
          await fold(again); // and once more at the end
          expect(await rows()).toEqual(once);
        },
      ),
      { numRuns: 25 },
    );
  });
});

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
