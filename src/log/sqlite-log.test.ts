/**
 * The SQLite log's group commit (ADR 0008): an append to an idle log is committed at once,
 * the appends made while that commit runs share the next one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteBackend } from '../../test/support/backends.ts';
import { FakeClock, isoTime } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { type AppendOutcome, type EventLog, openEventLog } from './index.ts';

const clock = new FakeClock();
const backend = sqliteBackend();
let store: Store;
let log: EventLog;

function ev(id: string, over: Partial<CloudEvent> = {}): CloudEvent {
  return { specversion: '1.0', id, source: 'test', type: 'sensor.reading', time: isoTime(clock.now()), data: { v: 1 }, ...over };
}
const item = (e: CloudEvent) => ({ event: e, receivedAt: clock.now() });

async function open(): Promise<void> {
  store = await backend.open();
  log = openEventLog(store, clock);
}

afterEach(async () => {
  await log?.close();
  await store?.close();
  await backend.cleanup();
});

describe('SQLite log group commit', () => {
  it('answers each of many concurrent appends with its own outcomes, in order', async () => {
    await open();
    const batches = Array.from({ length: 50 }, (_, b) => Array.from({ length: 1 + (b % 7) }, (_, i) => item(ev(`b${b}-${i}`))));
    // Ten appends per event-loop turn, so some go alone and the rest group behind a running commit.
    const pending: Promise<AppendOutcome[]>[] = [];
    for (const [b, batch] of batches.entries()) {
      pending.push(log.append(batch));
      if (b % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(pending);
    const seqs = results.flatMap((r) => r.map((o) => o.seq));
    expect(results.every((r, b) => r.length === batches[b]?.length && r.every((o) => o.status === 'accepted'))).toBe(true);
    // Positions follow the order the appends were made in.
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const read = await log.read(0, 1000);
    expect(read.map((r) => r.event.id)).toEqual(batches.flat().map((i) => i.event.id));
    expect(log.pending()).toBe(0);
  });

  it('commits appends made before close, then refuses new ones with 503', async () => {
    await open();
    const pending = log.append([item(ev('last'))]);
    const closing = log.close();
    await expect(pending).resolves.toMatchObject([{ status: 'accepted' }]);
    await closing;
    await expect(log.append([item(ev('too-late'))])).rejects.toMatchObject({ code: 'PW_SHUTTING_DOWN', status: 503 });
  });
});
