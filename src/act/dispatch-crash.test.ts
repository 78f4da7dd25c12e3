/**
 * A dispatcher process SIGKILLed mid-dispatch, three times, at seeded moments: afterwards every
 * enqueued action is done, each reached the receiver at least once, and every delivery of an
 * action carried that action's one idempotency key (`webhook-id`), with a valid signature.
 * Replay a failure with PITWALL_CRASH_SEED=<seed printed below>.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, test } from 'vitest';
import { exited } from '../../test/support/process.ts';
import { deterministicId, FakeClock, systemClock } from '../core/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { type ActionRequest, generateWebhookSecret, openOutbox, openSecretStore, seededRandom } from './index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = path.join(ROOT, 'src/act/dispatch-child.fixture.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ACTIONS = 160;
const CRASHES = 3;
const LEASE_MS = 1_500;

const children = new Set<ChildProcess>();
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function childEnv(db: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITWALL_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, PITWALL_FIXTURE_DB: db, PITWALL_WEBHOOK_ALLOW: '127.0.0.2/32', PITWALL_FIXTURE_LEASE_MS: String(LEASE_MS) };
}

function startChild(db: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', TSX, CHILD], { cwd: ROOT, env: childEnv(db) });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dispatcher child not ready within 20 s:\n${out}\n${err}`)), 20_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`dispatcher child exited (${code ?? signal}) before ready:\n${out}\n${err}`));
    });
  });
}

describe('dispatch crash durability', () => {
  test('a dispatcher killed mid-dispatch loses no action and never sends one action with two idempotency keys', async () => {
    const seed = Number(process.env.PITWALL_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`[dispatch-crash] seed ${seed}   (replay: PITWALL_CRASH_SEED=${seed} npx vitest run src/act/dispatch-crash.test.ts)`);
    const rand = seededRandom(seed);
    const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-dispatch-crash-'));
    dirs.push(dir);
    const db = path.join(dir, 'pitwall.db');
    const secret = generateWebhookSecret();

    // The receiver: verifies every signature, records (n → webhook-ids), answers after a short random delay.
    const idsByN = new Map<number, Set<string>>();
    let deliveries = 0;
    const badSignatures: string[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries++;
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        };
        try {
          const payload = new Webhook(secret).verify(body, headers) as { data: { n: number } };
          const ids = idsByN.get(payload.data.n) ?? new Set<string>();
          ids.add(headers['webhook-id']);
          idsByN.set(payload.data.n, ids);
        } catch (e) {
          badSignatures.push((e as Error).message);
        }
        setTimeout(() => res.end('ok'), Math.floor(rand() * 40));
      });
    });
    receiver.listen(0, '127.0.0.2');
    await once(receiver, 'listening');
    const port = (receiver.address() as AddressInfo).port;

    let store: Store = await openStore({ sqliteFile: db });
    const keyOf = (n: number) => deterministicId('pitwall.action', `crash-run-${n}`, 'steps.0');
    try {
      const clock = new FakeClock(systemClock.now());
      await openSecretStore(store, clock).set('crash-hook', secret);
      const reqs: ActionRequest[] = Array.from({ length: ACTIONS }, (_, n) => ({
        key: keyOf(n),
        runId: `crash-run-${n}`,
        workflowId: 'crash',
        workflowVersion: 1,
        stepPath: 'steps.0',
        type: 'webhook.send',
        params: { url: `http://127.0.0.2:${port}/hook`, secret: 'crash-hook', data: { n } },
        createdAtMs: clock.now(),
      }));
      await openOutbox(store, clock).enqueue(store.db, reqs);
      await store.close();

      for (let crash = 1; crash <= CRASHES; crash++) {
        const child = await startChild(db);
        const target = Math.min(ACTIONS - 10, deliveries + 10 + Math.floor(rand() * 30));
        const before = deliveries;
        await new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const poll = setInterval(() => {
            if (deliveries >= target) {
              clearInterval(poll);
              resolve();
            } else if (Date.now() - started > 20_000) {
              clearInterval(poll);
              reject(new Error(`only ${deliveries} deliveries after 20 s`));
            }
          }, 2);
        });
        child.kill('SIGKILL');
        expect((await exited(child)).signal).toBe('SIGKILL');
        console.log(`[dispatch-crash] crash ${crash}: SIGKILL after ${deliveries - before} deliveries (${deliveries} in all)`);
      }

      // A last process drains the rest (claims of the killed ones come back when their leases run out).
      const last = await startChild(db);
      store = await openStore({ sqliteFile: db });
      const outbox = openOutbox(store, systemClock);
      const started = Date.now();
      for (;;) {
        const c = await outbox.counts();
        if (c.pending === 0) break;
        if (Date.now() - started > 30_000) throw new Error(`still ${c.pending} pending after 30 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      last.kill('SIGTERM');
      expect((await exited(last)).code).toBe(0);

      expect(await outbox.counts()).toEqual({ pending: 0, done: ACTIONS, dead: 0 });
      expect(badSignatures).toEqual([]);
      const missing = Array.from({ length: ACTIONS }, (_, n) => n).filter((n) => !idsByN.has(n));
      expect(missing, 'actions that never reached the receiver').toEqual([]);
      const twoKeys = [...idsByN].filter(([, ids]) => ids.size !== 1);
      expect(twoKeys, 'actions delivered with more than one idempotency key').toEqual([]);
      for (const [n, ids] of idsByN) expect([...ids]).toEqual([keyOf(n)]);
      console.log(
        `[dispatch-crash] ${ACTIONS} actions done; ${deliveries} deliveries, ${deliveries - ACTIONS} repeats after crashes, all with the same webhook-id`,
      );
    } finally {
      await store.close().catch(() => undefined);
      receiver.closeAllConnections();
      receiver.close();
    }
  }, 120_000);
});
