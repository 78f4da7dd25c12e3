/**
 * The dashboard's Signals page in a real Chromium: each tab shows the fixture's known figures —
 * a delayed shipment listed first with its predicted window, a low stock row first with its days
 * of cover, a device, its quality score, the delayed shipment's condition, a quarantined item —
 * and, through the UI, acknowledging the condition and replaying the quarantined item (with its
 * payload corrected) take effect (checked over the API); a reading that arrives while the stock
 * tab is open shows without a reload. No console error, no policy violation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/index.ts';
import { type Dashboard, startDashboard } from './dashboard-support.ts';
import { chromiumAvailable } from './support.ts';

const T = Date.parse('2026-06-10T10:00:00Z');
const clock = new FakeClock(T);
const HAM = 'DE-HAM-1';
let d: Dashboard;
let configDir: string;

const ce = (id: string, type: string, data: Record<string, unknown>, at = T) => ({
  specversion: '1.0',
  id,
  source: 'urn:carrier:feed',
  type,
  time: new Date(at).toISOString(),
  datacontenttype: 'application/json',
  data,
});

/** Polls up to 15 s: the machine is shared, and a page needs a sign-in, a load and its requests. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

/** Signed in (with `key`, default admin) through the form, then at `pathname`. */
const openAt = (pathname: string, key?: string) => d.open({ path: pathname, ...(key ? { key } : {}) });

