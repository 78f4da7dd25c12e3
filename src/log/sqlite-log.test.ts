/**
 * The SQLite log's group commit (ADR 0008): an append to an idle log is committed at once,
 * the appends made while that commit runs share the next one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteBackend } from '../../test/support/backends.ts';
import { FakeClock, isoTime } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import { openSqlite, type Store } from '../store/index.ts';
import { type AppendOutcome, type EventLog, openEventLog } from './index.ts';
import { openWriter } from './sqlite-writer.mjs';

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

describe('SQLite writer thread: the fsync outside the write lock (ADR 0019)', () => {
  const row = (id: string) => ['test', id, 'sensor.reading', null, clock.now(), clock.now(), 0, JSON.stringify(ev(id))];

  it('syncs the WAL after each commit and ack, when another connection can already take the write lock', async () => {
    store = await backend.open();
    const other = openSqlite(store.location);
    other.pragma('busy_timeout = 0'); // would throw SQLITE_BUSY if the writer still held the lock
    const seen: string[] = [];
    const writer = openWriter(store.location, 0, {
      walSync: () => {
        other.exec('BEGIN IMMEDIATE');
        seen.push(`sync, ${other.prepare('SELECT count(*) FROM events').pluck().get()} events visible`);
        other.exec('ROLLBACK');
      },
    });
    try {
      const r = writer.commit([row('a'), row('b')]);
      seen.push(`reply head ${r.head}`);
      writer.ack('g', r.head, clock.now());
      seen.push('ack');
    } finally {
      writer.close();
      other.close();
    }
    expect(seen).toEqual(['sync, 2 events visible', 'reply head 2', 'sync, 2 events visible', 'ack']);
  });

  it('answers nothing as committed when the WAL sync fails, and keeps the rows it wrote deduplicated', async () => {
    store = await backend.open();
    let fail = true;
    const writer = openWriter(store.location, 0, {
      walSync: () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    try {
      expect(() => writer.commit([row('a')])).toThrow(/fdatasync/);
      fail = false;
      // The retried append finds its row: a duplicate, at the position the failed commit gave it.
      const r = writer.commit([row('a'), row('b')]);
      expect([...r.statuses]).toEqual([2, 1]);
      expect([...r.seqs]).toEqual([1, 2]);
    } finally {
      writer.close();
    }
  });

  it('commits and acks through the real WAL sync, across a reopen of the file', async () => {
    store = await backend.open();
    const writer = openWriter(store.location, 0);
    writer.commit([row('a')]);
    writer.ack('g', 1, clock.now());
    writer.close();
    await store.close();
    // Every connection closed: SQLite checkpointed and deleted the WAL; the next writer syncs the new one.
    store = await backend.reopen();
    const again = openWriter(store.location, 0);
    try {
      expect([...again.commit([row('a'), row('b')]).statuses]).toEqual([2, 1]);
      expect(store.sqlite?.prepare('SELECT position FROM consumer_positions WHERE group_name = ?').pluck().get('g')).toBe(1);
    } finally {
      again.close();
    }
  });
});
