/**
 * The dashboard's Workflows page in a real Chromium: fixture workflows made through the API (and
 * one from a file in PITWALL_WORKFLOWS_DIR) are listed with their known status and runs; pausing
 * one through the page pauses it on the server; an invalid condition typed into the editor shows
 * its problem at its line and column; a backtest runs from the page and shows the counts the
 * fixture's orders give; "why" shows a customer's answer and trace. No console error, no CSP
 * violation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/index.ts';
import { type Dashboard, startDashboard } from './dashboard-support.ts';
import { chromiumAvailable, type Watched } from './support.ts';

const T = Date.parse('2026-06-10T10:00:00Z');
const clock = new FakeClock(T);
const flows = mkdtempSync(path.join(tmpdir(), 'pitwall-dash-workflows-'));
let d: Dashboard;

/**
 * Orders over $100 get a thank-you survey (service: allowed) and a marketing survey (no consent
 * by default: the contact policy skips it). Line 9 holds the condition.
 */
const THANKS = `schemaVersion: 1
id: big-order-thanks
name: Thank big orders
holdout: 0
trigger:
  event: commerce.order_completed
customer: "event.userid"
conditions:
  - "event.data.properties.revenue > 100.0"
steps:
  - action: survey.show
    purpose: service
    with: { survey: thanks, placement: post_purchase }
  - action: survey.show
    with: { survey: promo, placement: next_page_view }
`;

const PAUSED = `schemaVersion: 1
id: paused-one
name: Paused reminder
enabled: false
holdout: 5%
trigger:
  event: cart.abandoned
steps:
  - action: survey.show
    with: { survey: what-stopped-you }
`;

const FROM_GIT = `schemaVersion: 1
id: from-git
name: From git
trigger:
  event: commerce.product_viewed
steps:
  - action: survey.show
    purpose: service
    with: { survey: hello }
`;

const order = (userId: string, revenue: number, i: number) => ({
  type: 'track',
  event: 'Order Completed',
  userId,
  messageId: `wf-order-${i}`,
  timestamp: new Date(T - 60_000 + i).toISOString(),
  properties: { order_id: `o-${i}`, revenue, products: [{ sku: 'BRK-1', price: revenue }] },
  context: { store: 'main' },
});

async function putYaml(id: string, yaml: string): Promise<void> {
  const res = await fetch(`${d.url}/v1/workflows/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${d.admin}`, 'content-type': 'application/yaml' },
    body: yaml,
  });
  if (!res.ok) throw new Error(`PUT ${id} → ${res.status}: ${await res.text()}`);
}

function clean(watched: Watched): void {
  expect(watched.violations).toEqual([]);
  expect(watched.pageErrors).toEqual([]);
  expect(watched.consoleErrors).toEqual([]);
}

/** Signed in (with `key`, default admin) through the form, then at `pathname`. */
const openAt = (pathname: string, key?: string) => d.open({ path: pathname, ...(key ? { key } : {}) });

