/**
 * The dashboard build's disk cache (src/dashboard/build.ts): an entry under the hash of the build's
 * inputs is served as it is; a damaged entry means building again with Vite, and the fresh build
 * replaces it (older entries are dropped). Each case imports a fresh copy of the module, whose
 * in-process cache would otherwise answer.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, test, vi } from 'vitest';

const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-dashboard-cache-'));
const saved = process.env.PITWALL_DASHBOARD_CACHE;

async function fresh(): Promise<typeof import('../src/dashboard/build.ts')> {
  vi.resetModules();
  return import('../src/dashboard/build.ts');
}

beforeEach(() => {
  process.env.PITWALL_DASHBOARD_CACHE = dir;
});
afterAll(() => {
  if (saved === undefined) delete process.env.PITWALL_DASHBOARD_CACHE;
  else process.env.PITWALL_DASHBOARD_CACHE = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard build cache', () => {
  test('the inputs hash is stable, and an entry under it is served without building', async () => {
    const m = await fresh();
    const hash = m.dashboardInputsHash();
    expect(hash).toMatch(/^[0-9a-f]{24}$/);
    expect(m.dashboardInputsHash()).toBe(hash);
    const html = '<!doctype html><title>cached</title>';
    writeFileSync(
      path.join(dir, `${hash}.json`),
      JSON.stringify([
        { fileName: 'index.html', base64: Buffer.from(html).toString('base64') },
        { fileName: 'assets/app-1.js', base64: Buffer.from('export {}').toString('base64') },
      ]),
    );
    const build = await m.dashboardBuild();
    expect(build.files.get('/index.html')?.body.toString()).toBe(html);
    expect(build.files.get('/index.html')?.type).toBe('text/html; charset=utf-8');
    expect(build.files.get('/assets/app-1.js')?.immutable).toBe(true);
  });

  test('a damaged entry is rebuilt with Vite and replaced; stale entries are dropped', async () => {
    const m = await fresh();
    const hash = m.dashboardInputsHash();
    writeFileSync(path.join(dir, `${hash}.json`), '{ not json');
    writeFileSync(path.join(dir, 'ffffffffffffffffffffffff.json'), '[]');
    const build = await m.dashboardBuild();
    const html = build.files.get('/index.html')?.body.toString() ?? '';
    expect(html).toMatch(/<script type="module"[^>]+src="\/assets\/[^"]+\.js"/);
    expect(readdirSync(dir)).toEqual([`${hash}.json`]);
    // The next process reads what this one wrote: the same files, byte for byte.
    const again = await (await fresh()).dashboardBuild();
    expect([...again.files.keys()].sort()).toEqual([...build.files.keys()].sort());
    for (const [k, f] of build.files) expect(again.files.get(k)?.body.equals(f.body)).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, `${hash}.json`), 'utf8'))).toHaveLength(build.files.size);
  }, 120_000);
});
