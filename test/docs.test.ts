/** Docs that must stay true: every error code used in src/ is catalogued in docs/errors.md. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('docs', () => {
  it('lists every error code that src/ can produce in docs/errors.md', () => {
    const used = new Set(
      files(path.join(ROOT, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'(PW_[A-Z_]+)'/g)].map((m) => m[1] as string)),
    );
    const doc = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
    const missing = [...used].filter((c) => !doc.includes(`\`${c}\``)).sort();
    expect(used.size).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('keeps the README quick start exactly as promised', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
