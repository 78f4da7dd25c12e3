/**
 * Workflows end to end: the seven starter workflows validate against the real catalogue and the
 * built-in executors; the HTTP API saves versions, answers 422 with line and column, refuses to
 * change a file-backed workflow; `pitwall workflows validate` prints file:line:column and exits 1.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInExecutors, executorRegistry, parseActSettings } from '../src/act/index.ts';
import {
  ConditionEnvironment,
  fromCel,
  loadWorkflowsDir,
  saveWorkflow,
  validateWorkflow,
  type WorkflowDefinition,
} from '../src/automate/index.ts';
import { FakeClock } from '../src/core/index.ts';
import { SchemaRegistry } from '../src/events/index.ts';
import { createKey } from '../src/govern/index.ts';
import { outputOf, PITWALL_BIN } from './support/process.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = path.join(ROOT, 'workflows/examples');
const executorList = builtInExecutors(parseActSettings({}).settings);
const executors = executorRegistry(executorList);
const environment = new ConditionEnvironment(new SchemaRegistry());
const tmp = mkdtempSync(path.join(tmpdir(), 'pitwall-workflows-test-'));

afterAll(async () => {
  for (const e of executorList) await e.close?.();
  rmSync(tmp, { recursive: true, force: true });
});

const RESCUE = `schemaVersion: 1
id: rescue
name: Cart rescue
trigger:
  event: cart.abandoned
conditions:
  - "cart.value > 50.0"
steps:
  - action: survey.show
    with: { survey: what-stopped-you, placement: exit_intent, cart: "{{ event.data.cart_id }}" }
  - wait: 2h
  - if: "cart.status != 'recovered'"
    then:
      - action: checkout.offer
        with: { cart: "{{ cart.cart_id }}", shipping: express, expires_in: 24h }
`;

describe('the starter workflows', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it('are seven, and each validates against the catalogue and the built-in actions', () => {
    expect(files).toHaveLength(7);
    for (const f of files) {
      const r = validateWorkflow(readFileSync(path.join(EXAMPLES, f), 'utf8'), { file: f, environment, executors });
      expect(r.problems, f).toEqual([]);
      expect(r.compiled?.definition.id, f).toBe(f.replace(/\.yaml$/, ''));
    }
  });

  it('pair an abandoned cart with a late shipment that shares a SKU (delivery-concern rescue)', () => {
    const r = validateWorkflow(readFileSync(path.join(EXAMPLES, 'delivery-concern-rescue.yaml'), 'utf8'), { environment, executors });
    const t = r.compiled?.trigger;
    if (t?.kind !== 'correlation') throw new Error('expected a correlation trigger');
    const nowMs = Date.parse('2026-01-05T09:00:00Z');
    const cart = {
      cartId: 'c1',
      customer: 'cus_1',
      status: 'abandoned',
      lines: { 'BRK-PAD-F-4471': { quantity: 2, price: 64.9 } },
      value: 129.8,
    };
    const shipment = { shipmentId: 's1', lines: [{ sku: 'BRK-PAD-F-4471', quantity: 40 }], status: 'in_transit', delayed: true };
    const delayed = {
      type: 'shipment.delayed',
      time: '2026-01-05T08:00:00Z',
      data: { shipment_id: 's1', predicted_p90: '2026-01-09T12:00:00Z', promised_at: '2026-01-07T18:00:00Z' },
    };
    const cartKey = t.events[0].key.evaluate({ nowMs, cart });
    const shipmentKey = t.events[1].key.evaluate({ nowMs, shipment });
    expect(cartKey.ok && fromCel(cartKey.value)).toEqual(['BRK-PAD-F-4471']);
    expect(shipmentKey.ok && fromCel(shipmentKey.value)).toEqual(['BRK-PAD-F-4471']);
    expect(t.events[1].filter?.evaluate({ nowMs, event: delayed, shipment })).toEqual({ ok: true, value: true });
    expect(r.compiled?.conditions.map((c) => c.evaluate({ nowMs, cart }))).toEqual([
      { ok: true, value: true },
      { ok: true, value: true },
    ]);
  });
});

describe('workflows over HTTP', () => {
  const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
  let server: TestServer;
  let admin: string;
  let reader: string;
  let url: string;

  beforeAll(async () => {
    server = await startTestServer({ name: 'workflows', clock });
    url = server.pw.httpUrl;
    admin = (await createKey(server.pw.store.db, clock, { name: 'a', scopes: ['admin'] })).key;
    reader = (await createKey(server.pw.store.db, clock, { name: 'r', scopes: ['read'] })).key;
  });
  afterAll(async () => {
    await server?.close();
  });

  async function call(method: string, p: string, opts: { body?: string; type?: string; key?: string } = {}) {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${opts.key ?? admin}`,
        ...(opts.body !== undefined ? { 'content-type': opts.type ?? 'application/yaml' } : {}),
      },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
  }

  it('saves every PUT as a new version and reads the latest, any version and the history', async () => {
    const first = await call('PUT', '/v1/workflows/rescue', { body: RESCUE });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id: 'rescue',
      version: 1,
      source: 'api',
      read_only: false,
      trigger: { kind: 'event', events: ['cart.abandoned'] },
    });
    clock.advance(60_000);
    const second = await call('PUT', '/v1/workflows/rescue', {
      body: RESCUE.replace('name: Cart rescue', 'name: Cart rescue v2\nholdout: 10%'),
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      version: 2,
      name: 'Cart rescue v2',
      holdout_percent: 10,
      created_by: expect.stringMatching(/^key:/),
    });

    expect((await call('GET', '/v1/workflows', { key: reader })).body.workflows).toEqual([
      expect.objectContaining({ id: 'rescue', version: 2 }),
    ]);
    const v1 = await call('GET', '/v1/workflows/rescue?version=1', { key: reader });
    expect(v1.body).toMatchObject({ version: 1, name: 'Cart rescue', source_text: RESCUE, definition: { holdoutPercent: 0 } });
    const history = await call('GET', '/v1/workflows/rescue/versions', { key: reader });
    expect((history.body.versions as { version: number }[]).map((v) => v.version)).toEqual([2, 1]);
    expect((await call('GET', '/v1/workflows/nope', { key: reader })).body.code).toBe('PW_WORKFLOW_NOT_FOUND');
    expect((await call('GET', '/v1/workflows/rescue?version=9', { key: reader })).status).toBe(404);
  });

  it('answers 422 with every problem and its line and column, for YAML and for JSON', async () => {
    const bad = await call('PUT', '/v1/workflows/rescue', { body: RESCUE.replace('cart.value > 50.0', 'cart.vlaue > 50.0') });
    expect(bad.status).toBe(422);
    expect(bad.type).toContain('application/problem+json');
    expect(bad.body).toMatchObject({ code: 'PW_WORKFLOW_INVALID', pointer: '/conditions/0' });
    expect(bad.body.problems).toEqual([
      expect.objectContaining({
        line: 7,
        column: 11,
        pointer: '/conditions/0',
        code: 'PW_WORKFLOW_CEL',
        message: expect.stringContaining('did you mean "value"'),
      }),
    ]);
    const json = JSON.stringify(
      { schemaVersion: 1, id: 'rescue', name: 'J', trigger: { event: 'cart.abandoned' }, steps: [{ wait: '2 hours' }] },
      null,
      2,
    );
    const badJson = await call('PUT', '/v1/workflows/rescue', { body: json, type: 'application/json' });
    expect(badJson.status).toBe(422);
    expect(badJson.body.problems).toEqual([
      expect.objectContaining({ line: 10, column: 15, pointer: '/steps/0/wait', code: 'PW_WORKFLOW_SCHEMA' }),
    ]);
    const other = await call('PUT', '/v1/workflows/someone-else', { body: RESCUE });
    expect(other.status).toBe(422);
    expect(other.body.problems).toEqual([expect.objectContaining({ code: 'PW_WORKFLOW_ID_MISMATCH', line: 2, column: 5 })]);
    expect((await call('GET', '/v1/workflows/rescue', { key: reader })).body.version).toBe(2);
  });

  it('validates without saving', async () => {
    const r = await call('POST', '/v1/workflows/validate', {
      key: reader,
      body: RESCUE.replace('id: rescue', 'id: draft').replace('survey.show', 'survey.shw'),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      valid: false,
      problems: [expect.objectContaining({ line: 9, column: 13, code: 'PW_WORKFLOW_ACTION' })],
    });
    const ok = await call('POST', '/v1/workflows/validate', { key: reader, body: RESCUE.replace('id: rescue', 'id: draft') });
    expect(ok.body).toMatchObject({ valid: true, problems: [], definition: { id: 'draft' } });
    expect((await call('GET', '/v1/workflows/draft', { key: reader })).status).toBe(404);
  });

  it('refuses to change a workflow a file defines (409), and says it is read-only', async () => {
    const dir = path.join(tmp, 'flows');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'from-git.yaml'), RESCUE.replace('id: rescue', 'id: from-git'));
    const loaded = await loadWorkflowsDir(server.pw.store.db, dir, { environment, executors, nowMs: clock.now() });
    expect(loaded.saved.map((w) => w.id)).toEqual(['from-git']);
    const r = await call('PUT', '/v1/workflows/from-git', { body: RESCUE.replace('id: rescue', 'id: from-git') });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'PW_WORKFLOW_READ_ONLY', file_path: 'from-git.yaml' });
    expect((await call('GET', '/v1/workflows/from-git', { key: reader })).body).toMatchObject({
      read_only: true,
      source: 'file',
      file_path: 'from-git.yaml',
    });
  });

  it('needs admin to save, a workflow media type, and a key', async () => {
    expect((await call('PUT', '/v1/workflows/rescue', { body: RESCUE, key: reader })).status).toBe(403);
    expect((await call('PUT', '/v1/workflows/rescue', { body: RESCUE, type: 'text/csv' })).body.code).toBe('PW_MEDIA_TYPE');
    const res = await fetch(`${url}/v1/workflows`);
    expect(res.status).toBe(401);
  });
});

function cli(...args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITWALL_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { PITWALL_DATA_DIR: path.join(tmp, 'data'), PITWALL_LOG_LEVEL: 'warn' });
  return outputOf(spawn(process.execPath, [PITWALL_BIN, ...args], { cwd: ROOT, env }), 60_000);
}

describe('pitwall workflows validate', { timeout: 90_000 }, () => {
  it('passes the starter workflows and fails a bad file with file:line:column, exit 1', async () => {
    const good = await cli('workflows', 'validate', 'workflows/examples');
    expect(good.stdout).toContain('7 of 7 workflow files valid.');
    expect(good.code).toBe(0);
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(file, RESCUE.replace('cart.value > 50.0', "cart.value > '50'"));
    const bad = await cli('workflows', 'validate', file);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`${path.relative(ROOT, file)}:7:6: no such overload: double > string [PW_WORKFLOW_CEL]`);
    expect(bad.stdout).toContain('0 of 1 workflow file valid, 1 with problems.');
  });
});

describe('enable / pause and the runs summary over HTTP (the dashboard’s list)', () => {
  const clock = new FakeClock(Date.parse('2026-06-10T10:00:00Z'));
  let server: TestServer;
  let admin: string;
  let reader: string;
  const COMMENTED = `# kept: a comment the toggle must not lose
schemaVersion: 1
id: thanks
name: Thank big orders
trigger:
  event: commerce.order_completed
conditions:
  - "event.data.properties.revenue > 100.0" # only big ones
steps:
  - action: survey.show
    purpose: service
    with: { survey: thanks }
`;

  beforeAll(async () => {
    server = await startTestServer({ name: 'workflows-toggle', clock });
    admin = (await createKey(server.pw.store.db, clock, { name: 'a', scopes: ['admin', 'ingest'] })).key;
    reader = (await createKey(server.pw.store.db, clock, { name: 'r', scopes: ['read'] })).key;
  });
  afterAll(async () => {
    await server?.close();
  });

  async function call(method: string, p: string, opts: { body?: string; key?: string; type?: string } = {}) {
    const res = await fetch(`${server.pw.httpUrl}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${opts.key ?? admin}`,
        ...(opts.body !== undefined ? { 'content-type': opts.type ?? 'application/yaml' } : {}),
      },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('pauses and enables as new versions, keeping the text’s comments; idempotent; admin only; not for files', async () => {
    expect((await call('PUT', '/v1/workflows/thanks', { body: COMMENTED })).status).toBe(201);
    expect((await call('POST', '/v1/workflows/thanks/pause', { key: reader })).status).toBe(403);
    const paused = await call('POST', '/v1/workflows/thanks/pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ version: 2, enabled: false });
    const text = String(paused.body.source_text);
    expect(text).toContain('# kept: a comment the toggle must not lose');
    expect(text).toContain('# only big ones');
    expect(text).toContain('name: Thank big orders\nenabled: false\ntrigger:'); // near the top, not appended
    // Already paused: the same version, nothing saved.
    expect((await call('POST', '/v1/workflows/thanks/pause')).body).toMatchObject({ version: 2, enabled: false });
    const enabled = await call('POST', '/v1/workflows/thanks/enable');
    expect(enabled.body).toMatchObject({ version: 3, enabled: true });
    expect(String(enabled.body.source_text)).toContain('enabled: true');
    const versions = (await call('GET', '/v1/workflows/thanks/versions', { key: reader })).body.versions as { enabled: boolean }[];
    expect(versions.map((v) => v.enabled)).toEqual([true, false, true]);
    expect((await call('POST', '/v1/workflows/nope/pause')).body).toMatchObject({ code: 'PW_WORKFLOW_NOT_FOUND' });

    // A stored version whose text no longer compiles (here: written around the API) can always be paused, not enabled.
    const good = COMMENTED.replace('id: thanks', 'id: broken');
    const def = validateWorkflow(good, { environment, executors }).definition as WorkflowDefinition;
    const broken = good.replace('revenue > 100.0', "revenue > 'x'");
    await saveWorkflow(server.pw.store.db, def, { yaml: broken, source: 'api', nowMs: clock.now() });
    expect((await call('POST', '/v1/workflows/broken/pause')).body).toMatchObject({ version: 2, enabled: false });
    const refusedEnable = await call('POST', '/v1/workflows/broken/enable');
    expect(refusedEnable.status).toBe(422);
    expect(refusedEnable.body).toMatchObject({
      code: 'PW_WORKFLOW_INVALID',
      problems: [expect.objectContaining({ code: 'PW_WORKFLOW_CEL' })],
    });

    const dir = path.join(tmp, 'toggle-flows');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'filed.yaml'), COMMENTED.replace('id: thanks', 'id: filed\nenabled: false'));
    await loadWorkflowsDir(server.pw.store.db, dir, { environment, executors, nowMs: clock.now() });
    const refused = await call('POST', '/v1/workflows/filed/pause');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'PW_WORKFLOW_READ_ONLY', file_path: 'filed.yaml' });
  });

  it('summarises each workflow’s last run and its runs in the last days; a paused workflow starts none', async () => {
    const track = async (userId: string, revenue: number, i: number) => {
      const res = await fetch(`${server.pw.httpUrl}/v1/track`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId, event: 'Order Completed', messageId: `sum-${i}`, properties: { order_id: `o-${i}`, revenue } }),
      });
      expect(res.status).toBe(200);
      const head = await server.pw.log.head();
      await server.pw.state?.caughtUp(head);
      await server.pw.automation?.caughtUp(head);
    };
    await track('u1', 150, 1);
    await track('u2', 50, 2);
    clock.advance(8 * 86_400_000); // the first two fall out of a 7-day window
    await track('u3', 300, 3);
    await call('POST', '/v1/workflows/thanks/pause');
    await track('u4', 300, 4);

    const week = await call('GET', '/v1/runs/summary', { key: reader });
    expect(week.status).toBe(200);
    expect(week.body).toMatchObject({ days: 7, to: '2026-06-18T10:00:00.000Z', since: '2026-06-11T10:00:00.000Z' });
    const rows = week.body.workflows as { workflow_id: string }[];
    expect(rows.find((r) => r.workflow_id === 'thanks')).toEqual({
      workflow_id: 'thanks',
      runs: 1,
      runs_capped: false,
      by_status: { completed: 1 },
      last_run: expect.objectContaining({ status: 'completed', outcome: 'acted', started_at: '2026-06-18T10:00:00.000Z' }),
    });
    expect(rows.find((r) => r.workflow_id === 'filed')).toMatchObject({ runs: 0, last_run: null });
    const month = await call('GET', '/v1/runs/summary?days=30', { key: reader });
    expect((month.body.workflows as { workflow_id: string }[]).find((r) => r.workflow_id === 'thanks')).toMatchObject({
      runs: 3,
      by_status: { completed: 2, skipped: 1 },
    });
    for (const bad of ['0', '91', 'x', '1.5'])
      expect((await call('GET', `/v1/runs/summary?days=${bad}`)).body).toMatchObject({ code: 'PW_QUERY_INVALID', pointer: '/days' });
  });
});
