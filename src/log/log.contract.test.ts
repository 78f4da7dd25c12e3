import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock, isoTime } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { type EventLog, type LoggedEvent, openEventLog, subscribe } from './index.ts';

const clock = new FakeClock();

function ev(id: string, over: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'test',
    type: 'sensor.reading',
    time: isoTime(clock.now()),
    data: { n: 'x', v: 1, t: 0 },
    ...over,
  };
}
const item = (e: CloudEvent, receivedAt = clock.now()) => ({ event: e, receivedAt });

describeEachBackend('event log contract', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  const open = async () => {
    backend = make();
    store = await backend.open();
    log = openEventLog(store, clock);
  };
  afterEach(async () => {
    await log?.close();
    await store?.close();
    await backend?.cleanup();
  });

  it('assigns increasing positions and reads them back in order', async () => {
    await open();
    const out = await log.append([item(ev('a')), item(ev('b')), item(ev('c', { subject: 'dev-1' }))]);
    expect(out.map((o) => o.status)).toEqual(['accepted', 'accepted', 'accepted']);
    const seqs = out.map((o) => o.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const read = await log.read(0, 10);
    expect(read.map((r) => r.event.id)).toEqual(['a', 'b', 'c']);
    expect(read[2]?.event.subject).toBe('dev-1');
    expect(await log.head()).toBe(seqs[2]);
  });

  it('reports a resend as a duplicate of the first copy, with no second row', async () => {
    await open();
    const [first] = await log.append([item(ev('a'))]);
    const again = await log.append([item(ev('a')), item(ev('a', { source: 'other' }))]);
    expect(again[0]).toEqual({ status: 'duplicate', seq: first?.seq });
    expect(again[1]?.status).toBe('accepted');
    expect((await log.read(0, 10)).length).toBe(2);
  });

  it('dedupes copies inside one group commit', async () => {
    await open();
    const [x, y] = await Promise.all([log.append([item(ev('same'))]), log.append([item(ev('same'))])]);
    const statuses = [x?.[0]?.status, y?.[0]?.status].sort();
    expect(statuses).toEqual(['accepted', 'duplicate']);
    expect(x?.[0]?.seq).toBe(y?.[0]?.seq);
  });

  it('keeps history mode and receive time', async () => {
    await open();
    await log.append([item(ev('h', { pitwallhistory: true }), 12345)]);
    const [r] = await log.read(0, 1);
    expect(r?.history).toBe(true);
    expect(r?.receivedAt).toBe(12345);
  });

  it('filters queries by type prefix, subject and time, in both directions', async () => {
    await open();
    const t0 = clock.now();
    await log.append([
      item(ev('1', { type: 'commerce.product_added', subject: 'c1', time: isoTime(t0) })),
      item(ev('2', { type: 'commerce.order_completed', subject: 'c1', time: isoTime(t0 + 1000) })),
      item(ev('3', { type: 'sensor.reading', subject: 'c1', time: isoTime(t0 + 2000) })),
      item(ev('4', { type: 'commerce.product_added', subject: 'c2', time: isoTime(t0 + 3000) })),
    ]);
    const ids = (l: LoggedEvent[]) => l.map((e) => e.event.id);
    expect(ids(await log.query({ type: 'commerce.*', order: 'asc', limit: 10 }))).toEqual(['1', '2', '4']);
    expect(ids(await log.query({ type: 'commerce.product_added', subject: 'c2', order: 'asc', limit: 10 }))).toEqual(['4']);
    expect(ids(await log.query({ timeFrom: t0 + 1000, timeTo: t0 + 3000, order: 'asc', limit: 10 }))).toEqual(['2', '3']);
    const page1 = await log.query({ order: 'desc', limit: 2 });
    expect(ids(page1)).toEqual(['4', '3']);
    expect(ids(await log.query({ order: 'desc', limit: 2, afterSeq: page1[1]?.seq }))).toEqual(['2', '1']);
  });

  it('persists consumer positions across a restart', async () => {
    await open();
    await log.append([item(ev('a')), item(ev('b')), item(ev('c'))]);
    const seen: string[] = [];
    const sub = subscribe(log, 'g', (b) => {
      seen.push(...b.map((e) => e.event.id));
    });
    await sub.caughtUp(await log.head());
    await sub.stop();
    expect(seen).toEqual(['a', 'b', 'c']);
    await log.close();
    await store.close();
    store = await backend.reopen();
    log = openEventLog(store, clock);
    await log.append([item(ev('d'))]);
    const after: string[] = [];
    const sub2 = subscribe(log, 'g', (b) => {
      after.push(...b.map((e) => e.event.id));
    });
    await sub2.caughtUp(await log.head());
    await sub2.stop();
    expect(after).toEqual(['d']);
  });

  it('delivers appends made while subscribed, and a new group can start at the head', async () => {
    await open();
    await log.append([item(ev('old'))]);
    const seen: string[] = [];
    const sub = subscribe(log, 'tail', (b) => void seen.push(...b.map((e) => e.event.id)), { from: 'end' });
    const [o] = await log.append([item(ev('new'))]);
    await sub.caughtUp(o?.seq ?? 0);
    await sub.stop();
    expect(seen).toEqual(['new']);
  });

  it('prunes dedupe keys older than the window so a later resend is accepted again', async () => {
    await open();
    await log.append([item(ev('old'), 1_000)]);
    await log.append([item(ev('recent'), 10_000)]);
    expect(await log.pruneDedupe(5_000)).toBe(1);
    const out = await log.append([item(ev('old'), 20_000), item(ev('recent'), 20_000)]);
    expect(out.map((o) => o.status)).toEqual(['accepted', 'duplicate']);
  });

  it('property: any sequence of appends stores each (source, id) exactly once', async () => {
    await open();
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.constantFrom('s1', 's2'), fc.integer({ min: 0, max: 15 })), { maxLength: 12 }), { maxLength: 6 }),
        async (batches) => {
          round++;
          const seen = new Set<string>();
          const results = await Promise.all(batches.map((b) => log.append(b.map(([s, n]) => item(ev(`r${round}-${n}`, { source: s }))))));
          // Outcomes must match first-seen order across the concurrent batches.
          for (const [bi, b] of batches.entries()) {
            for (const [i, [s, n]] of b.entries()) {
              const k = `${s}/${n}`;
              expect(results[bi]?.[i]?.status).toBe(seen.has(k) ? 'duplicate' : 'accepted');
              seen.add(k);
            }
          }
          const rows = await log.query({ order: 'asc', limit: 10_000 });
          const mine = rows.filter((r) => r.event.id.startsWith(`r${round}-`));
          expect(mine.length).toBe(seen.size);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('group commit', () => {
  it('answers 503-coded errors to every waiter once closed', async () => {
    const { GroupCommitter } = await import('./group-commit.ts');
    const g = new GroupCommitter<number, number>((xs) => xs.map((x) => x * 2));
    expect(await Promise.all([g.submit([1, 2]), g.submit([3])])).toEqual([[2, 4], [6]]);
    await g.close();
    await expect(g.submit([1])).rejects.toMatchObject({ code: 'PW_SHUTTING_DOWN', status: 503 });
  });

  it('keeps committing after a commit that throws at once when it does not wait for the turn', async () => {
    const { GroupCommitter } = await import('./group-commit.ts');
    let calls = 0;
    const g = new GroupCommitter<number, number>(
      (xs) => {
        if (calls++ === 0) throw new Error('cannot serialise');
        return xs;
      },
      { gatherTurn: false },
    );
    await expect(g.submit([1])).rejects.toThrow('cannot serialise');
    await expect(g.submit([2])).resolves.toEqual([2]);
  });
});
