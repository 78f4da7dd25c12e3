// @ts-check
/**
 * The SQLite writer thread. It owns the event log's write connection, so the commit's
 * fsync never blocks the main thread: while it commits one group, the main thread parses
 * and validates the next. Plain JavaScript because worker threads on Node 20 cannot load
 * TypeScript through tsx's hooks; the protocol's types live in sqlite-writer-protocol.ts.
 * Pragmas must match store/store.ts `openSqlite`, except `synchronous` (below).
 *
 * Dedupe (ADR 0006): an in-memory hash index (hash of source+id → position) over the
 * events of the retention window, rebuilt from the events table at start. The table stays
 * the truth: a hash hit is confirmed by reading the row at that position, so collisions and
 * entries of rolled-back commits are harmless. Rows appended by another process (the CLI)
 * are indexed inside the next commit's write lock, before they could be missed.
 *
 * The fsync happens after the write lock is released (ADR 0019): transactions commit with
 * `synchronous = NORMAL` (their WAL frames are written, not synced) and `walSync` then fsyncs the
 * WAL file before the reply — the same durability as `FULL`, whose fsync runs inside the lock,
 * but the main thread's connection no longer waits for our fsync to take the lock. The WAL is
 * append-only, so that fsync also covers every frame another connection committed before it.
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

const ACCEPTED = 1;
const DUPLICATE = 2;

/** cyrb53: a fast 53-bit string hash; never 0 (0 marks an empty slot). Seeded per process,
 * so senders cannot precompute ids that pile into one probe run. */
export function hash53(/** @type {string} */ str, seed = 0) {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0) || 1;
}

/** Open-addressing hash → position index in two typed arrays (16 bytes per slot). */
export class DedupeIndex {
  constructor(capacity = 1 << 16) {
    this.init(capacity);
  }
  /** @param {number} capacity a power of two */
  init(capacity) {
    this.keys = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.size = 0;
  }
  /** Positions recorded under hash `h`. @param {number} h */
  candidates(h) {
    /** @type {number[]} */
    const out = [];
    const keys = /** @type {Float64Array} */ (this.keys);
    for (let i = (h >>> 0) & this.mask; keys[i] !== 0; i = (i + 1) & this.mask) {
      if (keys[i] === h) out.push(/** @type {Float64Array} */ (this.seqs)[i] ?? 0);
    }
    return out;
  }
  /** @param {number} h @param {number} seq */
  add(h, seq) {
    if ((this.size + 1) * 2 > this.mask + 1) this.rebuild(0, (this.mask + 1) * 2);
    const keys = /** @type {Float64Array} */ (this.keys);
    let i = (h >>> 0) & this.mask;
    while (keys[i] !== 0) i = (i + 1) & this.mask;
    keys[i] = h;
    /** @type {Float64Array} */ (this.seqs)[i] = seq;
    this.size++;
  }
  /** Drops positions below `minSeq`; resizes to `capacity` (or what the survivors need). */
  rebuild(/** @type {number} */ minSeq, capacity = this.mask + 1) {
    const keys = /** @type {Float64Array} */ (this.keys);
    const seqs = /** @type {Float64Array} */ (this.seqs);
    let live = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0 && (seqs[i] ?? 0) >= minSeq) live++;
    let cap = Math.max(1 << 16, capacity);
    while (live * 2 > cap) cap *= 2;
    this.init(cap);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] ?? 0;
      const s = seqs[i] ?? 0;
      if (k !== 0 && s >= minSeq) this.add(k, s);
    }
  }
}

/**
 * Makes every frame committed to `file`'s WAL so far durable: fdatasync of the `-wal` file. The
 * writer's own connection keeps that file in place (SQLite deletes it only when the last
 * connection closes; a reset rewrites it from the start, the same file).
 * @param {string} file
 */
