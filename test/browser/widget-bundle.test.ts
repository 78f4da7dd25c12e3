/**
 * What can be checked about the browser code without a browser: `/widget.js` is one small
 * bundle (< 15 KB gzipped) with no eval / `new Function`; no source writes inline styles or
 * markup; the browser code type-checks against the DOM library; the demo shop's pages carry the
 * strict CSP and no inline script or style; its backend answers an empty catalogue and an
 * unknown SKU plainly.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, listKeys } from '../../src/govern/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BROWSER_DIRS = ['src/storefront/widget', 'src/storefront/shop/scripts'].map((d) => path.join(ROOT, d));
const sources = () =>
  BROWSER_DIRS.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ file: path.relative(ROOT, path.join(d, f)), text: readFileSync(path.join(d, f), 'utf8') })),
  );

describe('the widget bundle and the demo shop pages', () => {
  let server: TestServer;
  let base: string;
  let earlier: string;
  beforeAll(async () => {
    server = await startTestServer({ name: 'widget-bundle', env: { PITWALL_DEMO_SHOP: 'on' } });
    base = server.pw.httpUrl;
    // A key an earlier run of the shop left behind.
    earlier = (
      await createKey(server.pw.store.db, server.pw.clock, { name: 'demo shop (automatic) write key http://old', scopes: ['ingest'] })
    ).info.id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves /widget.js as one script under 15 KB gzipped, with no eval or new Function', async () => {
    const res = await fetch(`${base}/widget.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const code = await res.text();
    const { gzipSync } = await import('node:zlib');
    const gz = gzipSync(code, { level: 9 });
    expect(gunzipSync(gz).toString()).toBe(code);
    console.log(`widget.js: ${code.length} bytes, ${gz.length} gzipped`);
    expect(gz.length).toBeLessThan(15 * 1024);
    expect(code).not.toMatch(/\beval\s*\(|new\s+Function\s*\(|\bFunction\s*\(\s*['"`]/);
    expect(code.startsWith('(()=>{') || code.startsWith('"use strict";(()=>{')).toBe(true);
  });

  it('keeps the browser sources free of inline styles, innerHTML and string timers', () => {
    const bad: string[] = [];
    for (const { file, text } of sources()) {
      for (const [name, re] of [
        ['style attribute or property', /setAttribute\(\s*['"]style['"]|\.style\.|\.cssText|['"]style['"]\s*:/],
        ['innerHTML / outerHTML / insertAdjacentHTML', /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/],
        ['eval / Function', /\beval\s*\(|new\s+Function\b/],
        ['string timer', /set(Timeout|Interval)\(\s*['"`]/],
      ] as const)
        if (re.test(text)) bad.push(`${file}: ${name}`);
    }
    expect(bad).toEqual([]);
  });

  it('type-checks the browser code against the DOM library', async () => {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const run = promisify(execFile);
    const out = await run(process.execPath, [tsc, '--noEmit', '-p', 'src/storefront/widget'], { cwd: ROOT }).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? String(e),
    );
    expect(out).toBe('');
  });

  it('serves /widget.css as a stylesheet any page may link', async () => {
    const res = await fetch(`${base}/widget.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/css');
    expect(await res.text()).toContain('prefers-reduced-motion');
  });

  it('serves every demo shop page with the strict CSP, no inline script or style, and the widget tag with a publishable key', async () => {
    for (const route of ['/demo/shop', '/demo/shop/product/NOPE-1', '/demo/shop/cart', '/demo/shop/checkout', '/demo/shop/order/o-1']) {
      const res = await fetch(`${base}${route}`);
      expect(res.status, route).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain('unsafe');
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=/);
      expect(html).toMatch(/<script src="\/widget\.js" data-key="pk_[A-Za-z0-9_-]+"/);
      expect(html).toMatch(/<meta name="pitwall-write-key" content="pw_[A-Za-z0-9_-]+">/);
    }
  });

  it('creates the shop keys once per origin and replaces those of an earlier run', async () => {
    const keyOf = async () => /data-key="(pk_[^"]+)"/.exec(await (await fetch(`${base}/demo/shop`)).text())?.[1];
    const first = await keyOf();
    expect(await keyOf()).toBe(first);
    const keys = await listKeys(server.pw.store.db);
    const live = keys.filter((k) => k.name.startsWith('demo shop') && k.revokedAt === null);
    expect(live.map((k) => k.scopes.join(','))).toEqual(['publishable', 'ingest']);
    expect(live[0]?.origins).toEqual([base]);
    expect(keys.find((k) => k.id === earlier)?.revokedAt).not.toBeNull();
  });

  it('serves no demo shop (and so no write key) unless PITWALL_DEMO_SHOP is on', async () => {
    const plain = await startTestServer({ name: 'widget-no-shop' });
    try {
      const url = plain.pw.httpUrl;
      expect((await fetch(`${url}/demo/shop`)).status).toBe(404);
      expect((await fetch(`${url}/demo/shop/api/products`)).status).toBe(404);
      expect((await fetch(`${url}/widget.js`)).status).toBe(200); // the widget itself is always there
    } finally {
      await plain.close();
    }
  });

  it('answers an empty catalogue and an unknown SKU plainly, and a bad query with problem+json', async () => {
    expect(await (await fetch(`${base}/demo/shop/api/products`)).json()).toEqual({ products: [] });
    expect(await (await fetch(`${base}/demo/shop/api/products/NOPE-1`)).json()).toEqual({ product: null });
    expect(await (await fetch(`${base}/demo/shop/api/destinations`)).json()).toEqual({ destinations: [] });
    const bad = await fetch(`${base}/demo/shop/api/products?q=${'x'.repeat(101)}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });
});
