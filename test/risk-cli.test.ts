/** `pitwall risk run`: a scenario file → JSON or a table; a bad file → one clear line and exit 1. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PITWALL_BIN } from './support/process.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-risk-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PITWALL_BIN, ...args], { cwd: ROOT, env: { ...process.env, PITWALL_DATA_DIR: dir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each case spawns the CLI under tsx (10–25 s apiece on a loaded 2-core machine).
describe('pitwall risk run', { timeout: 120_000 }, () => {
  it('runs the example scenario file as JSON, reproducibly', async () => {
    const args = ['risk', 'run', 'scenarios/tight-cash.yaml', '--json', '--no-compare', '--paths', '300', '--threads', '1'];
    const a = await cli(args);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const r = JSON.parse(a.stdout) as { result: { scenario: string; summary: { paths: number; cash: unknown[] } } };
    expect(r.result.scenario).toBe('tight-cash');
    expect(r.result.summary.paths).toBe(300);
    expect(r.result.summary.cash).toHaveLength(91);
    const b = await cli(args);
    expect(JSON.parse(b.stdout).result.summary).toEqual(r.result.summary);
  });

  it('prints the comparison table with the standard what-ifs', async () => {
    const f = path.join(dir, 'short.yaml');
    writeFileSync(f, 'name: short\npaths: 200\nhorizon_days: 28\n');
    const r = await cli(['risk', 'run', f, '--threads', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/P\(cash<floor\)/);
    for (const name of ['short', 'dhl outage 7 days', 'demand +30 %', 'munich-cold failure 5 days', 'supplier price +8 %'])
      expect(r.stdout).toContain(name);
  });

  it('a bad scenario prints the field and exits 1', async () => {
    const f = path.join(dir, 'bad.yaml');
    writeFileSync(f, 'horizon_days: -5\n');
    const r = await cli(['risk', 'run', f]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('pitwall: /horizon_days: must be between 1 and 366 (got -5)');
    const missing = await cli(['risk', 'run', path.join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^pitwall: cannot read/);
  });
});