export function walSyncer(file) {
  let fd = -1;
  return {
    sync() {
      if (fd < 0) fd = openSync(`${file}-wal`, 'r');
      fdatasyncSync(fd);
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}

/**
 * Opens the writer on `file`, indexing the events received since `dedupeSinceMs`. `walSync`
 * (tests replace it) is called after each commit, outside the write lock, before it counts.
 * @param {string} file @param {number} dedupeSinceMs @param {{ walSync?: () => void }} [opts]
 */
export function openWriter(file, dedupeSinceMs, opts = {}) {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  // NORMAL: the commit does not fsync inside the write lock; `walSync` does it right after.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -131072');
  const syncer = opts.walSync ? { sync: opts.walSync, close() {} } : walSyncer(file);
  const walSync = () => syncer.sync();
  const st = {
    insert: db.prepare(
      'INSERT INTO events (seq, id, source, type, subject, time_ms, received_ms, history, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    keyAt: db.prepare('SELECT source, id FROM events WHERE seq = ?'),
    firstAfter: db.prepare('SELECT seq, received_ms FROM events WHERE seq >= ? ORDER BY seq LIMIT 1'),
    keysFrom: db.prepare('SELECT seq, source, id FROM events WHERE seq > ? AND seq <= ? ORDER BY seq'),
    head: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck(),
    ack: db.prepare(
      'INSERT INTO consumer_positions (group_name, position, updated_ms) VALUES (?, ?, ?) ON CONFLICT (group_name) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms',
    ),
  };
  const index = new DedupeIndex();
  const seed = (Math.random() * 0x7fffffff) | 0;
  const keyHash = (/** @type {string} */ source, /** @type {string} */ id) => hash53(`${source}\u0000${id}`, seed);
  /** Highest position whose key is in the index. */
  let indexed = 0;

  /** Adds the keys of rows (indexed, upTo] — written at start-up history or by another process. */
  const catchUp = (/** @type {number} */ upTo) => {
    for (const r of /** @type {Iterable<{seq: number, source: string, id: string}>} */ (st.keysFrom.iterate(indexed, upTo))) {
      index.add(keyHash(r.source, r.id), r.seq);
    }
    indexed = Math.max(indexed, upTo);
  };

  /** First position received at or after `cutoffMs` (receive times grow with position). */
  const firstSeqSince = (/** @type {number} */ cutoffMs) => {
    let lo = 1;
    let hi = Number(st.head.get()) + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = /** @type {{seq: number, received_ms: number} | undefined} */ (st.firstAfter.get(mid));
      if (!r) {
        hi = mid;
        break;
      }
      if (r.received_ms < cutoffMs) lo = r.seq + 1;
      else hi = mid;
    }
    return lo;
  };

  // Index the retention window before the first commit is handled.
  indexed = firstSeqSince(dedupeSinceMs) - 1;
  catchUp(Number(st.head.get()));

  /** @param {string} source @param {string} id @param {number} h */
  const seen = (source, id, h) => {
    for (const seq of index.candidates(h)) {
      const r = /** @type {{source: string, id: string} | undefined} */ (st.keyAt.get(seq));
      if (r && r.source === source && r.id === id) return seq;
    }
    return 0;
  };

  // IMMEDIATE takes the write lock up front; the head is read inside it, never cached.
  const commitTx = db.transaction((/** @type {any[][]} */ rows) => {
    const head = Number(st.head.get());
    if (head > indexed) catchUp(head);
    const statuses = new Uint8Array(rows.length);
    const seqs = new Float64Array(rows.length);
    let next = head + 1;
    for (let i = 0; i < rows.length; i++) {
      const [source, id, type, subject, timeMs, receivedMs, history, body] = /** @type {any[]} */ (rows[i]);
      const h = keyHash(source, id);
      const dup = seen(source, id, h);
      if (dup !== 0) {
        statuses[i] = DUPLICATE;
        seqs[i] = dup;
        continue;
      }
      st.insert.run(next, id, source, type, subject, timeMs, receivedMs, history, body);
      index.add(h, next);
      statuses[i] = ACCEPTED;
      seqs[i] = next++;
    }
    return { statuses, seqs, head: next - 1 };
  }).immediate;
  /** `indexed` moves only once the commit succeeded (a failed COMMIT leaves the table behind it). */
  const commit = (/** @type {any[][]} */ rows) => {
    const before = indexed;
    let r;
    try {
      r = commitTx(rows);
      indexed = r.head;
    } catch (e) {
      indexed = before;
      throw e;
    }
    // Committed (visible, and in the index); it counts once the WAL is synced.
    walSync();
    return r;
  };

  return {
    commit,
    ack: (/** @type {string} */ group, /** @type {number} */ seq, /** @type {number} */ now) => {
      st.ack.run(group, seq, now);
      walSync();
    },
    prune: (/** @type {number} */ cutoffMs) => {
      const before = index.size;
      index.rebuild(firstSeqSince(cutoffMs));
      return before - index.size;
    },
    close: () => {
      syncer.close();
      db.close();
    },
  };
}

const port = parentPort;
if (port && workerData?.file) {
  const w = openWriter(workerData.file, workerData.dedupeSinceMs);
  port.on('message', (m) => {
    try {
      switch (m.op) {
        case 'commit':
          port.postMessage({ n: m.n, ok: true, ...w.commit(m.rows) });
          break;
        case 'ack':
          w.ack(m.group, m.seq, m.now);
          port.postMessage({ n: m.n, ok: true });
          break;
        case 'prune':
          port.postMessage({ n: m.n, ok: true, changes: w.prune(m.cutoffMs) });
          break;
        case 'close':
          w.close();
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
