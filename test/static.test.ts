/**
 * The type checker and the linter are part of the suite, so `npm test` (and CI) fails on a
 * type error, an `any`, or a lint rule broken anywhere in src/, test/, bench/ or bin/.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

describe('static checks', () => {
  it('type-checks under strict + noUncheckedIndexedAccess with no errors', () => {
    const r = spawnSync(bin('tsc'), ['--noEmit', '-p', '.'], { cwd: ROOT, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  }, 180_000);

  it('passes the Biome linter and formatter', () => {
    const r = spawnSync(bin('biome'), ['check', 'src', 'test', 'bench', 'bin'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 60_000);
});
