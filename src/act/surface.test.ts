/** The outbox's outside: `GET /v1/actions`, `POST /v1/actions/:key/replay`, and the `pitwall secrets` / `pitwall actions` commands. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputOf, PITWALL_BIN } from '../../test/support/process.ts';
import { startTestServer, type TestServer } from '../../test/support/server.ts';
import { deterministicId, FakeClock } from '../core/index.ts';
import { createKey } from '../govern/index.ts';
import { openStore } from '../store/index.ts';
import { type ActionRequest, openOutbox, openSecretStore } from './index.ts';

const request = (n: number, createdAtMs: number, workflowId = 'rescue'): ActionRequest => ({
  key: deterministicId('pitwall.action', `run-${n}`, 'steps.0'),
  runId: `run-${n}`,
  workflowId,
  workflowVersion: 1,
  stepPath: 'steps.0',
  type: 'webhook.send',
  params: { url: 'https://hooks.example/x', secret: 'shop-hook' },
  createdAtMs: createdAtMs + n,
});

/**
 * Enqueues `n` actions and dead-letters the first `dead` of them. The others are not due for an
 * hour: the server's own dispatcher (main.ts starts one) would otherwise claim them — and
 * dead-letter them for the missing secret — while this claim waits for its WAL sync.
 */
async function seed(store: Parameters<typeof openOutbox>[0], clock: FakeClock, n: number, dead: number): Promise<ActionRequest[]> {
  const outbox = openOutbox(store, clock);
  const reqs = Array.from({ length: n }, (_, i) => ({
    ...request(i, clock.now(), i % 2 === 0 ? 'rescue' : 'notice'),
    ...(i >= dead ? { notBeforeMs: clock.now() + 3_600_000 } : {}),
  }));
  await outbox.enqueue(store.db, reqs);
  clock.advance(1_000);
  for (const c of await outbox.claimDue(dead, 60_000)) await outbox.deadLetter(c.key, c.token, 'PW_WEBHOOK_REJECTED: 400 from receiver');
  return reqs;
}

describe('HTTP /v1/actions', () => {
  let server: TestServer;
  let clock: FakeClock;
  let read: string;
  let admin: string;
  let reqs: ActionRequest[];

  beforeAll(async () => {
    clock = new FakeClock();
    server = await startTestServer({ name: 'actions', clock, env: { PITWALL_DECIDE: 'off' } });
    read = (await createKey(server.pw.store.db, clock, { name: 'r', scopes: ['read'] })).key;
    admin = (await createKey(server.pw.store.db, clock, { name: 'a', scopes: ['admin'] })).key;
    reqs = await seed(server.pw.store, clock, 5, 3);
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = (method: string, url: string, key?: string) =>
    fetch(`${server.pw.httpUrl}${url}`, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('lists dead actions with their last error, newest first, paging with a cursor', async () => {
    const res = await call('GET', '/v1/actions?status=dead&limit=2', read);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { actions: Record<string, unknown>[]; next_cursor: string | null };
    expect(body.actions).toHaveLength(2);
    expect(body.actions[0]).toMatchObject({
      status: 'dead',
      type: 'webhook.send',
      attempts: 1,
      last_error: 'PW_WEBHOOK_REJECTED: 400 from receiver',
    });
    expect(body.next_cursor).not.toBeNull();
    const rest = (await (await call('GET', `/v1/actions?status=dead&cursor=${body.next_cursor}`, read)).json()) as {
      actions: unknown[];
      next_cursor: null;
    };
    expect(rest.actions).toHaveLength(1);
    expect(rest.next_cursor).toBeNull();
    const notice = (await (await call('GET', '/v1/actions?workflow=notice', read)).json()) as { actions: { workflow_id: string }[] };
    expect(notice.actions.map((a) => a.workflow_id)).toEqual(['notice', 'notice']);
  });

  it('answers bad queries and unknown keys with problem codes', async () => {
    expect(((await (await call('GET', '/v1/actions?status=lost', read)).json()) as { code: string }).code).toBe('PW_QUERY_INVALID');
    expect(((await (await call('GET', '/v1/actions?cursor=zzz', read)).json()) as { code: string }).code).toBe('PW_QUERY_INVALID');
    const missing = await call('GET', '/v1/actions/nope', read);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('PW_ACTION_NOT_FOUND');
    expect((await call('GET', '/v1/actions')).status).toBe(401);
  });

  it('replays a dead action for an admin key only, and refuses one that is not dead', async () => {
    const dead = (await openOutbox(server.pw.store, clock).list({ status: 'dead', limit: 1 })).actions[0];
    expect((await call('POST', `/v1/actions/${dead?.key}/replay`, read)).status).toBe(403);
    const ok = await call('POST', `/v1/actions/${dead?.key}/replay`, admin);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ key: dead?.key, status: 'pending', attempts: 0 });
    const again = await call('POST', `/v1/actions/${dead?.key}/replay`, admin);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'PW_ACTION_NOT_DEAD', status: 409 });
    expect((await call('POST', '/v1/actions/nope/replay', admin)).status).toBe(404);
    expect(reqs).toHaveLength(5);
  });
});

