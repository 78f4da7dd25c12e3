/**
 * What every dashboard test needs: a real Pitwall (SQLite, its own data dir) with keys, real
 * Chromium, a page signed in through the sign-in form, recorders for CSP violations and console
 * errors, and helpers to feed fixture events through the public doors and wait until every
 * consumer group (state, automate, learn) has folded them.
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { vi } from 'vitest';
import type { Clock } from '../../src/core/index.ts';
import { dashboardBuild } from '../../src/dashboard/index.ts';
import { createKey } from '../../src/govern/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { ARTIFACTS, type Chromium, launchChromium, type Watched, watch } from './support.ts';

// A real browser over a real server is slower than the unit tests, most of all on a loaded
// machine; the dashboard's build (once per test file) takes a few seconds more.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

export interface Dashboard {
  server: TestServer;
  url: string;
  /** Keys: admin (ingest, read, admin), read-only. */
  admin: string;
  reader: string;
  chrome: Chromium;
  /**
   * A fresh browser context and page at 1280×800, watched, signed in with `key` (default admin)
   * through the sign-in form, then at `path` (default: the Overview it lands on).
   */
  open(opts?: {
    key?: string;
    width?: number;
    height?: number;
    path?: string;
  }): Promise<{ page: Page; context: BrowserContext; watched: Watched }>;
  /** POST a JSON body with the admin key; returns the parsed answer (throws on a non-2xx). */
  post(pathname: string, body: unknown, method?: string): Promise<unknown>;
  get(pathname: string): Promise<unknown>;
  /** Segment messages through `/v1/batch`. */
  batch(messages: unknown[]): Promise<void>;
  /** Waits until state, automate and learn have folded everything in the log. */
  settle(): Promise<void>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDashboard(name: string, opts: { clock?: Clock; env?: Record<string, string> } = {}): Promise<Dashboard> {
  await dashboardBuild();
  const server = await startTestServer({ name, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.env ? { env: opts.env } : {}) });
  const pw = server.pw;
  const admin = (await createKey(pw.store.db, pw.clock, { name: 'ops lead', scopes: ['ingest', 'read', 'admin'] })).key;
  const reader = (await createKey(pw.store.db, pw.clock, { name: 'analyst', scopes: ['read'] })).key;
  const chrome = await launchChromium();
  const url = pw.httpUrl;
  const contexts: BrowserContext[] = [];

  const call = async (pathname: string, method: string, body?: unknown) => {
    const res = await fetch(`${url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${pathname} → ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };

  return {
    server,
    url,
    admin,
    reader,
    chrome,
    async open(o = {}) {
      const context = await chrome.browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 800 } });
      contexts.push(context);
      const page = await context.newPage();
      const watched = await watch(page);
      await page.goto(`${url}/`);
      await page.getByLabel('API key').fill(o.key ?? admin);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Pages' }).waitFor();
      if (o.path !== undefined) {
        await page.goto(`${url}${o.path}`);
        await page.getByRole('navigation', { name: 'Pages' }).waitFor();
      }
      return { page, context, watched };
    },
    post: (pathname, body, method = 'POST') => call(pathname, method, body),
    get: (pathname) => call(pathname, 'GET'),
    async batch(messages) {
      const r = (await call('/v1/batch', 'POST', { batch: messages })) as { results?: { status: string }[] } | undefined;
      const bad = (r?.results ?? []).filter((x) => x.status === 'rejected');
      if (bad.length > 0) throw new Error(`fixture events rejected: ${JSON.stringify(bad)}`);
    },
    async settle() {
      for (;;) {
        const head = await pw.log.head();
        await pw.state?.caughtUp(head);
        await pw.automation?.caughtUp(head);
        await pw.learn?.caughtUp(head);
        if ((await pw.log.head()) === head) return;
      }
    },
    async screenshot(page, file) {
      await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${file}.png`), fullPage: true });
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await chrome.close();
      await server.close();
    },
  };
}
