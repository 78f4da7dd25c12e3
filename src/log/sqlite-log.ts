/**
 * The embedded event log: SQLite with group commit on a writer thread (sqlite-writer.mjs);
 * one commit at a time, the first append of an idle log at once (ADR 0008).
 * Reads use the main thread's connection (WAL lets them run beside the writer). The
 * dedupe table is keyed (source, id), so time-ordered ids append at the end of its B-tree.
 */
import { Worker } from 'node:worker_threads';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { GroupCommitter } from './group-commit.ts';
import { type AppendOutcome, DEFAULT_DEDUPE_WINDOW_MS, type EventLog, type EventQuery, type LoggedEvent, type NewEvent } from './port.ts';
import { buildQuery, type EventRow, rowToLogged } from './rows.ts';
import { ACCEPTED, type Reply, type Request, type Row } from './sqlite-writer-protocol.ts';

type Pending = { resolve: (r: Reply & { ok: true }) => void; reject: (e: unknown) => void };

/**
 * The read side of the SQLite log, on any connection to the file: what a consumer group needs to
 * follow the log. WAL lets these reads run beside the writer thread's commits.
 */
export class SqliteLogReader {
  private readonly st;

  constructor(private readonly store: Store) {
    if (!store.sqlite) throw new Error('SqliteLogReader needs a SQLite store');
    const raw = store.sqlite;
    this.st = {
      head: raw.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck(),
      read: raw.prepare('SELECT seq, received_ms, history, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      position: raw.prepare('SELECT position FROM consumer_positions WHERE group_name = ?').pluck(),
    };
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
}

export class SqliteEventLog implements EventLog {
  private readonly reader: SqliteLogReader;
  private readonly committer: GroupCommitter<NewEvent, AppendOutcome>;
  private readonly listeners = new Set<(head: number) => void>();
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Pending>();
  private n = 0;
  private closed: Promise<void> | undefined;

  constructor(
    store: Store,
    private readonly clock: Clock,
    dedupeWindowMs: number = DEFAULT_DEDUPE_WINDOW_MS,
  ) {
    if (!store.sqlite) throw new Error('SqliteEventLog needs a SQLite store');
    if (store.location === ':memory:') throw new Error('the SQLite event log needs a file (its writer thread opens it too)');
    this.reader = new SqliteLogReader(store);
    this.worker = new Worker(new URL('./sqlite-writer.mjs', import.meta.url), {
      workerData: { file: store.location, dedupeSinceMs: clock.now() - dedupeWindowMs },
    });
    this.worker.on('message', (r: Reply) => {
      const p = this.waiting.get(r.n);
      if (!p) return;
      this.waiting.delete(r.n);
      if (r.ok) p.resolve(r);
      else p.reject(new Error(r.error));
    });
    // A dead writer makes every later append fail fast (503) and /readyz report it,
    // instead of leaving appends waiting forever.
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', () => this.fail(new Error('the SQLite writer thread stopped')));
    this.worker.unref();
    this.committer = new GroupCommitter<NewEvent, AppendOutcome>(
      async (items) => {
        const rows: Row[] = items.map(({ event: e, receivedAt }) => [
          e.source,
          e.id,
          e.type,
          e.subject ?? null,
          Date.parse(e.time),
          receivedAt,
          e.pitwallhistory === true ? 1 : 0,
          JSON.stringify(e),
        ]);
        let r: Reply & { ok: true };
        try {
          r = await this.call({ op: 'commit', n: 0, rows });
        } catch (e) {
          throw new AppError('PW_STORE_UNAVAILABLE', 'the event store could not commit; retry shortly', {
            status: 503,
            category: 'operational',
            cause: e,
            headers: { 'retry-after': '1' },
          });
        }
        const statuses = r.statuses as Uint8Array;
        const seqs = r.seqs as Float64Array;
        if (r.head !== undefined) for (const l of this.listeners) l(r.head);
        return items.map(
          (_, i): AppendOutcome => ({ status: statuses[i] === ACCEPTED ? 'accepted' : 'duplicate', seq: seqs[i] as number }),
        );
      },
      // An append to an idle log is posted at once: waiting for the rest of the turn cost
      // throughput on /v1/track, and appends made while a commit runs group anyway (ADR 0008).
      { gatherTurn: false },
    );
  }

  private call(req: Request): Promise<Reply & { ok: true }> {
    const n = ++this.n;
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.waiting.set(n, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...req, n });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    }) as Promise<Reply & { ok: true }>;
  }

  private broken: Error | undefined;

  private fail(e: Error): void {
    if (!this.closed) this.broken ??= e;
    this.failAll(e);
  }

  problem(): string | undefined {
    return this.broken ? `event log writer stopped: ${this.broken.message}` : undefined;
  }

  private failAll(e: unknown): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  append(events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    return this.committer.submit(events);
  }

  read(after: number, limit: number): Promise<LoggedEvent[]> {
    return this.reader.read(after, limit);
  }

  query(q: EventQuery): Promise<LoggedEvent[]> {
    return this.reader.query(q);
  }

  head(): Promise<number> {
    return this.reader.head();
  }

  position(group: string): Promise<number | undefined> {
    return this.reader.position(group);
  }

  async ack(group: string, seq: number): Promise<void> {
    await this.call({ op: 'ack', n: 0, group, seq, now: this.clock.now() });
  }

  onAppend(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pending(): number {
    return this.committer.pending();
  }

  async pruneDedupe(cutoffMs: number): Promise<number> {
    return (await this.call({ op: 'prune', n: 0, cutoffMs })).changes ?? 0;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.committer.close();
      this.listeners.clear();
      await this.call({ op: 'close', n: 0 }).catch(() => undefined);
      await this.worker.terminate();
    })();
    return this.closed;
  }
}
