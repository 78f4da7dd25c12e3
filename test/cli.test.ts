/**
 * The `pitwall` command line against real child processes: keys, devices, backup and
 * restore, quarantine, events, configuration errors, port selection and graceful stop.
 * Scenarios are independent (each its own data dir) and run concurrently.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, test } from 'vitest';
import { type Exit, exited, outputOf, PITWALL_BIN } from './support/process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STACK_LINE = /^\s+at /m;

const children = new Set<ChildProcess>();
const blockers = new Set<NetServer>();
const dirs: string[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const b of blockers) await new Promise((r) => b.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix = 'pitwall-cli-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

interface RunOpts {
  dataDir: string;
  /** Overrides; `undefined` removes a variable (to test defaults). */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

function spawnCli(args: string[], o: RunOpts): ChildProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITWALL_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { PITWALL_DATA_DIR: o.dataDir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: 'off', PITWALL_LOG_LEVEL: 'warn' });
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [PITWALL_BIN, ...args], { cwd: o.cwd ?? ROOT, env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Runs a command to completion (killed after 30 s, which fails the caller's assertions). */
type RunResult = Awaited<ReturnType<typeof outputOf>>;

function cli(args: string[], o: RunOpts): Promise<RunResult> {
  return outputOf(spawnCli(args, o));
}

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';

interface Server {
  child: ChildProcess;
  url: string;
  banner: string;
  /** The admin key a first start prints (empty when keys existed). */
  firstKey: string;
  output(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<Exit>;
}

/** Starts `pitwall start`; resolves once its banner (through the Health line) is printed. */
function startServer(o: RunOpts): Promise<Server> {
  const child = spawnCli(['start'], o);
  let out = '';
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 25 s:\n${out}\n${err}`)), 25_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^ {2}HTTP {3}(http:\/\/[^\s]+)/m.exec(out);
      if (m?.[1] && /^ {2}Health /m.test(out)) {
        clearTimeout(timer);
        resolve({
          child,
          url: m[1],
          banner: out,
          firstKey: /^ {4}(pw_\S+)$/m.exec(out)?.[1] ?? '',
          output: () => out + err,
          async stop() {
            child.kill('SIGTERM');
            return exited(child);
          },
        });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`pitwall start exited (${code ?? signal}) before its banner:\n${out}\n${err}`));
    });
  });
}

async function createKey(dataDir: string): Promise<{ id: string; key: string }> {
  const r = await cli(['keys', 'create', '--scopes', 'ingest,read,admin'], { dataDir });
  if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  const id = /Created key (k_[0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!id) throw new Error(`no key id in: ${r.stdout}`);
  return { id, key: lastLine(r.stdout) };
}

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

function track(id: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'track',
    messageId: id,
    userId: 'cli-user',
    event: 'Product Viewed',
    properties: { sku: 'BRK-PAD-001', price: 49.9 },
    ...extra,
  };
}

async function postBatch(url: string, key: string, messages: unknown[]): Promise<{ status: number; ids: string[] }> {
  const res = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basic(key), 'content-type': 'application/json' },
    body: JSON.stringify({ batch: messages }),
  });
  const body = (await res.json()) as { results?: { id?: string; status: string }[] };
  const ids = (body.results ?? []).filter((r) => r.status === 'accepted' || r.status === 'duplicate').map((r) => r.id ?? '');
  return { status: res.status, ids };
}

async function getEvents(url: string, key: string, query = ''): Promise<{ status: number; ids: string[] }> {
  const res = await fetch(`${url}/v1/events?limit=5${query}`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as { events?: { event: { id: string } }[] };
  return { status: res.status, ids: (body.events ?? []).map((e) => e.event.id) };
}

/** Every event id in the log, page by page over HTTP. */
async function allEventIds(url: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = await fetch(`${url}/v1/events?limit=1000${q}`, { headers: { authorization: `Bearer ${key}` } });
    if (res.status !== 200) throw new Error(`GET /v1/events answered ${res.status}`);
    const body = (await res.json()) as { events: { event: { id: string } }[]; next_cursor: string | null };
    for (const e of body.events) ids.push(e.event.id);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return ids;
}

/** Continuous Segment batches from a few senders (events padded to `padBytes`); records every acknowledged id. */
function startLoad(url: string, key: string, tag: string, senders = 2, padBytes = 0) {
  const pad = padBytes > 0 ? { properties: { sku: 'BRK-PAD-001', name: 'x'.repeat(padBytes) } } : {};
  const acked = new Set<string>();
  let stopped = false;
  const waiters: { n: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of [...waiters])
      if (acked.size >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  const loops = Array.from({ length: senders }, async (_, s) => {
    for (let n = 0; !stopped; n++) {
      try {
        const r = await postBatch(
          url,
          key,
          Array.from({ length: 50 }, (_, i) => track(`${tag}-s${s}-b${n}-m${i}`, pad)),
        );
        if (r.status === 200) for (const id of r.ids) acked.add(id);
      } catch {
        return; // the server is gone
      } finally {
        wake();
      }
    }
  });
  return {
    acked,
    /** Resolves once `n` events have been acknowledged (bounded). */
    ackedAtLeast(n: number): Promise<void> {
      if (acked.size >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${acked.size} of ${n} events acknowledged within 20 s`)), 20_000);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

function sqliteIds(dataDirOrFile: string): Map<string, number> {
  const file = dataDirOrFile.endsWith('.db') ? dataDirOrFile : path.join(dataDirOrFile, 'pitwall.db');
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, COUNT(*) AS n FROM events GROUP BY id').all() as { id: string; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    db.close();
  }
}

