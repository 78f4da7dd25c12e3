// @ts-check
/**
 * The SQLite writer thread. It owns the only write connection for the event log, so the
 * commit's fsync never blocks the main thread: while it commits one group, the main
 * thread parses and validates the next. Plain JavaScript because worker threads on
 * Node 20 cannot load TypeScript through tsx's hooks; the protocol's types live in
 * sqlite-writer-protocol.ts. Pragmas must match store/store.ts `openSqlite`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

const ACCEPTED = 1;
const DUPLICATE = 2;

const port = parentPort;
if (port) {
  const db = new SqliteDatabase(workerData.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -131072');
  const st = {
    dedupe: db.prepare('INSERT OR IGNORE INTO dedupe (source, id, seq) VALUES (?, ?, ?)'),
    existing: db.prepare('SELECT seq FROM dedupe WHERE source = ? AND id = ?').pluck(),
    insert: db.prepare(
      'INSERT INTO events (seq, id, source, type, subject, time_ms, received_ms, history, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    head: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck(),
    ack: db.prepare(
      'INSERT INTO consumer_positions (group_name, position, updated_ms) VALUES (?, ?, ?) ON CONFLICT (group_name) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms',
    ),
    prune: db.prepare('DELETE FROM dedupe WHERE seq < ?'),
  };
  // IMMEDIATE takes the write lock up front; positions are read inside it, never cached,
  // so another process (the CLI replaying quarantine) can append safely.
  const commit = db.transaction((/** @type {any[][]} */ rows) => {
    const statuses = new Uint8Array(rows.length);
    const seqs = new Float64Array(rows.length);
    let next = Number(st.head.get()) + 1;
    for (let i = 0; i < rows.length; i++) {
      const [source, id, type, subject, timeMs, receivedMs, history, body] = rows[i];
      if (st.dedupe.run(source, id, next).changes === 0) {
        statuses[i] = DUPLICATE;
        seqs[i] = Number(st.existing.get(source, id));
        continue;
      }
      st.insert.run(next, id, source, type, subject, timeMs, receivedMs, history, body);
      statuses[i] = ACCEPTED;
      seqs[i] = next++;
    }
    return { statuses, seqs, head: next - 1 };
  }).immediate;

  port.on('message', (m) => {
    try {
      switch (m.op) {
        case 'commit':
          port.postMessage({ n: m.n, ok: true, ...commit(m.rows) });
          break;
        case 'ack':
          st.ack.run(m.group, m.seq, m.now);
          port.postMessage({ n: m.n, ok: true });
          break;
        case 'prune':
          port.postMessage({ n: m.n, ok: true, changes: st.prune.run(m.before).changes });
          break;
        case 'close':
          db.close();
          port.postMessage({ n: m.n, ok: true });
          port.close();
          break;
        default:
          port.postMessage({ n: m.n, ok: false, error: `unknown op ${m.op}` });
      }
    } catch (e) {
      port.postMessage({ n: m.n, ok: false, error: /** @type {Error} */ (e).message });
    }
  });
}
