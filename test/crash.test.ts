/**
 * Durability under SIGKILL: a real `pitwall start` child takes concurrent Segment batches
 * and is killed at a seeded random moment. Every batch it acknowledged must be in the log
 * after a restart — exactly once — and resending everything makes every sent id present
 * exactly once. Replay a failure with PITWALL_CRASH_SEED=<seed printed below>.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { exited, outputOf, PITWALL_BIN } from './support/process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const CYCLES = 3;
const SENDERS = 4;
const BATCH = 50;

const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The seed is hashed (splitmix32) so small seeds still give well-spread first draws. */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

function childEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITWALL_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, PITWALL_DATA_DIR: dataDir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: 'off', PITWALL_LOG_LEVEL: 'warn' };
}

function spawnCli(dataDir: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [PITWALL_BIN, ...args], { cwd: ROOT, env: childEnv(dataDir) });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function runCli(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return outputOf(spawnCli(dataDir, args));
}

interface Server {
  child: ChildProcess;
  url: string;
}

/** Starts `pitwall start` and resolves with the URL from its banner line `  HTTP   http://…`. */
function startServer(dataDir: string): Promise<Server> {
  const child = spawnCli(dataDir, ['start']);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 20 s:\n${out}\n${err}`)), 20_000);
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^ {2}HTTP {3}(http:\/\/\S+)/m.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`pitwall start exited (${code ?? signal}) before its banner:\n${out}\n${err}`));
    });
  });
}

interface Ledger {
  /** Every messageId put on the wire. */
  sent: Set<string>;
  /** Every messageId whose request got a 2xx with an accepted/duplicate outcome. */
  acked: Set<string>;
  rejected: string[];
}

function message(id: string, n: number) {
  return {
    type: 'track',
    messageId: id,
    userId: `crash-user-${n % 37}`,
    event: 'Product Viewed',
    properties: { sku: `BRK-PAD-${String(n % 500).padStart(3, '0')}`, price: 49.9, currency: 'EUR' },
    timestamp: new Date().toISOString(),
  };
}

/** Sends one Segment batch; resolves with the per-id outcome, or throws when the connection fails. */
async function sendBatch(url: string, key: string, ids: string[], ledger: Ledger): Promise<Map<string, string> | undefined> {
  for (const id of ids) ledger.sent.add(id);
  const res = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ batch: ids.map((id, i) => message(id, i)), sentAt: new Date().toISOString() }),
  });
  const body = (await res.json()) as { results?: { id?: string; status: string }[] };
  if (res.status < 200 || res.status >= 300) return undefined;
  const outcomes = new Map<string, string>();
  for (const r of body.results ?? []) {
    if (!r.id) continue;
    outcomes.set(r.id, r.status);
    if (r.status === 'accepted' || r.status === 'duplicate') ledger.acked.add(r.id);
    else ledger.rejected.push(r.id);
  }
  return outcomes;
}

/** Every event id in the log with how often it occurs, read page by page over HTTP. */
async function idCountsOverHttp(url: string, key: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = await fetch(`${url}/v1/events?limit=1000${q}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: { event: { id: string } }[]; next_cursor: string | null };
    for (const e of body.events) counts.set(e.event.id, (counts.get(e.event.id) ?? 0) + 1);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return counts;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Resends `ids` with a few concurrent senders; every request must succeed now. */
async function resend(url: string, key: string, ids: string[], ledger: Ledger): Promise<Map<string, string>> {
  const queue = chunks(ids, BATCH);
  const outcomes = new Map<string, string>();
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        const o = await sendBatch(url, key, b, ledger);
        if (!o) throw new Error('a resend after restart was not acknowledged');
        for (const [id, s] of o) outcomes.set(id, s);
      }
    }),
  );
  return outcomes;
}

