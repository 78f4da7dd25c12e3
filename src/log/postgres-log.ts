/**
 * The event log on PostgreSQL. Appends are serialised by a transaction-level advisory
 * lock so positions commit in order (a consumer reading `seq > position` never skips a
 * later-committing lower seq). At scale the log moves to NATS JetStream; this keeps the
 * same contract for a PostgreSQL-only deployment and for the contract tests.
 */
import type { Pool } from 'pg';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { GroupCommitter } from './group-commit.ts';
import type { AppendOutcome, EventLog, EventQuery, LoggedEvent, NewEvent } from './port.ts';
import { buildQuery, type EventRow, firstSeqReceivedAtOrAfter, rowToLogged } from './rows.ts';

const APPEND_LOCK = 0x5049_5457; // "PITW"

export class PostgresEventLog implements EventLog {
  private readonly pool: Pool;
  private readonly committer: GroupCommitter<NewEvent, AppendOutcome>;
  private readonly listeners = new Set<(head: number) => void>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    if (!store.pg) throw new Error('PostgresEventLog needs a PostgreSQL store');
    this.pool = store.pg;
    this.committer = new GroupCommitter<NewEvent, AppendOutcome>(async (items) => {
      try {
        const out = await this.commit(items);
        const head = Math.max(0, ...out.map((o) => o.seq));
        for (const l of this.listeners) l(head);
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

  private async commit(items: NewEvent[]): Promise<AppendOutcome[]> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      // First copy of each key within this batch; later copies are duplicates of it.
      const firstIndex = new Map<string, number>();
      const fresh: number[] = [];
      items.forEach((it, i) => {
        const k = `${it.event.source}\u0000${it.event.id}`;
        if (!firstIndex.has(k)) {
          firstIndex.set(k, i);
          fresh.push(i);
        }
      });
      const seqs = (
        await c.query<{ s: number }>("SELECT nextval(pg_get_serial_sequence('events', 'seq'))::bigint AS s FROM generate_series(1, $1)", [
          fresh.length,
        ])
      ).rows.map((r) => Number(r.s));
      const inserted = await c.query<{ source: string; id: string; seq: number }>(
        'INSERT INTO dedupe (source, id, seq) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING RETURNING source, id, seq',
        [fresh.map((i) => items[i]?.event.source), fresh.map((i) => items[i]?.event.id), seqs],
      );
      const accepted = new Map(inserted.rows.map((r) => [`${r.source}\u0000${r.id}`, Number(r.seq)]));
      const dupKeys = [...firstIndex.keys()].filter((k) => !accepted.has(k));
      const existing = new Map<string, number>();
      if (dupKeys.length > 0) {
        const found = await c.query<{ source: string; id: string; seq: number }>(
          'SELECT d.source, d.id, d.seq FROM dedupe d JOIN unnest($1::text[], $2::text[]) AS k(source, id) ON d.source = k.source AND d.id = k.id',
          [dupKeys.map((k) => k.split('\u0000')[0]), dupKeys.map((k) => k.split('\u0000')[1])],
        );
        for (const r of found.rows) existing.set(`${r.source}\u0000${r.id}`, Number(r.seq));
      }
      const rows = fresh.filter((i) => {
        const e = items[i]?.event;
        return e !== undefined && accepted.has(`${e.source}\u0000${e.id}`);
      });
      if (rows.length > 0) {
        const col = <T>(f: (it: NewEvent) => T) => rows.map((i) => f(items[i] as NewEvent));
        await c.query(
          `INSERT INTO events (seq, id, source, type, subject, time_ms, received_ms, history, body)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::int[], $9::text[])`,
          [
            col((it) => accepted.get(`${it.event.source}\u0000${it.event.id}`)),
            col((it) => it.event.id),
            col((it) => it.event.source),
            col((it) => it.event.type),
            col((it) => it.event.subject ?? null),
            col((it) => Date.parse(it.event.time)),
            col((it) => it.receivedAt),
            col((it) => (it.event.pitwallhistory === true ? 1 : 0)),
            col((it) => JSON.stringify(it.event)),
          ],
        );
      }
      await c.query('COMMIT');
      return items.map((it, i): AppendOutcome => {
        const k = `${it.event.source}\u0000${it.event.id}`;
        const seq = accepted.get(k);
        if (seq !== undefined && firstIndex.get(k) === i) return { status: 'accepted', seq };
        return { status: 'duplicate', seq: seq ?? existing.get(k) ?? 0 };
      });
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  append(events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    return this.committer.submit(events);
  }

  async read(after: number, limit: number): Promise<LoggedEvent[]> {
    const r = await this.pool.query<EventRow>('SELECT seq, received_ms, history, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [
      after,
      limit,
    ]);
    return r.rows.map(rowToLogged);
  }

  async query(q: EventQuery): Promise<LoggedEvent[]> {
    return ((await buildQuery(this.store.db, q).execute()) as EventRow[]).map(rowToLogged);
  }

  async head(): Promise<number> {
    const r = await this.pool.query<{ h: number }>('SELECT COALESCE(MAX(seq), 0)::bigint AS h FROM events');
    return Number(r.rows[0]?.h ?? 0);
  }

  async position(group: string): Promise<number | undefined> {
    const r = await this.pool.query<{ position: number }>('SELECT position FROM consumer_positions WHERE group_name = $1', [group]);
    const p = r.rows[0]?.position;
    return p === undefined ? undefined : Number(p);
  }

  async ack(group: string, seq: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO consumer_positions (group_name, position, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (group_name) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms',
      [group, seq, this.clock.now()],
    );
  }

  onAppend(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  problem(): string | undefined {
    return undefined;
  }

  pending(): number {
    return this.committer.pending();
  }

  async pruneDedupe(cutoffMs: number): Promise<number> {
    const first = await firstSeqReceivedAtOrAfter(this, cutoffMs);
    return (await this.pool.query('DELETE FROM dedupe WHERE seq < $1', [first])).rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.committer.close();
    this.listeners.clear();
  }
}
