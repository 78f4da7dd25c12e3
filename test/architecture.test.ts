/**
 * The house rules that keep the domains navigable: a domain is entered only through its
 * `index.ts`, and there are no import cycles between files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|mjs)$/.test(f) ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g;

function imports(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => ({
    target: path.resolve(path.dirname(file), m[2] as string),
    typeOnly: m[1] !== undefined,
  }));
}

const domainOf = (file: string) => {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0] : undefined;
};

describe('architecture', () => {
  const all = files(SRC).filter((f) => !f.endsWith('.test.ts'));

  it('enters other domains only through their index.ts', () => {
    const violations: string[] = [];
    for (const f of all) {
      for (const { target } of imports(f)) {
        const from = domainOf(f);
        const to = domainOf(target);
        if (to === undefined || to === from) continue;
        if (path.relative(path.join(SRC, to), target) !== 'index.ts')
          violations.push(`${path.relative(SRC, f)} → ${path.relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('has no import cycles between files (type-only imports aside)', () => {
    const graph = new Map(
      all.map((f) => [
        f,
        imports(f)
          .filter((i) => !i.typeOnly)
          .map((i) => i.target),
      ]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => path.relative(SRC, x)).join(' → '));
        else if (!state.has(t) && graph.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of all) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
