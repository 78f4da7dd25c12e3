/**
 * The dashboard's Settings page in a real Chromium: keys are listed with their scopes and prefix;
 * a key created through the form is shown once and works; revoking one (after a confirmation)
 * makes it stop working; the session's own key cannot be revoked from the page; a read-only key
 * sees the controls disabled and causes no 403; the contact policy and holdout defaults read back
 * as configured; Copy puts a new key on the clipboard and a publishable key's store is listed;
 * the page stays free of console errors and policy violations.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/index.ts';
import { type Dashboard, startDashboard } from './dashboard-support.ts';
import { chromiumAvailable } from './support.ts';

const clock = new FakeClock(Date.parse('2026-06-10T10:00:00Z'));
let d: Dashboard;
let configDir: string;

const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

/** Signed in (with `key`, default admin) through the form, then at `pathname`. */
const openAt = (pathname: string, key?: string) => d.open({ path: pathname, ...(key ? { key } : {}) });

const status = async (key: string) => (await fetch(`${d.url}/v1/settings`, { headers: { authorization: `Bearer ${key}` } })).status;

// Each test signs in and loads pages in Chromium on a shared, loaded machine.
describe.skipIf(!chromiumAvailable())('dashboard settings in Chromium', () => {
  beforeAll(async () => {
    configDir = mkdtempSync(path.join(tmpdir(), 'pitwall-dash-settings-'));
    const config = path.join(configDir, 'pitwall.config.json');
    writeFileSync(
      config,
      JSON.stringify({ automation: { policy: { caps: { email: '1 per 1d' }, quiet_hours: { start: '22:00', end: '07:00' } } } }),
    );
    d = await startDashboard('dash-settings', { clock, env: { PITWALL_CONFIG: config } });
    // The dashboard is built on its first request: build it here, not inside the first test's time.
    await fetch(`${d.url}/`, { headers: { accept: 'text/html' } });
  }, 120_000);
  afterAll(async () => {
    await d?.close();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('lists the keys and shows the configured contact policy and holdout defaults', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/settings');
    const rows = page.getByTestId('keys-table').locator('tbody tr');
    await poll(() => rows.count()).toBe(2);
    const mine = await rows.filter({ hasText: 'ops lead' }).textContent();
    expect(mine).toContain('this session');
    expect(mine).toContain('in use by this session');
    expect(mine).toMatch(/ingest.*read.*admin/);
    expect(await rows.filter({ hasText: 'analyst' }).textContent()).toContain('active');
    await poll(() => page.getByTestId('policy-caps').textContent()).toContain('email: at most 1 per 1d');
    expect(await page.getByTestId('policy-caps').textContent()).toContain('all channels: at most 5 per 7d');
    expect(await page.getByTestId('policy-quiet').textContent()).toContain('22:00–07:00');
    expect(await page.getByTestId('policy-consent').textContent()).toContain('marketing: needs consent');
    expect(await page.getByTestId('holdout-defaults').textContent()).toMatch(/Default 0 %.*at most 50 %/);
    expect(await page.getByTestId('stores').textContent()).toContain('No stores yet.');
    await d.screenshot(page, 'settings');
    expect(watched.violations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('creates a key that is shown once and works, then revokes it after a confirmation', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/settings');
    await page.getByLabel('New key name').fill('shop backend');
    await page.getByRole('checkbox', { name: 'read' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretBox = page.getByTestId('new-key-secret');
    await secretBox.waitFor({ timeout: 15_000 });
    const secret = (await secretBox.textContent()) ?? '';
    expect(secret).toMatch(/^pw_[0-9a-f]{12}_[\w-]{43}$/);
    expect(await page.getByTestId('new-key').textContent()).toContain('it will not be shown again');
    expect(await status(secret)).toBe(200);
    const row = page.getByTestId('keys-table').locator('tbody tr').filter({ hasText: 'shop backend' });
    await poll(() => row.textContent()).toContain(secret.slice(0, 18));
    expect(await row.textContent()).toMatch(/ingest.*read/);
    await d.screenshot(page, 'settings-new-key');

    // Shown once: after a reload the page has no way to show it again.
    await page.reload();
    await poll(() => page.getByTestId('keys-table').locator('tbody tr').count()).toBe(3);
    expect(await page.content()).not.toContain(secret);

    await row.getByRole('button', { name: 'Revoke', exact: true }).click();
    expect(await row.textContent()).toContain('Revoke “shop backend”? Anything using it stops working.');
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await poll(() => row.textContent()).toContain('revoked');
    const keys = (await d.get('/v1/keys')) as { keys: { name: string; revoked_at: string | null }[] };
    expect(keys.keys.find((k) => k.name === 'shop backend')?.revoked_at).toBe('2026-06-10T10:00:00.000Z');
    clock.advance(2000); // past the key cache's second
    expect(await status(secret)).toBe(401);
    expect(watched.violations).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('copies a new key with the Copy button, and a publishable key’s store appears under Stores', { timeout: 90_000 }, async () => {
    const { page, context, watched } = await openAt('/settings');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: d.url });
    await page.getByLabel('New key name').fill('shop widget');
    await page.getByLabel('Kind').selectOption('publishable');
    await page.getByLabel('Origins').fill('https://shop.example');
    await page.getByLabel('Store', { exact: true }).fill('north');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key-secret').textContent({ timeout: 15_000 })) ?? '';
    expect(secret).toMatch(/^pk_/);
    await page.getByTestId('copy-key').click();
    await poll(() => page.getByTestId('copy-key').textContent()).toBe('Copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    const store = page.getByTestId('stores-table').locator('tbody tr');
    await poll(() => store.count()).toBe(1);
    expect(await store.first().textContent()).toMatch(/north.*shop widget.*https:\/\/shop\.example/);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('new-key').count()).toBe(0);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('shows a read-only key the key controls disabled, without calling the admin routes', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/settings', d.reader);
    await page.getByTestId('keys-readonly').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('button', { name: 'Create key' }).isDisabled()).toBe(true);
    expect(await page.getByLabel('New key name').isDisabled()).toBe(true);
    expect(await page.getByTestId('keys-table').count()).toBe(0);
    await poll(() => page.getByTestId('policy-caps').textContent()).toContain('email: at most 1 per 1d');
    await d.screenshot(page, 'settings-read-only');
    expect(watched.consoleErrors).toEqual([]);
  });
});
