/**
 * The demo shop (`/demo/shop`) in a real Chromium, served with its strict CSP: with an empty
 * catalogue it says so; with a catalogue, a delayed standard lane and a workflow's
 * `checkout.offer` for the cart, its checkout page shows the express option first, recommended,
 * with the offer — arranged through public APIs (catalogue, carrier events, the shop itself for
 * the cart) and the outbox the workflow runner writes to.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOutbox } from '../../src/act/index.ts';
import { deterministicId, FakeClock } from '../../src/core/index.ts';
import { createKey } from '../../src/govern/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { ARTIFACTS, type Chromium, chromiumAvailable, launchChromium, watch } from './support.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-11-30T09:00:00Z');
const SKU = 'BRK-PAD-F-4471';

describe.skipIf(!chromiumAvailable())('the demo shop in Chromium', () => {
  const clock = new FakeClock(T0);
  let server: TestServer;
  let chrome: Chromium;
  let admin: string;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer({ name: 'shop-browser', clock, env: { PITWALL_DEMO_SHOP: 'on' } });
    base = server.pw.httpUrl;
    admin = (await createKey(server.pw.store.db, clock, { name: 'admin', scopes: ['admin'] })).key;
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
    await server?.close();
  });

  const call = async (method: string, route: string, body: unknown, type = 'application/json') => {
    const r = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': type },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    expect(r.status, `${method} ${route}: ${text}`).toBeLessThan(300);
    return text;
  };
  const settle = async () => {
    for (;;) {
      const head = await server.pw.log.head();
      await server.pw.state?.caughtUp(head);
      if ((await server.pw.log.head()) === head) return;
    }
  };
  const open = async (route: string) => {
    const page: Page = await chrome.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(10_000);
    const w = await watch(page);
    const res = await page.goto(`${base}${route}`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    return { page, w };
  };

  it('says the catalogue is empty when it is', async () => {
    const { page, w } = await open('/demo/shop');
    await page.locator('[data-empty="catalogue"]').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe('The catalogue is empty');
    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await page.close();
  });

  it('shows the express option, recommended and offered, at checkout when the cart’s lane is delayed; the order confirmation asks the post-purchase survey', async () => {
    await call('PUT', '/v1/catalog', {
      products: [
        {
          sku: SKU,
          name: 'Front brake pads, ceramic',
          category: 'Brakes',
          price: 64.9,
          currency: 'EUR',
          attributes: { brand: 'Brembo' },
          fitment: [{ make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020 }],
        },
      ],
    });
    await call('PUT', '/v1/warehouses', [{ id: 'wh-north', name: 'Hamburg' }]);
    await call('PUT', '/v1/carriers', [
      { id: 'dhl', name: 'DHL Paket' },
      { id: 'dhl-express', name: 'DHL Express' },
    ]);
    const lane = { origin: 'wh-north', destination: 'DE-BY', currency: 'EUR' };
    await call('PUT', '/v1/lanes', [
      { carrier_id: 'dhl', ...lane, transit_hours_p50: 48, transit_hours_p90: 72, cost: 4.95, attributes: { service: 'standard' } },
      { carrier_id: 'dhl-express', ...lane, transit_hours_p50: 18, transit_hours_p90: 26, cost: 14.9, attributes: { service: 'express' } },
    ]);
    // The standard lane is delayed: a parcel on it is stuck in a carrier exception.
    const ev = (type: string, data: Record<string, unknown>, n: number) => ({
      specversion: '1.0',
      id: `shop-test-${n}`,
      source: 'urn:carrier:dhl',
      type,
      time: new Date(clock.now()).toISOString(),
      data: { shipment_id: 'shp-stuck', ...data },
    });
    await call(
      'POST',
      '/v1/events',
      [
        ev(
          'shipment.created',
          { carrier: 'dhl', origin: 'wh-north', destination: 'DE-BY', promised_at: new Date(T0 + 48 * H).toISOString() },
          1,
        ),
        ev('shipment.status', { status: 'exception', reason: 'sorting centre backlog' }, 2),
      ],
      'application/cloudevents-batch+json',
    );
    await settle();
    await server.pw.timerRunner?.tick();
    await settle();
    const delayed = await fetch(`${base}/v1/shipments?delayed=true`, { headers: { authorization: `Bearer ${admin}` } });
    expect(JSON.stringify(await delayed.json())).toContain('shp-stuck');

    // A shopper puts the part in the cart, on the shop's product page.
    const { page, w } = await open(`/demo/shop/product/${SKU}`);
    await page.locator('h1').filter({ hasText: 'Front brake pads' }).waitFor();
    await page.locator('.decision').waitFor();
    const tracked = page.waitForResponse(
      (r) => r.url().endsWith('/v1/track') && r.request().postData()?.includes('Product Added') === true,
    );
    await page.getByRole('button', { name: 'Add to cart' }).click();
    expect((await tracked).status()).toBe(200);
    await page.waitForURL(/\/demo\/shop\/cart$/);
    const cartId = JSON.parse((await page.evaluate("localStorage.getItem('shop.cart')")) as string).cartId as string;
    await settle();

    // The workflow that saw the delay left an express upgrade for this cart (the runner's outbox write).
    const runId = 'run-shop-test';
    await openOutbox(server.pw.store, clock).enqueue(server.pw.store.db, [
      {
        key: deterministicId('pitwall.action', runId, 'steps.0'),
        runId,
        workflowId: 'delivery-concern-rescue',
        workflowVersion: 1,
        stepPath: 'steps.0',
        type: 'checkout.offer',
        params: {
          cart: cartId,
          shipping: 'express',
          message: 'Express delivery on us — your usual route is running late',
          expires_in: '24h',
        },
        createdAtMs: clock.now(),
      },
    ]);
    expect(await server.pw.dispatcher.tick()).toMatchObject({ completed: 1 });
    // The shopper reaches checkout a little later (the decision API caches live state for a second).
    clock.advance(5_000);

    await page.goto(`${base}/demo/shop/checkout`);
    const express = page.locator('[data-option="express"]');
    await express.waitFor();
    await expect(page.locator('[data-option]').first().getAttribute('data-option')).resolves.toBe('express');
    expect(await express.getAttribute('class')).toContain('recommended');
    await expect(express.locator('input').isChecked()).resolves.toBe(true);
    await expect(express.textContent()).resolves.toContain('Free');
    await expect(page.locator('[data-offer="shipping"]').textContent()).resolves.toContain('Express delivery on us');
    await expect(page.locator('[data-option="standard"]').count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'checkout.png'), fullPage: true });

    // A post-purchase survey, offered automatically on order confirmation pages.
    await call('PUT', '/v1/surveys/after-order', {
      id: 'after-order',
      name: 'After the order',
      locale: 'en',
      questions: [{ id: 'csat', type: 'csat', prompt: 'How easy was ordering today?', required: true }],
      thankYou: { text: 'Thank you!' },
      placements: [{ type: 'post_purchase', auto: true }],
    });

    // The shopper orders with the offered option; the order reaches Pitwall and the confirmation page shows it.
    await page.getByLabel('Full name').fill('Anna Berger');
    await page.getByLabel('Postal code').fill('80331');
    const ordered = page.waitForResponse(
      (r) => r.url().endsWith('/v1/track') && r.request().postData()?.includes('Order Completed') === true,
    );
    await page.getByRole('button', { name: 'Place order' }).click();
    const order = (await ordered).request().postDataJSON() as {
      properties: { order_id: string; cart_id: string; shipping_method: string };
    };
    expect(order.properties).toMatchObject({ cart_id: cartId, shipping_method: 'express' });
    await page.waitForURL(/\/demo\/shop\/order\//);
    await expect(page.locator('[data-order]').textContent()).resolves.toBe(order.properties.order_id);
    await expect(page.locator('#cart-count').textContent()).resolves.toBe('0');
    // The confirmation page asks at once (no exit intent needed).
    await page.locator('[role="dialog"]').waitFor({ state: 'visible' });
    await expect(page.locator('#pw-prompt').textContent()).resolves.toContain('How easy was ordering today?');
    await page.keyboard.press('Escape');
    await page.locator('[role="dialog"]').waitFor({ state: 'detached' });

    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    expect(w.consoleErrors).toEqual([]);
    await page.close();
  });

  it("shows a shopper signed in with ?customer= their vehicle's fitment: the shop's backend signs the id for the widget", async () => {
    await call('POST', '/v1/identify', {
      userId: 'cust-anna',
      messageId: 'identify-anna',
      traits: { vehicle: { make: 'Ford', model: 'F-150', year: 2019 } },
    });
    await settle();
    const { page, w } = await open(`/demo/shop/product/${SKU}?customer=cust-anna`);
    const decided = page.waitForResponse((r) => r.url().endsWith('/v1/decide/product'));
    await page.locator('.decision .fits').waitFor();
    await expect(page.locator('.decision .fits').textContent()).resolves.toBe('Fits your 2019 Ford F-150');
    expect(((await (await decided).json()) as { identity: unknown }).identity).toEqual({ status: 'verified' });
    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    expect(w.consoleErrors).toEqual([]);
    await page.close();
  });
});
