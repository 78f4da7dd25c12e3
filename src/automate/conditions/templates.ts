/**
 * `{{ expr }}` templates in action parameters. A string that is exactly one template renders to
 * the expression's value (a number stays a number); any other string with templates renders to
 * text. Expressions are compiled in the step's scope, so they are checked at validation time.
 * An expression cannot contain `}}`. Top-level parameters an executor renders itself (its
 * `templateParams`, e.g. an email's `subject` / `text` / `html`) are left as they are.
 */
import type { CompiledExpression, EvalResult } from './compile.ts';
import { fromCel } from './convert.ts';
import type { Activation, ConditionScope } from './environment.ts';

const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;

/** A problem in a template: the JSON pointer of the string (relative to the value given) and the range inside it. */
export interface TemplateProblem {
  pointer: string;
  message: string;
  /** Offsets into the string. */
  start: number;
  end: number;
}

export interface CompiledTemplate {
  /** The declared variables the templates read. */
  readonly variables: ReadonlySet<string>;
  /** The value with every template replaced; the first failing template is the error (with its pointer). */
  render(activation: Activation): EvalResult<unknown> & { pointer?: string };
}

type Part = string | CompiledExpression;
type Node =
  | { kind: 'value'; value: unknown }
  | { kind: 'string'; pointer: string; parts: Part[]; whole: boolean }
  | { kind: 'list'; items: Node[] }
  | { kind: 'object'; entries: [string, Node][] };

const escapePointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

function text(v: unknown): string {
  const j = fromCel(v);
  if (typeof j === 'string') return j;
  if (typeof j === 'number' || typeof j === 'boolean') return String(j);
  return JSON.stringify(j);
}

/** Compiles every template inside `value` (objects, lists, strings); `skip` names top-level keys left as they are. */
export function compileTemplates(
  value: unknown,
  scope: ConditionScope,
  opts: { skip?: readonly string[] } = {},
): { ok: true; template: CompiledTemplate } | { ok: false; problems: TemplateProblem[] } {
  const problems: TemplateProblem[] = [];
  const variables = new Set<string>();
  const build = (v: unknown, pointer: string, depth: number): Node => {
    if (typeof v === 'string') {
      const matches = [...v.matchAll(TEMPLATE)];
      if (matches.length === 0) return { kind: 'value', value: v };
      const parts: Part[] = [];
      let last = 0;
      for (const m of matches) {
        const at = m.index ?? 0;
        if (at > last) parts.push(v.slice(last, at));
        const r = scope.compile(m[1] ?? '', 'any');
        if (!r.ok) problems.push({ pointer, message: r.problem.message, start: at + 2 + r.problem.start, end: at + 2 + r.problem.end });
        else {
          for (const x of r.expression.variables) variables.add(x);
          parts.push(r.expression);
        }
        last = at + m[0].length;
      }
      if (last < v.length) parts.push(v.slice(last));
      return { kind: 'string', pointer, parts, whole: matches.length === 1 && matches[0]?.[0] === v };
    }
    if (depth > 32 || typeof v !== 'object' || v === null) return { kind: 'value', value: v };
    if (Array.isArray(v)) return { kind: 'list', items: v.map((x, i) => build(x, `${pointer}/${i}`, depth + 1)) };
    const entries: [string, Node][] = Object.entries(v).map(([k, x]) => [
      k,
      depth === 0 && opts.skip?.includes(k) ? { kind: 'value', value: x } : build(x, `${pointer}/${escapePointer(k)}`, depth + 1),
    ]);
    return { kind: 'object', entries };
  };
  const root = build(value, '', 0);
  if (problems.length > 0) return { ok: false, problems };

  type Rendered = EvalResult<unknown> & { pointer?: string };
  const render = (n: Node, a: Activation): Rendered => {
    switch (n.kind) {
      case 'value':
        return { ok: true, value: n.value };
      case 'string': {
        let out = '';
        for (const p of n.parts) {
          if (typeof p === 'string') {
            out += p;
            continue;
          }
          const r = p.evaluate(a);
          if (!r.ok) return { ok: false, error: `{{ ${p.source.trim()} }}: ${r.error}`, pointer: n.pointer };
          if (n.whole) return { ok: true, value: fromCel(r.value) };
          out += text(r.value);
        }
        return { ok: true, value: out };
      }
      case 'list': {
        const out: unknown[] = [];
        for (const item of n.items) {
          const r = render(item, a);
          if (!r.ok) return r;
          out.push(r.value);
        }
        return { ok: true, value: out };
      }
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const [k, item] of n.entries) {
          const r = render(item, a);
          if (!r.ok) return r;
          out[k] = r.value;
        }
        return { ok: true, value: out };
      }
    }
  };
  return { ok: true, template: { variables, render: (a) => render(root, a) } };
}