describe('crash durability', () => {
  test('every batch acknowledged before a SIGKILL is in the log exactly once after restart, and resends never duplicate', async () => {
    const seed = Number(process.env.PITWALL_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`[crash] seed ${seed}   (replay: PITWALL_CRASH_SEED=${seed} npx vitest run test/crash.test.ts)`);
    const rand = seededRandom(seed);

    const dataDir = mkdtempSync(path.join(tmpdir(), 'pitwall-crash-'));
    dirs.push(dataDir);
    const created = await runCli(dataDir, ['keys', 'create', '--scopes', 'ingest,read,admin']);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1) ?? '';
    expect(key).toMatch(/^pw_/);

    const ledger: Ledger = { sent: new Set(), acked: new Set(), rejected: [] };
    let totalAcked = 0;
    let totalLost = 0;

    /** After a restart: nothing acknowledged is missing or doubled; then resend the rest. */
    const recover = async (server: Server, cycle: number) => {
      const counts = await idCountsOverHttp(server.url, key);
      const lost = [...ledger.acked].filter((id) => !counts.has(id));
      const doubled = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
      totalLost += lost.length;
      expect(lost, `acknowledged ids lost in crash ${cycle} (seed ${seed})`).toEqual([]);
      expect(doubled, `ids stored twice (seed ${seed})`).toEqual([]);

      const unacked = [...ledger.sent].filter((id) => !ledger.acked.has(id));
      const ackedSample = [...ledger.acked].filter(() => rand() < 0.05).slice(0, 300);
      const ackedBefore = new Set(ledger.acked);
      const outcomes = await resend(server.url, key, [...unacked, ...ackedSample], ledger);
      const committedUnacked = unacked.filter((id) => outcomes.get(id) === 'duplicate').length;
      expect(
        ackedSample.filter((id) => outcomes.get(id) !== 'duplicate'),
        'a resent acknowledged id must come back as a duplicate',
      ).toEqual([]);
      expect(unacked.filter((id) => !ledger.acked.has(id))).toEqual([]);
      console.log(
        `[crash] after crash ${cycle}: ${ackedBefore.size} acknowledged, lost 0; of ${unacked.length} unacknowledged, ` +
          `${committedUnacked} had been committed (came back duplicate), ${unacked.length - committedUnacked} were not; ` +
          `${ackedSample.length} acknowledged ids resent → all duplicates`,
      );
    };

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const server = await startServer(dataDir);
      if (cycle > 1) await recover(server, cycle - 1);

      const ackedBefore = ledger.acked.size;
      const killAfterMs = 200 + Math.floor(rand() * 1300);
      let killed = false;
      let inFlight = 0;
      let inFlightAtKill = 0;
      const senders = Array.from({ length: SENDERS }, async (_, s) => {
        for (let n = 0; !killed; n++) {
          const ids = Array.from({ length: BATCH }, (_, i) => `crash-c${cycle}-s${s}-b${n}-m${i}`);
          inFlight++;
          try {
            await sendBatch(server.url, key, ids, ledger);
          } catch {
            // The connection died with the process: this batch is unacknowledged.
          } finally {
            inFlight--;
          }
        }
      });
      const kill = new Promise<void>((resolve) =>
        setTimeout(() => {
          inFlightAtKill = inFlight;
          killed = true;
          server.child.kill('SIGKILL');
          resolve();
        }, killAfterMs),
      );
      await kill;
      const exit = await exited(server.child);
      expect(exit.signal).toBe('SIGKILL');
      await Promise.all(senders);
      const ackedThisCycle = ledger.acked.size - ackedBefore;
      totalAcked += ackedThisCycle;
      console.log(
        `[crash] crash ${cycle}: SIGKILL after ${killAfterMs} ms of load with ${inFlightAtKill} batches in flight; ` +
          `${ackedThisCycle} events acknowledged this cycle, ${ledger.sent.size} sent in total`,
      );
      expect(ackedThisCycle, 'the load must have been acknowledged before the kill').toBeGreaterThan(0);
    }

    // Last restart: recover, then stop cleanly and count every id in the SQLite file itself.
    const server = await startServer(dataDir);
    await recover(server, CYCLES);
    server.child.kill('SIGTERM');
    expect((await exited(server.child)).code).toBe(0);

    expect(ledger.rejected).toEqual([]);
    const db = new SqliteDatabase(path.join(dataDir, 'pitwall.db'), { readonly: true });
    try {
      expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
      const rows = db.prepare('SELECT id, COUNT(*) AS n FROM events GROUP BY id').all() as { id: string; n: number }[];
      const counts = new Map(rows.map((r) => [r.id, r.n]));
      expect([...ledger.sent].filter((id) => counts.get(id) !== 1)).toEqual([]);
      expect(rows.length).toBe(ledger.sent.size);
      expect(db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(ledger.sent.size);
    } finally {
      db.close();
    }
    console.log(
      `[crash] total: ${totalAcked} acknowledged before ${CYCLES} crashes, ${totalLost} lost; ${ledger.sent.size} sent, all stored once`,
    );
    expect(totalLost).toBe(0);
  }, 90_000);
});
