/**
 * A diagnostic for the main connection's write-lock waits (`PITWALL_SQLITE_LOCK_STATS=1`): counts
 * every statement that takes SQLite's write lock outside a transaction (`BEGIN IMMEDIATE`, an
 * autocommit write) and the wall time it spent — mostly waiting for the lock while another
 * connection (the log's writer thread) commits — and prints a table to stderr at exit. Off by
 * default: it wraps statement methods, which costs a little on every call.
 */
import type SqliteDatabase from 'better-sqlite3';

interface Tally {
  n: number;
  ms: number;
  maxMs: number;
}

/** SQL normalised to a short label: its first words, without literals. */
function label(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().slice(0, 110);
}

export function lockStatsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PITWALL_SQLITE_LOCK_STATS === '1' || env.PITWALL_SQLITE_LOCK_STATS === 'all';
}

/** Wraps `raw` so lock-taking statements are tallied; prints the tally when the process exits. */
export function instrumentLockWaits(raw: SqliteDatabase.Database, name: string): void {
  const tallies = new Map<string, Tally>();
  const add = (key: string, ms: number) => {
    const t = tallies.get(key) ?? { n: 0, ms: 0, maxMs: 0 };
    t.n++;
    t.ms += ms;
    if (ms > t.maxMs) t.maxMs = ms;
    tallies.set(key, t);
  };
  const wrap = <F extends (...a: never[]) => unknown>(fn: F, key: () => string | undefined): F =>
    function (this: unknown, ...args: never[]) {
      const k = key();
      if (k === undefined) return fn.apply(this, args);
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        add(k, performance.now() - t0);
      }
    } as F;
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((sql: string) => {
    const st = prepare(sql);
    const all = process.env.PITWALL_SQLITE_LOCK_STATS === 'all';
    if (!all && !/^\s*(insert|update|delete|replace|begin|commit)/i.test(sql)) return st;
    const always = all || /^\s*(begin|commit)/i.test(sql);
    const key = () => (raw.inTransaction && !always ? undefined : label(sql));
    for (const m of ['run', 'all', 'get', 'iterate'] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: re-binding a native method of a better-sqlite3 statement
      (st as any)[m] = wrap((st as any)[m].bind(st), key);
    }
    return st;
  }) as typeof raw.prepare;
  const transaction = raw.transaction.bind(raw);
  raw.transaction = ((fn: (...a: never[]) => unknown) => {
    const tx = transaction(fn);
    const immediate = wrap(tx.immediate, () => (raw.inTransaction ? undefined : 'raw transaction (immediate)'));
    const out = (...a: never[]) => tx(...a);
    return Object.assign(out, { default: tx.default, deferred: tx.deferred, exclusive: tx.exclusive, immediate });
  }) as typeof raw.transaction;
  process.once('exit', () => {
    const rows = [...tallies.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((s, [, t]) => ({ n: s.n + t.n, ms: s.ms + t.ms }), { n: 0, ms: 0 });
    const lines = rows
      .slice(0, 40)
      .map(
        ([k, t]) =>
          `${String(t.n).padStart(8)} ${t.ms.toFixed(0).padStart(8)} ms ${(t.ms / t.n).toFixed(3).padStart(8)} avg ${t.maxMs.toFixed(1).padStart(7)} max  ${k}`,
      );
    process.stderr.write(`lock stats (${name}): ${total.n} lock-taking statements, ${total.ms.toFixed(0)} ms\n${lines.join('\n')}\n`);
  });
}
