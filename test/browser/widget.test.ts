/**
 * The widget in a real Chromium, embedded in a shop on another origin whose page is served with the
 * strict policy of the Storefront issue (`script-src 'self' <pitwall>; style-src 'self' <pitwall>;
 * connect-src <pitwall>`): exit intent opens the survey, a keyboard alone completes it, the answer
 * shows in the results API, nothing violates the policy, and with Pitwall unreachable the page is
 * untouched.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/govern/index.ts';
import { IdentitySecrets, userHash } from '../../src/storefront/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  ARTIFACTS,
  type Chromium,
  chromiumAvailable,
  closedPort,
  type HostServer,
  hostServer,
  launchChromium,
  leaveThroughTop,
  type Routes,
  watch,
} from './support.ts';

const SURVEY = {
  id: 'leaving',
  name: 'Why are you leaving?',
  locale: 'en',
  questions: [
    {
      id: 'reason',
      type: 'single',
      prompt: 'What stopped you today?',
      required: true,
      options: [
        { id: 'delivery_time', label: 'Delivery takes too long' },
        { id: 'price', label: 'The price' },
        { id: 'just_browsing', label: 'Just browsing' },
      ],
      next: [{ if: { answer: 'just_browsing' }, goto: 'thanks' }],
    },
    { id: 'likely', type: 'nps', prompt: 'How likely are you to recommend us?', required: false },
    { id: 'details', type: 'text', prompt: 'Anything else?', required: false },
  ],
  thankYou: { text: 'Thanks, that helps.' },
  placements: [{ type: 'exit_intent', auto: true }],
};

// The host shop's own script: the command queue, as the contract documents it.
const HOST_JS = `
window.pitwall = window.pitwall || [];
window.decisions = [];
pitwall.push(['onDecision', function (d) { window.decisions.push(d); }]);
pitwall.push(['page', { type: 'product', skus: ['BRK-1001'] }]);
document.getElementById('buy').addEventListener('click', function () { document.getElementById('status').textContent = 'added'; });
`;

const hostPage = (widgetSrc: string, extra = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host shop</title>
<script src="/host.js" defer></script>
<script src="${widgetSrc}" data-key="{{key}}" data-store="main" data-min-time="0" ${extra} async></script>
</head><body><h1>Brake pads</h1><button id="buy">Add to cart</button><p id="status"></p></body></html>`;

// A function, not a string: Playwright evaluates a string predicate with eval when it has to poll,
// which the host page's strict policy (no 'unsafe-eval') refuses.
const decided = () => ((globalThis as unknown as { decisions?: unknown[] }).decisions?.length ?? 0) > 0;

describe.skipIf(!chromiumAvailable())('the widget in Chromium', () => {
  let server: TestServer;
  let host: HostServer;
  let down: HostServer;
  let chrome: Chromium;
  let admin: string;
  let pitwall: string;

  beforeAll(async () => {
    server = await startTestServer({ name: 'widget-browser' });
    pitwall = server.pw.httpUrl;
    admin = (await createKey(server.pw.store.db, server.pw.clock, { name: 'admin', scopes: ['admin'] })).key;
    const put = await fetch(`${pitwall}/v1/surveys/leaving`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(SURVEY),
    });
    expect(put.status, await put.text()).toBeLessThan(300);

    // The shop: its own origin, its publishable key bound to that origin, Pitwall's strict policy.
    const csp = `default-src 'none'; script-src 'self' ${pitwall}; style-src 'self' ${pitwall}; connect-src ${pitwall}; img-src 'self'`;
    const routes: Routes = { '/host.js': { body: HOST_JS, type: 'application/javascript' } };
    host = await hostServer(routes);
    const pk = await createKey(server.pw.store.db, server.pw.clock, {
      name: 'host',
      scopes: ['publishable'],
      origins: [host.origin],
      store: 'main',
    });
    routes['/'] = {
      body: hostPage(`${pitwall}/widget.js`).replace('{{key}}', pk.key),
      type: 'text/html',
      headers: { 'content-security-policy': csp },
    };
    // A signed-in shopper: the shop's server renders their id and its HMAC into the tag (and a forged one).
    const { secret } = await new IdentitySecrets(server.pw.store.db, server.pw.clock).show('main');
    for (const [route, hash] of [
      ['/signed-in', userHash(secret, 'cust-anna')],
      ['/forged', userHash(secret, 'cust-bob')],
    ] as const)
      routes[route] = {
        body: hostPage(`${pitwall}/widget.js`, `data-user-id="cust-anna" data-user-hash="${hash}"`).replace('{{key}}', pk.key),
        type: 'text/html',
        headers: { 'content-security-policy': csp },
      };
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
    await host?.close();
    await down?.close();
    await server?.close();
  });

  const open = async (url: string): Promise<{ page: Page; w: Awaited<ReturnType<typeof watch>> }> => {
    const page = await chrome.browser.newPage({ viewport: { width: 1000, height: 700 } });
    page.setDefaultTimeout(10_000);
    const w = await watch(page);
    await page.goto(url);
    return { page, w };
  };

  it("sends the shop server's user hash from data-user-hash, so the decision is the signed-in customer's", async () => {
    for (const [route, status] of [
      ['/signed-in', 'verified'],
      ['/forged', 'unverified'],
    ] as const) {
      const page = await chrome.browser.newPage();
      page.setDefaultTimeout(10_000);
      const w = await watch(page);
      const sent = page.waitForRequest((r) => r.url().endsWith('/v1/decide/product'));
      await page.goto(`${host.origin}${route}`);
      expect((await sent).postDataJSON()).toMatchObject({
        customer: { userId: 'cust-anna', userHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      });
      await page.waitForFunction(decided);
      expect(await page.evaluate('window.decisions[0].identity.status')).toBe(status);
      expect(w.violations).toEqual([]);
      await page.close();
    }
  });

  it('opens the survey on exit intent; a keyboard alone completes it; the answer shows in the results; no CSP violation', async () => {
    const { page, w } = await open(`${host.origin}/`);
    await page.waitForFunction(decided);
    const decision = (await page.evaluate('window.decisions[0]')) as { survey: { id: string } | null } | undefined;
    expect(decision?.survey?.id).toBe('leaving');
    await expect(page.locator('[role="dialog"]').count()).resolves.toBe(0);

    await page.focus('#buy');
    const impression = page.waitForResponse((r) => r.url().endsWith('/v1/surveys/leaving/impressions'));
    await leaveThroughTop(page);
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    expect((await impression).status()).toBe(204);
    await expect(page.locator('#pw-prompt').textContent()).resolves.toContain('What stopped you today?');
    await page.screenshot({ path: path.join(ARTIFACTS, 'survey.png') });

    // What has focus inside the widget's shadow root: "tag:value|aria-label|text".
    const focused = () =>
      page.evaluate(`(() => {
        const el = document.querySelector('[data-pitwall-widget]')?.shadowRoot?.activeElement;
        return el ? el.tagName.toLowerCase() + ':' + (el.getAttribute('value') ?? el.getAttribute('aria-label') ?? el.textContent) : null;
      })()`);
    // Focus moved into the dialog, on the first choice.
    expect(await focused()).toBe('input:delivery_time');
    // Required: sending nothing says so and keeps the question.
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Next');
    await page.keyboard.press('Enter');
    await expect(page.locator('[role="alert"]').textContent()).resolves.toContain('Please answer');
    expect(await page.locator('input[value="delivery_time"]').getAttribute('aria-invalid')).toBe('true');
    // … and puts focus back on the choices.
    expect(await focused()).toBe('input:delivery_time');
    // Focus is trapped: Tab from the last control wraps to the first (Close), Shift+Tab back.
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Next');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Close survey');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('button:Next');

    // Answer 1: the second option, chosen with the arrow keys.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('input:price');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    // Answer 2: NPS 9.
    await expect(page.locator('#pw-prompt').textContent()).resolves.toContain('recommend');
    for (let i = 0; i < 9; i++) await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('input:9');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    // Answer 3: free text.
    await page.keyboard.type('Delivery to Bavaria is slow');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Send');
    const posted = page.waitForResponse((r) => r.url().endsWith('/v1/surveys/leaving/responses') && r.request().method() === 'POST');
    await page.keyboard.press('Enter');
    expect((await posted).status()).toBe(201);
    await expect(page.locator('#pw-prompt').textContent()).resolves.toBe('Thanks, that helps.');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    // Focus is given back to where it was.
    expect(await page.evaluate('document.activeElement?.id')).toBe('buy');

    const r = await fetch(`${pitwall}/v1/surveys/leaving/results`, { headers: { authorization: `Bearer ${admin}` } });
    expect(r.status).toBe(200);
    const results = JSON.stringify(await r.json());
    expect(results).toContain('"price"');
    expect(results).toContain('Delivery to Bavaria is slow');
    expect(await page.evaluate("localStorage.getItem('pitwall.survey.leaving')")).toBe('completed');

    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    expect(w.consoleErrors).toEqual([]);
    await page.close();
  });

  it('Escape dismisses the survey, gives focus back and remembers the dismissal', async () => {
    const page = await chrome.browser.newPage({ viewport: { width: 1000, height: 700 } });
    const w = await watch(page);
    await page.goto(`${host.origin}/`);
    await page.waitForFunction(decided);
    await page.focus('#buy');
    await leaveThroughTop(page);
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor({ state: 'visible' });
    const posted = page.waitForResponse((r) => r.url().endsWith('/v1/surveys/leaving/responses'));
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The dismissal is reported (a response with `dismissed: true` and no answers).
    const dismissal = await posted;
    expect(dismissal.request().postDataJSON()).toMatchObject({ answers: [], dismissed: true });
    expect(dismissal.status()).toBe(201);
    expect(await page.evaluate('document.activeElement?.id')).toBe('buy');
    expect(await page.evaluate("localStorage.getItem('pitwall.survey.leaving')")).toBe('dismissed');

    // The next page view does not ask again: leaving does not even fetch the survey.
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/surveys/leaving')) asked.push(r.url());
    });
    await page.reload();
    await page.waitForFunction(decided);
    await leaveThroughTop(page);
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))');
    expect(asked).toEqual([]);
    expect(await page.locator('[data-pitwall-widget]').count()).toBe(0);
    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await page.close();
  });

  it('on a touch device, going back opens the survey (mobile exit intent)', async () => {
    const ctx = await chrome.browser.newContext({ isMobile: true, hasTouch: true, viewport: { width: 390, height: 800 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    const w = await watch(page);
    await page.goto(`${host.origin}/`);
    await page.waitForFunction(decided);
    expect(await page.evaluate("matchMedia('(pointer: coarse)').matches")).toBe(true);
    await page.goBack();
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'survey-mobile.png') });
    // Still on the shop's page: the widget's history entry was the one given up.
    expect(new URL(page.url()).origin).toBe(host.origin);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await ctx.close();
  });

  it('degrades to nothing when Pitwall is unreachable: no error, no dialog, the page works', async () => {
    const port = await closedPort();
    const gone = `http://127.0.0.1:${port}`;
    down = await hostServer({
      '/host.js': { body: HOST_JS, type: 'application/javascript' },
      // The widget loaded, its API is down (data-api) …
      '/': { body: hostPage(`${pitwall}/widget.js`, `data-api="${gone}"`).replace('{{key}}', 'pk_unused'), type: 'text/html' },
      // … or the widget itself cannot be fetched.
      '/no-widget': { body: hostPage(`${gone}/widget.js`).replace('{{key}}', 'pk_unused'), type: 'text/html' },
    });
    for (const url of [`${down.origin}/`, `${down.origin}/no-widget`]) {
      const page = await chrome.browser.newPage();
      const w = await watch(page);
      // Wait until the call to the unreachable Pitwall has failed.
      const failed = page.waitForEvent('requestfailed', { predicate: (r) => r.url().startsWith(gone) });
      await page.goto(url);
      await failed;
      await leaveThroughTop(page);
      await page.click('#buy');
      await expect(page.locator('#status').textContent()).resolves.toBe('added');
      expect(await page.locator('[data-pitwall-widget]').count()).toBe(0);
      expect(await page.evaluate('window.decisions.length')).toBe(0);
      expect(w.pageErrors).toEqual([]);
      // The browser itself logs the refused connections; nothing else may reach the console.
      expect(w.consoleErrors.filter((m) => !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(m))).toEqual([]);
      await page.close();
    }
  });
});
