/**
 * The dashboard's Overview in a real Chromium, signed in through its form: it shows the fixture's
 * known figures (hand-computed below), the live event rate grows when events arrive while it is
 * open, nothing violates the page's strict policy, and the console stays clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/index.ts';
import { type Dashboard, startDashboard } from './dashboard-support.ts';
import { chromiumAvailable } from './support.ts';

const T = Date.parse('2026-06-10T10:00:00Z');
const clock = new FakeClock(T + 3_600_000);
let d: Dashboard;
let n = 0;

const track = (event: string, userId: string, at: number, properties: Record<string, unknown>) => ({
  type: 'track',
  event,
  userId,
  messageId: `ov-${++n}`,
  timestamp: new Date(at).toISOString(),
  properties,
  context: { store: 'main' },
});

describe.skipIf(!chromiumAvailable())('dashboard overview in Chromium', () => {
  beforeAll(async () => {
    d = await startDashboard('dash-overview', { clock });
    const pads = { category: 'Brakes', sku: 'BRK-1', price: 80 };
    // 10 shoppers view, 6 add to cart, 4 check out, 3 order $80 / $120 / $200 = $400.
    const msgs = [];
    for (let i = 0; i < 10; i++) msgs.push(track('Product Viewed', `u${i}`, T + i, pads));
    for (let i = 0; i < 6; i++) msgs.push(track('Product Added', `u${i}`, T + 100 + i, pads));
    for (let i = 0; i < 4; i++) msgs.push(track('Checkout Started', `u${i}`, T + 200 + i, { products: [pads] }));
    [80, 120, 200].forEach((revenue, i) => {
      msgs.push(track('Order Completed', `u${i}`, T + 300 + i, { order_id: `o-${i}`, revenue, products: [pads] }));
    });
    await d.batch(msgs);
    await d.settle();
  });
  afterAll(async () => {
    await d?.close();
  });

  it('shows the fixture’s conversion, revenue and funnel, with no console error or policy violation', async () => {
    const report = (await d.get('/v1/reports/overview')) as { funnel: { views: number; orders: number; revenue: number } };
    expect(report.funnel).toMatchObject({ views: 10, orders: 3, revenue: 400 });
    const { page, watched } = await d.open();
    await expect.poll(() => page.getByTestId('stat-conversion').textContent()).toContain('30.0 %');
    expect(await page.getByTestId('stat-revenue').textContent()).toContain('$400.00');
    expect(await page.getByTestId('stat-conversion').textContent()).toContain('3 orders / 10 product views');
    const funnel = await page.getByTestId('funnel').textContent();
    for (const figure of ['Product views10', 'Added to cart6', 'Checkouts4', 'Orders3']) expect(funnel).toContain(figure);
    await page.getByTestId('maturity').waitFor();
    await d.screenshot(page, 'overview');
    expect(watched.violations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('counts events that arrive while the page is open on the live rate', async () => {
    const { page, watched } = await d.open({ key: d.reader });
    await page.getByTestId('live-rate').waitFor();
    const msgs = Array.from({ length: 25 }, (_, i) =>
      track('Product Viewed', `live${i}`, T + 5000 + i, { sku: 'BRK-1', category: 'Brakes' }),
    );
    await d.batch(msgs);
    await expect.poll(() => page.getByTestId('live-total').textContent(), { timeout: 15_000 }).toMatch(/^2[5-9] events|^[3-9]\d events/);
    expect(watched.consoleErrors).toEqual([]);
  });

  it('signs out and back to the sign-in form', async () => {
    const { page } = await d.open();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    const res = await page.evaluate(() => fetch('/v1/session').then((r) => r.json()));
    expect(res).toEqual({ signed_in: false });
  });
});
