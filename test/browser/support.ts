/**
 * Real Chromium for the browser tests (playwright-core driving Debian's /usr/bin/chromium), a
 * host page server on its own origin (a shop that is not Pitwall), and the recorders every test
 * uses: CSP violations, uncaught page errors and console errors.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PITWALL_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../.tmp/artifacts');

/** Whether the browser tests can run; outside CI a missing Chromium skips them with a reason, in CI it fails. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`browser tests need Chromium at ${CHROMIUM} (CI installs it in .ci/run)`);
  console.warn(`skipping browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  return false;
}

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  // playwright gives each launch a fresh temporary profile (the --user-data-dir of stack.md).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    browser,
    close: () => browser.close(),
  };
}

export interface Watched {
  violations: string[];
  pageErrors: string[];
  consoleErrors: string[];
}

/** Records CSP violations (reported in the page), uncaught errors and console errors of `page`. */
export async function watch(page: Page): Promise<Watched> {
  const w: Watched = { violations: [], pageErrors: [], consoleErrors: [] };
  await page.exposeBinding('__pitwallTestViolation', (_src, v: string) => {
    w.violations.push(v);
  });
  // A string, not a function: this file is type-checked without the DOM library.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    window.__pitwallTestViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' (' + e.sourceFile + ':' + e.lineNumber + ')'));`);
  page.on('pageerror', (e) => w.pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') w.consoleErrors.push(`${m.text()} (${m.location().url})`);
  });
  return w;
}

export interface HostServer {
  origin: string;
  close(): Promise<void>;
}

export type Routes = Record<string, { body: string; type: string; headers?: Record<string, string> }>;

/** A tiny web server for host pages: `routes` maps a path to its body, type and headers (read per request, so it may be filled later). */
export async function hostServer(routes: Routes): Promise<HostServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const r = routes[(req.url ?? '/').split('?')[0] ?? '/'];
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (!r) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': r.type, 'cache-control': 'no-store', ...r.headers }).end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (a server bound and closed again). */
export async function closedPort(): Promise<number> {
  const s = await hostServer({});
  await s.close();
  return Number(new URL(s.origin).port);
}

/** Exit intent as a desktop browser sees it: the pointer leaves the viewport through the top edge. */
export async function leaveThroughTop(page: Page): Promise<void> {
  await page.mouse.move(400, 300);
  await page.mouse.move(400, 2, { steps: 4 });
  await page.mouse.move(400, -10, { steps: 2 });
}
