/**
 * The embedded event log: SQLite, one writer (this process), group commit. Positions are
 * assigned in memory by the single writer; the dedupe table is keyed (source, id) so
 * time-ordered ids append at the end of its B-tree.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Store } from '../store/index.ts';
import { GroupCommitter } from './group-commit.ts';
import type { AppendOutcome, EventLog, EventQuery, LoggedEvent, NewEvent } from './port.ts';
import { buildQuery, type EventRow, firstSeqReceivedAtOrAfter, rowToLogged } from './rows.ts';

export class SqliteEventLog implements EventLog {
  private readonly raw: SqliteDatabase.Database;
  private readonly committer: GroupCommitter<NewEvent, AppendOutcome>;
  private readonly listeners = new Set<(head: number) => void>();
  /** Last position committed by this process, for listeners. */
  private lastSeq = 0;
  private readonly st;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    if (!store.sqlite) throw new Error('SqliteEventLog needs a SQLite store');
    this.raw = store.sqlite;
    const r = this.raw;
    this.st = {
      dedupe: r.prepare('INSERT OR IGNORE INTO dedupe (source, id, seq) VALUES (?, ?, ?)'),
      existing: r.prepare('SELECT seq FROM dedupe WHERE source = ? AND id = ?').pluck(),
      insert: r.prepare(
        'INSERT INTO events (seq, id, source, type, subject, time_ms, received_ms, history, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      head: r.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck(),
      read: r.prepare('SELECT seq, received_ms, history, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      position: r.prepare('SELECT position FROM consumer_positions WHERE group_name = ?').pluck(),
      ack: r.prepare(
        'INSERT INTO consumer_positions (group_name, position, updated_ms) VALUES (?, ?, ?) ON CONFLICT (group_name) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms',
      ),
    };
    // IMMEDIATE takes the write lock up front, so the CLI (replay, keys) can write while
    // the server runs: positions are read inside the lock, never cached across commits.
    const tx = r.transaction((items: NewEvent[]) => this.commitSync(items)).immediate;
    this.committer = new GroupCommitter<NewEvent, AppendOutcome>((items) => {
      try {
        const out = tx(items);
        this.notify();
        return out;
      } catch (e) {
        throw new AppError('PW_STORE_UNAVAILABLE', 'the event store could not commit; retry shortly', {
          status: 503,
          category: 'operational',
          cause: e,
          headers: { 'retry-after': '1' },
        });
      }
    });
  }

  private commitSync(items: NewEvent[]): AppendOutcome[] {
    const out: AppendOutcome[] = new Array(items.length);
    let next = (this.st.head.get() as number) + 1;
    for (let i = 0; i < items.length; i++) {
      const { event, receivedAt } = items[i] as NewEvent;
      const seq = next;
      if (this.st.dedupe.run(event.source, event.id, seq).changes === 0) {
        out[i] = { status: 'duplicate', seq: this.st.existing.get(event.source, event.id) as number };
        continue;
      }
      this.st.insert.run(
        seq,
        event.id,
        event.source,
        event.type,
        event.subject ?? null,
        Date.parse(event.time),
        receivedAt,
        event.pitwallhistory === true ? 1 : 0,
        JSON.stringify(event),
      );
      next++;
      out[i] = { status: 'accepted', seq };
    }
    this.lastSeq = next - 1;
    return out;
  }

  private notify(): void {
    const head = this.lastSeq;
    for (const l of this.listeners) l(head);
  }

  append(events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    return this.committer.submit(events);
  }

  async read(after: number, limit: number): Promise<LoggedEvent[]> {
    return (this.st.read.all(after, limit) as EventRow[]).map(rowToLogged);
  }

  async query(q: EventQuery): Promise<LoggedEvent[]> {
    const rows = (await buildQuery(this.store.db, q).execute()) as EventRow[];
    return rows.map(rowToLogged);
  }

  async head(): Promise<number> {
    return this.st.head.get() as number;
  }

  async position(group: string): Promise<number | undefined> {
    return (this.st.position.get(group) as number | undefined) ?? undefined;
  }

  async ack(group: string, seq: number): Promise<void> {
    this.st.ack.run(group, seq, this.clock.now());
  }

  onAppend(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pending(): number {
    return this.committer.pending();
  }

  async pruneDedupe(cutoffMs: number): Promise<number> {
    const first = await firstSeqReceivedAtOrAfter(this, cutoffMs);
    return this.raw.prepare('DELETE FROM dedupe WHERE seq < ?').run(first).changes;
  }

  async close(): Promise<void> {
    await this.committer.close();
    this.listeners.clear();
  }
}