/** The machine is shared and loaded: give the page time (polls, not sleeps). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

const row = (page: Page, id: string) => page.getByRole('row').filter({ has: page.locator('code', { hasText: new RegExp(`^${id}$`) }) });

describe.skipIf(!chromiumAvailable())('dashboard workflows in Chromium', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    writeFileSync(path.join(flows, 'from-git.yaml'), FROM_GIT);
    d = await startDashboard('dash-workflows', { clock, env: { PITWALL_WORKFLOWS_DIR: flows } });
    await putYaml('big-order-thanks', THANKS);
    await putYaml('paused-one', PAUSED);
    // u0 orders $80 (condition false), u1 $150 and u2 $250 (acted; the marketing survey skipped).
    await d.batch([order('u0', 80, 0), order('u1', 150, 1), order('u2', 250, 2)]);
    await d.settle();
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    rmSync(flows, { recursive: true, force: true });
  });

  it('lists every workflow with its status, source, last run and runs in the last 7 days', async () => {
    const runs = (await d.get('/v1/runs?workflow=big-order-thanks')) as { runs: { status: string; customer_id: string }[] };
    expect(runs.runs.map((r) => `${r.customer_id}:${r.status}`).sort()).toEqual(['u0:skipped', 'u1:completed', 'u2:completed']);

    const { page, watched } = await openAt('/workflows');
    await page.getByTestId('workflows-table').waitFor();
    const thanks = row(page, 'big-order-thanks');
    await poll(() => thanks.textContent()).toContain('enabled');
    const text = (await thanks.textContent()) ?? '';
    expect(text).toContain('API');
    expect(text).toContain('v1');
    expect(text).toContain('commerce.order_completed');
    expect(text).toContain('10 Jun 2026, 10:00 UTC');
    expect(await thanks.locator('td').nth(7).textContent()).toBe('3');

    const paused = (await row(page, 'paused-one').textContent()) ?? '';
    expect(paused).toContain('paused');
    expect(paused).toContain('5 %');
    expect(paused).toContain('no runs yet');
    expect(await row(page, 'paused-one').getByRole('button', { name: 'Enable paused-one' }).isEnabled()).toBe(true);

    const fromGit = row(page, 'from-git');
    expect(await fromGit.textContent()).toContain('file · read-only');
    expect(await fromGit.getByRole('button', { name: 'Pause from-git' }).isDisabled()).toBe(true);
    await d.screenshot(page, 'workflows');
    clean(watched);
  });

  it('pauses a workflow from the list (the server says paused), and enables it again', async () => {
    const { page, watched } = await openAt('/workflows');
    const thanks = row(page, 'big-order-thanks');
    await thanks.getByRole('button', { name: 'Pause big-order-thanks' }).click();
    await poll(() => thanks.textContent()).toContain('paused');
    const after = (await d.get('/v1/workflows/big-order-thanks')) as { enabled: boolean; version: number; source_text: string };
    expect(after).toMatchObject({ enabled: false, version: 2 });
    expect(after.source_text).toContain('enabled: false');
    expect(after.source_text).toContain('event.data.properties.revenue > 100.0');
    expect(await thanks.textContent()).toContain('v2');

    await thanks.getByRole('button', { name: 'Enable big-order-thanks' }).click();
    await poll(() => thanks.textContent()).toContain('enabled');
    expect(await d.get('/v1/workflows/big-order-thanks')).toMatchObject({ enabled: true, version: 3 });
    clean(watched);
  });

  it('validates as you type: an invalid condition shows its problem with its line, and choosing it moves the cursor there', async () => {
    const { page, watched } = await openAt('/workflows/big-order-thanks');
    const editor = page.getByTestId('yaml');
    await poll(() => editor.inputValue()).toContain('revenue > 100.0');
    await poll(() => page.getByTestId('validation').textContent()).toContain('Valid');
    const good = await editor.inputValue();
    await editor.fill(good.replace('properties.revenue > 100.0', "properties.revenue > '100'"));
    const problem = page.getByTestId('problem');
    await poll(() => problem.first().textContent()).toContain('PW_WORKFLOW_CEL');
    const line = good.split('\n').findIndex((l) => l.includes('revenue > 100.0')) + 1;
    expect(await problem.first().textContent()).toMatch(new RegExp(`^Line ${line}, column \\d+`));
    expect(await page.getByTestId('save').isDisabled()).toBe(true);
    await problem.first().click();
    const cursorLine = await editor.evaluate((el) => {
      const t = el as unknown as { value: string; selectionStart: number };
      return t.value.slice(0, t.selectionStart).split('\n').length;
    });
    expect(cursorLine).toBe(line);
    await d.screenshot(page, 'workflows-editor');

    // Fixed again: valid, and saving makes version 4.
    await editor.fill(good.replace('name: Thank big orders', 'name: Thank big orders (edited)'));
    await poll(() => page.getByTestId('validation').textContent()).toContain('Valid');
    await page.getByTestId('save').click();
    await poll(() => page.getByTestId('notice').textContent()).toContain('version 4');
    expect(await d.get('/v1/workflows/big-order-thanks')).toMatchObject({ version: 4, name: 'Thank big orders (edited)' });
    clean(watched);
  });

  it('runs a backtest from the page and shows the runs, actions, customers and policy skips of the fixture', async () => {
    const { page, watched } = await openAt('/workflows/big-order-thanks');
    await poll(() => page.getByTestId('validation').textContent()).toContain('Valid');
    await page.getByLabel('First day (UTC)').fill('2026-06-10');
    await page.getByLabel('Last day (UTC, inclusive').fill('2026-06-10');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    const result = page.getByTestId('backtest-result');
    await result.waitFor({ timeout: 30_000 });
    // Three orders: one under $100 (skipped), two over (each: one survey sent, the marketing one skipped).
    expect(await page.getByTestId('bt-runs').textContent()).toContain('3');
    expect(await page.getByTestId('bt-actions').textContent()).toContain('2');
    expect(await page.getByTestId('bt-customers').textContent()).toContain('2');
    expect(await page.getByTestId('bt-policy').textContent()).toMatch(/Policy skips2/);
    expect(await page.getByTestId('bt-by-type').textContent()).toContain('survey.show2');
    expect(await page.getByTestId('bt-by-status').textContent()).toMatch(/completed2.*skipped1|skipped1.*completed2/);
    expect(await page.getByTestId('bt-by-code').textContent()).toContain('PW_POLICY_CONSENT');
    await d.screenshot(page, 'workflows-backtest');

    // A day without events: the empty state says what to do.
    await page.getByLabel('First day (UTC)').fill('2026-06-01');
    await page.getByLabel('Last day (UTC, inclusive').fill('2026-06-01');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await poll(() => page.getByTestId('bt-runs').textContent()).toBe('Runs0');
    expect(await page.getByTestId('bt-empty').textContent()).toContain('Widen the dates');
    clean(watched);
  });

  it('explains why it fired for one customer and not for another, with the trace', async () => {
    const { page, watched } = await openAt('/workflows/big-order-thanks', d.reader);
    await page.getByLabel('Customer').fill('u1');
    await page.getByRole('button', { name: 'Explain' }).click();
    const answer = page.getByTestId('why-answer');
    await poll(() => answer.textContent()).toContain('Fired: acted: survey.show');
    expect(await answer.textContent()).toContain('the contact policy skipped survey.show');
    const steps = page.getByTestId('why-trace').getByTestId('trace-step');
    await poll(() => steps.count()).toBeGreaterThanOrEqual(4);
    const trace = (await page.getByTestId('why-trace').textContent()) ?? '';
    expect(trace).toContain('condition event.data.properties.revenue > 100.0 → true');
    expect(trace).toContain('action survey.show queued');
    expect(trace).toMatch(/contact policy for survey\.show \(marketing\): skip/);
    await d.screenshot(page, 'workflows-why');

    await page.getByLabel('Customer').fill('u0');
    await page.getByRole('button', { name: 'Explain' }).click();
    await poll(() => answer.textContent()).toContain('Did not fire: condition `event.data.properties.revenue > 100.0` was false');
    // A read-only key sees everything; its edit controls are disabled with the reason.
    expect(await page.getByRole('button', { name: 'Run backtest' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Pause big-order-thanks' }).isDisabled()).toBe(true);
    expect(await page.getByTestId('yaml').getAttribute('readonly')).not.toBeNull();
    clean(watched);
  });

  it('shows a file-backed workflow read-only, says why, and lists the recent runs with their traces', async () => {
    const { page, watched } = await openAt('/workflows/from-git');
    await poll(() => page.getByTestId('read-only-note').textContent()).toContain('from-git.yaml');
    expect(await page.getByTestId('yaml').getAttribute('readonly')).not.toBeNull();
    expect(await page.getByRole('button', { name: 'Pause from-git' }).isDisabled()).toBe(true);
    expect(await page.getByTestId('save').getAttribute('title')).toContain('change the file');

    await page.goto(`${d.url}/workflows/big-order-thanks`);
    const runs = page.getByTestId('runs-table');
    await poll(() => runs.locator('tbody tr').count()).toBe(3);
    await runs.locator('tbody tr').first().getByRole('button', { name: 'Show' }).click();
    await poll(() => page.getByTestId('run-trace').getByTestId('trace-step').count()).toBeGreaterThanOrEqual(2);
    // Versions: view the first one, read-only.
    await page.getByRole('link', { name: 'View version 1' }).click();
    await poll(() => page.getByTestId('old-yaml').inputValue()).toContain('name: Thank big orders\n');
    clean(watched);
  });

  it('creates a new workflow from the page', async () => {
    const { page, watched } = await openAt('/workflows');
    await page.getByRole('button', { name: 'New workflow' }).click();
    const editor = page.getByTestId('yaml');
    await poll(() => page.getByTestId('validation').textContent()).toContain('Valid');
    await editor.fill((await editor.inputValue()).replace('id: my-workflow', 'id: from-the-page'));
    await poll(() => page.getByTestId('create').textContent()).toBe('Create from-the-page');
    await page.getByTestId('create').click();
    await poll(() => page.url()).toBe(`${d.url}/workflows/from-the-page`);
    expect(await d.get('/v1/workflows/from-the-page')).toMatchObject({ version: 1, enabled: false, source: 'api' });
    clean(watched);
  });
});