describe('pitwall secrets / actions', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-act-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[], stdin?: string) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITWALL_') && k !== 'NODE_OPTIONS') env[k] = v;
    const child: ChildProcess = spawn(process.execPath, [PITWALL_BIN, ...args], {
      cwd: ROOT,
      env: { ...env, PITWALL_DATA_DIR: dir, PITWALL_LOG_LEVEL: 'warn' },
    });
    child.stdin?.end(stdin ?? '');
    return outputOf(child);
  };

  it('sets secrets from stdin, --value or --generate, lists names and dates only, and deletes them', async () => {
    expect(await cli(['secrets', 'set', 'shop-hook'], 'whsec_c2VjcmV0LWZyb20tc3RkaW4tMTIzNDU2Nzg5MA==\n')).toMatchObject({ code: 0 });
    const gen = await cli(['secrets', 'set', 'shop-hook', '--generate', '--keep-previous']);
    expect(gen.code).toBe(0);
    const generated = gen.stdout.trim().split('\n').at(-1) ?? '';
    expect(generated).toMatch(/^whsec_/);
    expect(gen.stdout).toContain('1 previous value(s) kept');
    expect(await cli(['secrets', 'set', 'ops-hook', '--value', 'whsec_b3BzLWhvb2stc2VjcmV0LXZhbHVlLTEyMzQ1Ng=='])).toMatchObject({
      code: 0,
    });
    const list = await cli(['secrets', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ops-hook\t1 value\tset \d{4}-/m);
    expect(list.stdout).toMatch(/^shop-hook\t2 values\tset \d{4}-/m);
    expect(list.stdout).not.toContain('whsec_');
    const store = await openStore({ sqliteFile: path.join(dir, 'pitwall.db') });
    try {
      expect(await openSecretStore(store, new FakeClock()).get('shop-hook')).toEqual([
        generated,
        'whsec_c2VjcmV0LWZyb20tc3RkaW4tMTIzNDU2Nzg5MA==',
      ]);
    } finally {
      await store.close();
    }
    expect(await cli(['secrets', 'delete', 'ops-hook'])).toMatchObject({ code: 0 });
    const gone = await cli(['secrets', 'delete', 'ops-hook']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no secret named "ops-hook"');
    const bad = await cli(['secrets', 'set', 'bad name', '--value', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it('lists dead actions and replays them', async () => {
    const store = await openStore({ sqliteFile: path.join(dir, 'pitwall.db') });
    const clock = new FakeClock(Date.now());
    let reqs: ActionRequest[];
    try {
      reqs = await seed(store, clock, 3, 2);
    } finally {
      await store.close();
    }
    const dead = await cli(['actions', 'dead']);
    expect(dead.code).toBe(0);
    const lines = dead.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/\twebhook\.send\t(rescue|notice)@1\t1 attempt\t.*\tPW_WEBHOOK_REJECTED: 400 from receiver$/);
    const key = lines[0]?.split('\t')[0] ?? '';
    const replay = await cli(['actions', 'replay', key, reqs[2]?.key ?? '']);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('Replayed 1 action;');
    expect(replay.stderr).toContain('pending, not dead');
    expect((await cli(['actions', 'replay', '--all'])).stdout).toContain('Replayed 1 action;');
    expect((await cli(['actions', 'dead'])).stdout).toContain('No dead-lettered actions.');
    expect((await cli(['actions', 'endpoints'])).stdout).toContain('No disabled webhook endpoints.');
  });
});
