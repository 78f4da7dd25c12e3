import { describe, expect, it } from 'vitest';
import { parseWorkflow } from '../definitions/validate.ts';
import { allPaths, branchStart, nextPath, stepAt } from './paths.ts';
import { render } from './template.ts';
import type { Step } from './types.ts';

const parsed = parseWorkflow(`
schemaVersion: 1
id: paths
name: Paths
trigger: { event: cart.abandoned }
steps:
  - action: a
  - if: x
    then:
      - action: b
      - if: y
        then:
          - action: c
    else:
      - action: d
  - wait: 1h
`);
const STEPS = parsed.definition?.steps as Step[];
const act = (action: string) => ({ kind: 'action', action, with: {} });

describe('step paths', () => {
  it('finds steps by path and rejects paths outside the tree', () => {
    expect(stepAt(STEPS, 'steps.1.then.1.then.0')).toEqual(act('c'));
    expect(stepAt(STEPS, 'steps.1.else.0')).toEqual(act('d'));
    for (const bad of ['steps.9', 'steps.0.then.0', 'then.0', 'steps.-1', 'steps.1.then', 'steps.x'])
      expect(stepAt(STEPS, bad)).toBeUndefined();
  });

  it('goes to the next sibling, out of finished branches, and ends after the last step', () => {
    expect(nextPath(STEPS, 'steps.0')).toBe('steps.1');
    expect(nextPath(STEPS, 'steps.1.then.0')).toBe('steps.1.then.1');
    expect(nextPath(STEPS, 'steps.1.then.1.then.0')).toBe('steps.2');
    expect(nextPath(STEPS, 'steps.1.else.0')).toBe('steps.2');
    expect(nextPath(STEPS, 'steps.2')).toBeUndefined();
    expect(branchStart(STEPS, 'steps.1.then.1', 'else')).toBeUndefined();
    expect(branchStart(STEPS, 'steps.1', 'then')).toBe('steps.1.then.0');
  });

  it('lists every path depth first', () => {
    expect(allPaths(STEPS).map((p) => p.path)).toEqual([
      'steps.0',
      'steps.1',
      'steps.1.then.0',
      'steps.1.then.1',
      'steps.1.then.1.then.0',
      'steps.1.else.0',
      'steps.2',
    ]);
  });
});

describe('templates', () => {
  const values: Record<string, unknown> = { 'cart.value': 80.5, 'cart.id': 'c-1', n: 3 };
  const evaluate = (e: string) => (e in values ? { ok: true as const, value: values[e] } : { ok: false as const, error: `no ${e}` });

  it('keeps the value of a whole-string template and interpolates the rest as text', () => {
    expect(render({ v: '{{ cart.value }}', t: 'cart {{cart.id}} x{{ n }}', l: ['{{ n }}'], k: 7 }, evaluate)).toEqual({
      ok: true,
      value: { v: 80.5, t: 'cart c-1 x3', l: [3], k: 7 },
    });
  });

  it('leaves the params an executor renders itself and reports the first failure with its pointer', () => {
    expect(render({ subject: 'Hi {{ name }}', a: { 'b/c': '{{ nope }}' } }, evaluate, { skip: ['subject'] })).toEqual({
      ok: false,
      pointer: '/a/b~1c',
      expression: 'nope',
      error: 'no nope',
    });
  });
});