// Each test signs in and loads pages in Chromium on a shared, loaded machine.
describe.skipIf(!chromiumAvailable())('dashboard signals in Chromium', () => {
  beforeAll(async () => {
    configDir = mkdtempSync(path.join(tmpdir(), 'pitwall-dash-signals-'));
    const config = path.join(configDir, 'pitwall.config.json');
    writeFileSync(config, JSON.stringify({ detectors: { assets: { stock_low: { reorder_point: 10 } } } }));
    d = await startDashboard('dash-signals', { clock, env: { PITWALL_CONFIG: config } });
    // The dashboard is built on its first request: build it here, not inside the first test's time.
    await fetch(`${d.url}/`, { headers: { accept: 'text/html' } });
    const promised = new Date(T + 2 * 86_400_000).toISOString();
    await d.post('/v1/events', [
      ce('s1', 'shipment.created', { shipment_id: 'SHP-LATE', carrier: 'dhl', origin: HAM, destination: 'DE-BY', promised_at: promised }),
      ce('s2', 'shipment.created', { shipment_id: 'SHP-EARLY', carrier: 'ups', origin: HAM, destination: 'DE-NW', promised_at: promised }),
      ce('s3', 'shipment.status', { shipment_id: 'SHP-EARLY', status: 'in_transit' }, T + 60_000),
      ce('s4', 'shipment.status', { shipment_id: 'SHP-LATE', status: 'exception', reason: 'address unknown' }, T + 60_000),
    ]);
    // Shelf counts from one RFID reader: 4 brake pads (below the reorder point of 10), 50 filters.
    await d.post('/v1/senml?device=rfid-ham-1', [
      { bn: `urn:x:rfid:${HAM}:`, n: 'PAD-1', v: 4, t: T / 1000 },
      { bn: `urn:x:rfid:${HAM}:`, n: 'FLT-9', v: 50, t: T / 1000 },
    ]);
    // A shipment.created without its carrier: quarantined.
    const bad = (await d.post('/v1/events', [
      ce('bad-1', 'shipment.created', { shipment_id: 'SHP-FIXME', origin: HAM, destination: 'DE-HE', promised_at: promised }),
    ])) as { results: { status: string }[] };
    expect(bad.results[0]?.status).toBe('rejected');
    await d.settle();
  }, 120_000);
  afterAll(async () => {
    await d?.close();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('lists the delayed shipment first with its reason and predicted window, and the lanes', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/signals');
    const table = page.getByTestId('shipments-table');
    await poll(() => table.locator('tbody tr').count()).toBe(3 - 1); // SHP-FIXME is still in quarantine
    expect(await page.getByTestId('shipments-count').textContent()).toMatch(/Shipments\s*2\s*1 delayed/);
    const first = await table.locator('tbody tr').first().textContent();
    expect(first).toContain('SHP-LATE');
    expect(first).toContain('delayed: exception');
    expect(first).toContain('DE-HAM-1 → DE-BY');
    // The API lists by id (SHP-EARLY first); the page puts the delayed one first.
    expect(await table.locator('tbody tr').nth(1).textContent()).toContain('SHP-EARLY');
    await page.getByRole('link', { name: 'SHP-LATE' }).click();
    expect(page.url()).toBe(`${d.url}/signals/shipments/SHP-LATE`);
    await poll(() => page.getByTestId('shipment-window').textContent()).toMatch(/P50 .* UTC · P90 .* UTC/);
    expect(await page.getByTestId('shipment-detail').textContent()).toContain('address unknown');
    expect(await page.getByTestId('lanes').textContent()).toContain('No deliveries yet.');
    await d.screenshot(page, 'signals-shipments');
    expect(watched.violations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('shows low stock first with its figures, the device and its quality score', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/signals/stock', d.reader);
    const rows = page.getByTestId('stock-table').locator('tbody tr');
    await poll(() => rows.count()).toBe(2);
    expect(await page.getByTestId('stock-count').textContent()).toMatch(/Stock rows\s*2\s*1 low/);
    const low = await rows.first().textContent();
    expect(low).toContain('PAD-1');
    expect(low).toContain('low');
    expect(await rows.first().locator('td').nth(5).textContent()).toBe('4'); // available
    expect(await rows.nth(1).textContent()).toContain('FLT-9');
    await d.screenshot(page, 'signals-stock');
    // A new count while the page is open arrives over the live feed.
    await d.post('/v1/senml?device=rfid-ham-1', [{ n: `urn:x:rfid:${HAM}:PAD-1`, v: 6, t: T / 1000 + 60 }]);
    await poll(() => rows.first().locator('td').nth(5).textContent()).toBe('6');

    await page.getByTestId('tab-devices').click();
    const device = page.getByTestId('devices-table').locator('tbody tr');
    await poll(() => device.count()).toBe(1);
    expect(await device.first().textContent()).toContain('rfid-ham-1');
    expect(await device.first().textContent()).toContain('reporting');

    const quality = (await d.get('/v1/quality')) as { sources: { source: string; score: number }[] };
    expect(quality.sources.length).toBeGreaterThan(0);
    await page.getByTestId('tab-quality').click();
    const q = page.getByTestId('quality-table').locator('tbody tr');
    await poll(() => q.count()).toBe(quality.sources.length);
    const worst = [...quality.sources].sort((a, b) => a.score - b.score)[0];
    expect(await q.first().textContent()).toContain(worst?.source);
    expect(await q.first().textContent()).toContain(String(worst?.score));
    await d.screenshot(page, 'signals-quality');
    expect(watched.violations).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('a read-only key sees acknowledge and replay disabled', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/signals/conditions', d.reader);
    await poll(() => page.getByTestId('conditions-table').locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Acknowledge', exact: true }).first().isDisabled()).toBe(true);
    expect(await page.getByTestId('conditions').textContent()).toContain('acknowledging and clearing need a key with the admin scope');
    await page.getByTestId('tab-quarantine').click();
    await page.getByTestId('quarantine-item').first().waitFor();
    expect(await page.getByRole('button', { name: 'Replay', exact: true }).isDisabled()).toBe(true);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('acknowledges the delayed shipment’s condition through the UI', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/signals/conditions');
    const rows = page.getByTestId('conditions-table').locator('tbody tr');
    await poll(() => rows.count()).toBeGreaterThan(0);
    const row = rows.filter({ hasText: 'SHP-LATE' });
    expect(await row.textContent()).toContain('critical');
    await row.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await row.getByLabel('Note').fill('called DHL, new address sent');
    await row.getByRole('button', { name: 'Confirm' }).click();
    await poll(() => page.getByTestId('conditions-table').filter({ hasText: 'SHP-LATE' }).textContent()).toContain('acknowledged');
    const acked = (await d.get('/v1/conditions?status=acknowledged&kind=shipment.delayed')) as {
      conditions: { key: string; note: string; acknowledged_by: string }[];
    };
    expect(acked.conditions).toMatchObject([{ key: 'SHP-LATE', note: 'called DHL, new address sent' }]);
    expect(acked.conditions[0]?.acknowledged_by).toMatch(/^key:k_/);
    await d.screenshot(page, 'signals-conditions');

    // Then cleared by hand: it leaves the open list and the API says cleared, with the note.
    await row.getByRole('button', { name: 'Clear', exact: true }).click();
    await row.getByLabel('Note').fill('delivered to the new address');
    await row.getByRole('button', { name: 'Confirm clear' }).click();
    await poll(() => page.getByTestId('conditions').textContent()).not.toContain('SHP-LATE');
    const cleared = (await d.get('/v1/conditions?status=cleared&kind=shipment.delayed')) as { conditions: { key: string; note: string }[] };
    expect(cleared.conditions).toMatchObject([{ key: 'SHP-LATE', note: 'delivered to the new address' }]);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('shows the quarantined item’s reason and replays it with the payload corrected', { timeout: 90_000 }, async () => {
    const { page, watched } = await openAt('/signals/quarantine');
    const item = page.getByTestId('quarantine-item').first();
    await item.waitFor();
    expect(await page.getByTestId('quarantine-count').textContent()).toMatch(/Waiting for replay\s*1/);
    expect(await item.textContent()).toContain('shipment.created');
    expect(await item.getByTestId('quarantine-reason').textContent()).toContain('carrier');
    await item.locator('summary').click();
    const payload = item.getByTestId('quarantine-payload');
    const fixed = JSON.parse(await payload.inputValue()) as { data: Record<string, unknown> };
    fixed.data.carrier = 'dhl';
    await payload.fill(JSON.stringify(fixed, null, 2));
    await item.getByRole('button', { name: 'Replay edited payload' }).click();
    await poll(() => page.getByTestId('replay-done').textContent()).toContain('now in the log');
    const replayed = (await d.get('/v1/quarantine?status=replayed')) as { items: { status: string }[] };
    expect(replayed.items).toHaveLength(1);
    await d.settle();
    expect(await d.get('/v1/shipments/SHP-FIXME')).toMatchObject({ shipment_id: 'SHP-FIXME', carrier: 'dhl' });
    await d.screenshot(page, 'signals-quarantine');
    expect(watched.violations).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  });
});
