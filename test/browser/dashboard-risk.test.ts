/**
 * The dashboard's Risk page in a real Chromium: a small seeded run renders both fan charts and
 * the liquidity-at-risk the API itself answers for the same body; bad input is stopped in the
 * page and the server's problem detail is shown; the what-ifs, the tornado and the
 * recommendations render, and applying one (confirmed) puts `plan.recommendation_applied` in the
 * log. No console errors, no policy violations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/index.ts';
import { type Dashboard, startDashboard } from './dashboard-support.ts';
import { chromiumAvailable } from './support.ts';

const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
let d: Dashboard;

const BODY = { seed: 5, paths: 1000, horizon_days: 28, cash: { floor: 150_000 } };
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Signed in (with `key`, default admin) through the form, then at `pathname`. */
const openAt = (pathname: string, key?: string) => d.open({ path: pathname, ...(key ? { key } : {}) });

describe.skipIf(!chromiumAvailable())('dashboard risk in Chromium', () => {
  beforeAll(async () => {
    d = await startDashboard('dash-risk', { clock });
  }, 120_000);
  afterAll(async () => {
    await d?.close();
  });

  it('runs a seeded simulation: fan charts and the API’s own liquidity-at-risk; bad input is explained', async () => {
    const expected = (await d.post('/v1/risk/simulate', BODY)) as {
      summary: { liquidity_at_risk: { probability: { value: number }; median_first_breach_day: number | null }; cash: unknown[] };
    };
    const lar = expected.summary.liquidity_at_risk.probability.value;
    expect(lar).toBeGreaterThan(0);
    const { page, watched } = await openAt('/risk', d.reader);
    await page.getByTestId('risk-empty').waitFor();
    // Bounded in the page before anything is sent.
    await page.getByTestId('risk-paths').fill('5000000');
    await page.getByTestId('risk-run').click();
    expect(await page.getByTestId('risk-controls').textContent()).toContain('a whole number from 100 to 100,000');
    await page.getByTestId('risk-paths').fill('100000');
    await page.getByTestId('risk-horizon').fill('366');
    await page.getByTestId('risk-run').click();
    expect(await page.getByTestId('risk-controls').textContent()).toContain('paths × days must be at most 20,000,000');

    await page.getByTestId('risk-paths').fill(String(BODY.paths));
    await page.getByTestId('risk-horizon').fill(String(BODY.horizon_days));
    await page.getByTestId('risk-floor').fill(String(BODY.cash.floor));
    await page.getByTestId('risk-seed').fill(String(BODY.seed));
    await page.getByTestId('risk-run').click();
    await expect.poll(() => page.getByTestId('stat-lar').textContent(), { timeout: 60_000 }).toContain(pct(lar));
    expect(await page.getByTestId('stat-lar').textContent()).toContain('$150,000');
    expect(await page.getByTestId('risk-run-note').textContent()).toContain('1,000 paths × 28 days, seed 5');
    expect(await page.getByTestId('risk-run-note').textContent()).toContain('day 0 = 1 Jun 2026');
    if (expected.summary.liquidity_at_risk.median_first_breach_day !== null)
      expect(await page.getByTestId('stat-breach-when').textContent()).toContain(
        `day ${expected.summary.liquidity_at_risk.median_first_breach_day}`,
      );
    // Both fan charts are drawn by uPlot, with the band, the median, the mean and (cash) the floor.
    for (const id of ['chart-cash', 'chart-margin']) {
      const chart = page.getByTestId(id);
      await chart.locator('canvas').waitFor();
      expect(await chart.locator('.u-legend').textContent()).toContain('P50 (median)');
      expect(await chart.locator('figcaption').textContent()).toContain('1 Jun 2026 – 28 Jun 2026 (28 days, UTC)');
    }
    expect(await page.getByTestId('chart-cash').locator('.u-legend').textContent()).toContain('floor');
    await d.screenshot(page, 'risk');
    expect(watched.violations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  }, 180_000);

  it('compares the what-ifs, draws the tornado, and applies a recommendation into the log', async () => {
    const { page, watched } = await openAt('/risk');
    await page.getByTestId('risk-paths').fill('300');
    await page.getByTestId('risk-horizon').fill('35');
    await page.getByTestId('risk-run').click();
    await page.getByTestId('chart-cash').locator('canvas').waitFor({ timeout: 60_000 });
    await page.getByTestId('risk-compare').click();
    await page.getByTestId('scenario-table').waitFor({ timeout: 150_000 });
    const table = await page.getByTestId('scenario-table').textContent();
    for (const name of ['(base)', 'dhl outage 7 days', 'demand +30 %', 'munich-cold failure 5 days', 'supplier price +8 %'])
      expect(table).toContain(name);
    expect(await page.getByTestId('tornado').locator('.tornado-row').count()).toBeGreaterThan(5);
    expect(await page.getByTestId('tornado-orders-per-day').count()).toBe(1);
    const rows = page.getByTestId('rec-table').locator('tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    await d.screenshot(page, 'risk-whatifs');

    const head = await d.server.pw.log.head();
    await rows.first().getByRole('button', { name: 'Apply' }).click();
    await rows.first().getByRole('button', { name: 'Confirm' }).click();
    await rows.first().getByText('applied').waitFor();
    // Other events (the background thread's derived ones) may come between: read all since head.
    const logged = await d.server.pw.log.read(head, 10_000);
    const applied = logged.find((x) => x.event.type === 'plan.recommendation_applied');
    expect(applied?.event.data).toMatchObject({ by: expect.stringMatching(/^key:/) });
    expect(watched.violations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  }, 300_000);

  it('shows the server’s problem detail at the field it names', async () => {
    const { page, watched } = await openAt('/risk', d.reader);
    // Within the page's own bounds (which bound the work), beyond the scenario's range for a floor.
    await page.getByTestId('risk-floor').fill('2000000000000');
    await page.getByTestId('risk-paths').fill('200');
    await page.getByTestId('risk-horizon').fill('14');
    await page.getByTestId('risk-run').click();
    await page.getByRole('alert').filter({ hasText: 'PW_RISK_SCENARIO' }).waitFor();
    expect(await page.getByTestId('risk-controls').textContent()).toMatch(/cash\/floor/);
    expect(watched.pageErrors).toEqual([]);
    // The 400 itself is the only console line (Chromium logs failed requests).
    expect(watched.consoleErrors.filter((e) => !e.includes('400'))).toEqual([]);
  }, 120_000);
});
