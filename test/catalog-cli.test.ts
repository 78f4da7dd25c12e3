/** `pitwall catalog import|list|show` as real child processes, with the server stopped. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { outputOf, PITWALL_BIN } from './support/process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-catalog-cli-'));
const dataDir = path.join(dir, 'data');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITWALL_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { PITWALL_DATA_DIR: dataDir, PITWALL_LOG_LEVEL: 'warn' });
  return outputOf(spawn(process.execPath, [PITWALL_BIN, ...args], { cwd: ROOT, env }));
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

// Each test runs two or three CLI processes; on a busy machine each start takes seconds.
describe('pitwall catalog', { timeout: 90_000 }, () => {
  it('imports a CSV, prints a summary and each rejected row, and exits 1', async () => {
    const csv = file(
      'products.csv',
      'sku,name,category,price,fitment\nBRK-1,Front pads,Brakes,64.90,Ford|F-150|2015-2020|3.5L\nBRK-2,Rear pads,Brakes,-4,\n',
    );
    const dry = await cli('catalog', 'import', csv, '--dry-run');
    expect(dry.stdout).toContain('products: 1 applied (1 new, 0 updated), 1 rejected (dry run: nothing written)');

    const r = await cli('catalog', 'import', csv);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('products: 1 applied (1 new, 0 updated), 1 rejected');
    expect(r.stdout).toMatch(/row 3 \(line 3\)\tBRK-2\tPW_CATALOG_FIELD_INVALID\t\/price\tprice must be at least 0/);

    const show = await cli('catalog', 'show', 'BRK-1');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      sku: 'BRK-1',
      price: 64.9,
      fitment: [{ make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020, engine: '3.5L' }],
    });
  });

  it('imports reference data from one JSON file in dependency order and lists products', async () => {
    const json = file(
      'reference.json',
      JSON.stringify({
        lanes: [{ carrier_id: 'dhl', origin: 'DE-HAM-1', destination: 'DE-BY', transit_hours_p50: 24, transit_hours_p90: 48 }],
        carriers: [{ id: 'dhl', name: 'DHL' }],
        warehouses: [{ id: 'DE-HAM-1', name: 'Hamburg' }],
      }),
    );
    const r = await cli('catalog', 'import', json, '--json');
    expect(r.code, r.stderr).toBe(0);
    const results = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; upserted: number });
    expect(results.map((x) => [x.kind, x.upserted])).toEqual([
      ['warehouses', 1],
      ['carriers', 1],
      ['lanes', 1],
    ]);

    const list = await cli('catalog', 'list');
    expect(list.stdout.trim()).toBe('BRK-1\tFront pads\tBrakes\t64.9');
  });

  it('explains a file it cannot read, without a stack trace', async () => {
    const r = await cli('catalog', 'import', file('catalog.xml', '<x/>'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pitwall: .*name a \.csv or \.json file/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const missing = await cli('catalog', 'import', path.join(dir, 'nope.csv'));
    expect(missing.stderr).toMatch(/^pitwall: cannot read/);
  });
});