/** Holds a TCP port on 127.0.0.1 (0 = any free one); undefined when that port is taken. */
async function holdPort(port: number): Promise<NetServer | undefined> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(true));
  });
  if (!ok) return undefined;
  blockers.add(s);
  return s;
}

async function release(s: NetServer): Promise<void> {
  blockers.delete(s);
  await new Promise((r) => s.close(r));
}

async function freePort(): Promise<number> {
  const s = await holdPort(0);
  if (!s) throw new Error('no free port');
  const addr = s.address();
  await release(s);
  if (typeof addr !== 'object' || !addr) throw new Error('no address');
  return addr.port;
}

const portOf = (url: string) => Number(new URL(url).port);

describe.concurrent('pitwall CLI', { timeout: 120_000 }, () => {
  test('keys: created and listed with the server stopped, usable at once while it runs, refused within a second of revoking', async ({
    expect,
  }) => {
    const dataDir = tempDir();
    const first = await createKey(dataDir);
    expect(first.key).toMatch(/^pw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);

    const listed = await cli(['keys', 'list'], { dataDir });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(first.id);
    expect(listed.stdout).toContain(first.key.slice(0, 18));
    expect(listed.stdout).not.toContain(first.key);

    const server = await startServer({ dataDir });
    try {
      expect(server.banner).not.toContain('First start');
      expect((await getEvents(server.url, first.key)).status).toBe(200);

      const second = await createKey(dataDir);
      const firstUse = await postBatch(server.url, second.key, [track('key-made-while-running')]);
      expect(firstUse).toEqual({ status: 200, ids: ['key-made-while-running'] });

      expect((await getEvents(server.url, first.key)).status).toBe(200); // warm the key cache
      const revoked = await cli(['keys', 'revoke', first.id], { dataDir });
      expect(revoked.code, revoked.stderr).toBe(0);
      const t0 = Date.now();
      let status = 0;
      for (let i = 0; i < 50 && status !== 401; i++) {
        status = (await getEvents(server.url, first.key)).status;
        if (status !== 401) await new Promise((r) => setTimeout(r, 100));
      }
      const elapsed = Date.now() - t0;
      console.log(`[cli] revoked key refused ${elapsed} ms after "keys revoke" returned`);
      expect(status).toBe(401);
      expect(elapsed).toBeLessThan(2500);
      expect((await getEvents(server.url, second.key)).status).toBe(200);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test('state rebuild refuses while the server runs; stopped, it folds the log again into the same carts', async ({ expect }) => {
    const dataDir = tempDir();
    const { key } = await createKey(dataDir);
    const server = await startServer({ dataDir });
    const post = (body: unknown) =>
      fetch(`${server.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const [i, sku] of ['BRK-1', 'BRK-1', 'OIL-5'].entries()) {
      const r = await post({ userId: 'u1', event: 'Product Added', messageId: `m${i}`, properties: { cart_id: 'c1', sku, price: 10 } });
      expect(r.status).toBe(200);
    }
    const cart = async () => (await fetch(`${server.url}/v1/carts/c1`, { headers: { authorization: `Bearer ${key}` } })).json();
    let live: unknown;
    for (let i = 0; i < 50; i++) {
      live = await cart();
      if ((live as { value?: number }).value === 30) break;
      await new Promise((r) => setTimeout(r, 100)); // the state consumer runs in the child
    }
    expect(live).toMatchObject({ cart_id: 'c1', value: 30 });

    const refused = await cli(['state', 'rebuild'], { dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('running');
    expect(refused.stderr).not.toMatch(STACK_LINE);
    expect((await server.stop()).code).toBe(0);

    const db = new SqliteDatabase(path.join(dataDir, 'pitwall.db'));
    db.prepare('DELETE FROM carts').run();
    db.close();
    const rebuilt = await cli(['state', 'rebuild'], { dataDir });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/Rebuilt \d+ projections \(carts, .*\) from 3 events/);
    const check = new SqliteDatabase(path.join(dataDir, 'pitwall.db'), { readonly: true });
    const row = check.prepare("SELECT value, lines FROM carts WHERE cart_id = 'c1'").get() as { value: number; lines: string } | undefined;
    check.close();
    expect(row?.value).toBe(30);
    expect(JSON.parse(row?.lines ?? '{}')).toEqual({ 'BRK-1': { quantity: 2, price: 10 }, 'OIL-5': { quantity: 1, price: 10 } });

    // Learn's rollups, emptied by hand, come back from the log the same way.
    const learnDb = new SqliteDatabase(path.join(dataDir, 'pitwall.db'));
    const adds = () => (learnDb.prepare('SELECT COALESCE(SUM(adds), 0) AS n FROM learn_funnel_daily').get() as { n: number }).n;
    expect(adds()).toBe(3);
    learnDb.prepare('DELETE FROM learn_funnel_daily').run();
    learnDb.prepare('DELETE FROM learn_progress').run();
    const relearned = await cli(['learn', 'rebuild'], { dataDir });
    expect(relearned.code, relearned.stderr).toBe(0);
    expect(relearned.stdout).toMatch(/Rebuilt Learn's rollups from 3 events/);
    expect(adds()).toBe(3);
    learnDb.close();
  });

  test('devices create prints the device password as its last line', async ({ expect }) => {
    const dataDir = tempDir();
    const r = await cli(['devices', 'create', 'cold-room-1'], { dataDir });
    expect(r.code, r.stderr).toBe(0);
    expect(lastLine(r.stdout)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(r.stdout).toContain('MQTT username "cold-room-1"');
  });

  test('backup under load is a consistent copy; restore refuses while running, then brings the copy back', async ({ expect }) => {
    const dataDir = tempDir();
    const copy = path.join(tempDir('pitwall-backup-'), 'copy.db');
    let server = await startServer({ dataDir });
    const key = server.firstKey;
    // Big events: the store spans thousands of pages, so a backup copied in slices would keep
    // restarting on every commit of the running server.
    const load = startLoad(server.url, key, 'bk', 1, 4000);
    let ackedAtStart: string[];
    try {
      await load.ackedAtLeast(3000);
      ackedAtStart = [...load.acked];
      const b = await cli(['backup', copy], { dataDir });
      expect(b.code, `backup must finish while the server ingests: ${b.stderr}`).toBe(0);
      expect(b.stdout).toMatch(/Backed up .* \(\d+ events\)/);
      // Committed after the backup finished, so not in it.
      expect((await postBatch(server.url, key, [track('after-backup')])).ids).toEqual(['after-backup']);
    } finally {
      await load.stop();
    }

    const backupDb = new SqliteDatabase(copy, { readonly: true });
    expect(backupDb.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
    backupDb.close();
    const inBackup = sqliteIds(copy);
    console.log(`[cli] backup under load: ${ackedAtStart.length} acknowledged when it started, ${inBackup.size} events in the copy`);
    expect(inBackup.size).toBeGreaterThanOrEqual(ackedAtStart.length);
    expect(ackedAtStart.filter((id) => inBackup.get(id) !== 1)).toEqual([]);
    expect(inBackup.has('after-backup')).toBe(false);

    const refused = await cli(['restore', copy], { dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is running .*pid \d+.*stop it first/);
    expect(refused.stdout + refused.stderr).not.toMatch(STACK_LINE);

    expect((await server.stop()).code).toBe(0);
    const restored = await cli(['restore', copy, '--force'], { dataDir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored ${inBackup.size} events`);

    server = await startServer({ dataDir });
    try {
      const served = await allEventIds(server.url, key);
      expect(served.length).toBe(inBackup.size);
      expect(new Set(served)).toEqual(new Set(inBackup.keys()));
      expect(served).not.toContain('after-backup');
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test('quarantine list shows a rejected event, replay with a corrected file logs it, events tail prints the last events', async ({
    expect,
  }) => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir });
    const key = server.firstKey;
    try {
      const good = Array.from({ length: 7 }, (_, i) => track(`tail-${i}`));
      expect((await postBatch(server.url, key, good)).ids).toHaveLength(7);

      const bad = track('fix-me', { type: undefined, properties: { sku: 'BRK-PAD-001', price: 'cheap' } });
      const res = await fetch(`${server.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basic(key), 'content-type': 'application/json' },
        body: JSON.stringify(bad),
      });
      expect(res.status).toBe(400);
      const problem = (await res.json()) as { code: string; quarantine_id?: string };
      const qid = problem.quarantine_id ?? '';
      expect(qid).not.toBe('');

      const list = await cli(['quarantine', 'list'], { dataDir });
      expect(list.code, list.stderr).toBe(0);
      const row = list.stdout.split('\n').find((l) => l.startsWith(qid));
      expect(row).toBeDefined();
      expect(row).toContain(problem.code);
      expect(row).toContain('segment');

      const fixed = path.join(dataDir, 'fixed.json');
      writeFileSync(fixed, JSON.stringify(track('fix-me', { type: undefined, properties: { sku: 'BRK-PAD-001', price: 12.5 } })));
      const replay = await cli(['quarantine', 'replay', qid, '--file', fixed], { dataDir });
      expect(replay.code, replay.stdout + replay.stderr).toBe(0);
      expect(replay.stdout).toContain(`${qid}\treplayed`);

      const logged = await fetch(`${server.url}/v1/events?order=desc&limit=1`, { headers: { authorization: `Bearer ${key}` } });
      const newest = ((await logged.json()) as { events: { event: { id: string; data: { properties: { price: unknown } } } }[] }).events[0];
      expect(newest?.event.id).toBe('fix-me');
      expect(newest?.event.data.properties.price).toBe(12.5);

      const tail = await cli(['events', 'tail', '-n', '5'], { dataDir });
      expect(tail.code, tail.stderr).toBe(0);
      const lines = tail.stdout.trim().split('\n');
      expect(lines).toHaveLength(5);
      const events = lines.map((l) => JSON.parse(l) as { seq: number; id: string; specversion: string });
      expect(events.map((e) => e.id)).toEqual(['tail-3', 'tail-4', 'tail-5', 'tail-6', 'fix-me']);
      expect(events.map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
      expect(events.every((e) => e.specversion === '1.0')).toBe(true);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test('bad PITWALL_HTTP_PORT and PITWALL_CLOCK_SPEED: start exits 1 with one line per bad value and no stack trace', async ({
    expect,
  }) => {
    const r = await cli(['start'], { dataDir: tempDir(), env: { PITWALL_HTTP_PORT: 'abc', PITWALL_CLOCK_SPEED: '-1' } });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines.filter((l) => l.includes('PITWALL_HTTP_PORT="abc"'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('PITWALL_CLOCK_SPEED="-1"'))).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).not.toContain('Pitwall is running');
  });

  test('an unknown key in pitwall.config.json is reported and start exits 1', async ({ expect }) => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'pitwall.config.json'), JSON.stringify({ httpPort: 0, htpPort: 8080 }));
    const r = await cli(['start'], { dataDir: path.join(cwd, 'data'), cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pitwall\.config\.json: unknown setting "htpPort"/);
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
  });

  test('a value from pitwall.config.json is used, and the environment overrides it', async ({ expect }) => {
    const cwd = tempDir();
    const [filePort, envPort] = [await freePort(), await freePort()];
    writeFileSync(path.join(cwd, 'pitwall.config.json'), JSON.stringify({ httpPort: filePort, mqttPort: 'off' }));
    const unset = { PITWALL_HTTP_PORT: undefined, PITWALL_MQTT_PORT: undefined };

    let server = await startServer({ dataDir: path.join(cwd, 'data'), cwd, env: unset });
    expect(portOf(server.url)).toBe(filePort);
    expect(server.banner).toContain('MQTT   off');
    expect((await server.stop()).code).toBe(0);

    server = await startServer({ dataDir: path.join(cwd, 'data'), cwd, env: { ...unset, PITWALL_HTTP_PORT: String(envPort) } });
    expect(portOf(server.url)).toBe(envPort);
    expect((await server.stop()).code).toBe(0);
  });

  test('when the default HTTP port 3000 is taken, start picks a free one and says so', async ({ expect, skip }) => {
    const blocker = await holdPort(3000);
    if (!blocker) {
      console.log('[cli] skipped: port 3000 is already in use by another process, so the test cannot hold it itself');
      skip();
      return;
    }
    try {
      const server = await startServer({ dataDir: tempDir(), env: { PITWALL_HTTP_PORT: undefined } });
      expect(portOf(server.url)).not.toBe(3000);
      expect(server.banner).toMatch(/HTTP {3}http:\/\/127\.0\.0\.1:\d+ +\(port 3000 was taken, so a free one was picked/);
      expect((await server.stop()).code).toBe(0);
    } finally {
      await release(blocker);
    }
  });

  test('an explicit PITWALL_HTTP_PORT that is taken: start exits 1 naming the port and the variable', async ({ expect }) => {
    const blocker = await holdPort(0);
    if (!blocker) throw new Error('no free port');
    const addr = blocker.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const r = await cli(['start'], { dataDir: tempDir(), env: { PITWALL_HTTP_PORT: String(port) } });
    await release(blocker);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port}`);
    expect(r.stderr).toContain('PITWALL_HTTP_PORT');
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
  });

  test('with 1883 taken by another broker, the embedded MQTT broker picks another port and says so', async ({ expect }) => {
    const probe = await holdPort(1883);
    if (probe) await release(probe);
    const server = await startServer({ dataDir: tempDir(), env: { PITWALL_MQTT_PORT: undefined } });
    try {
      const m = /^ {2}MQTT {3}mqtt:\/\/127\.0\.0\.1:(\d+)(.*)$/m.exec(server.banner);
      expect(m, server.banner).not.toBeNull();
      if (probe) {
        console.log('[cli] skipped the fallback assertion: port 1883 is free on this machine (no Mosquitto running)');
        return;
      }
      expect(Number(m?.[1])).not.toBe(1883);
      expect(m?.[2]).toContain('port 1883 was taken');
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test('an explicit PITWALL_MQTT_PORT that is taken: start exits 1 naming the variable', async ({ expect }) => {
    const blocker = await holdPort(0);
    if (!blocker) throw new Error('no free port');
    const addr = blocker.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const r = await cli(['start'], { dataDir: tempDir(), env: { PITWALL_MQTT_PORT: String(port) } });
    await release(blocker);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port}`);
    expect(r.stderr).toContain('PITWALL_MQTT_PORT');
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
  });

  test('SIGTERM during load: the process exits 0 within 10 s and every acknowledged event is in the store', async ({ expect }) => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir });
    const load = startLoad(server.url, server.firstKey, 'term', 4);
    await load.ackedAtLeast(500);
    const t0 = Date.now();
    const exit = await server.stop();
    const stopMs = Date.now() - t0;
    await load.stop();
    expect(exit.code).toBe(0);
    // Keep-alive sockets must not hold the drain for the HTTP keep-alive timeout (72 s).
    expect(stopMs).toBeLessThan(10_000);
    expect(server.output()).toContain('Pitwall stopped.');
    const stored = sqliteIds(dataDir);
    console.log(`[cli] SIGTERM under load: stopped in ${stopMs} ms; ${load.acked.size} acknowledged, ${stored.size} stored`);
    expect([...load.acked].filter((id) => stored.get(id) !== 1)).toEqual([]);
  });
});
