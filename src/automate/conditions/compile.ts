/**
 * Compiling one expression in a scope: parse (structural limits), type-check against the
 * declared variables, check the result type and the comprehension nesting, and return an
 * evaluator that never throws — a run-time error or a spent budget is `{ ok: false, error }`.
 */
import type { ParseResult } from '@marcbachmann/cel-js';
import { AppError } from '../../core/index.ts';
import { BudgetExceeded } from './convert.ts';
import type { Activation, ConditionScope } from './environment.ts';
import { type ObjectShape, objectShapesIn } from './shapes.ts';

/** What an expression must produce: `key` is a string or a list of strings (a correlation key). */
export type ExpectedType = 'bool' | 'string' | 'key' | 'any';

export type EvalResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** A problem at a character range of the expression (0-based, end exclusive). */
export interface CompileProblem {
  code: 'PW_WORKFLOW_CEL';
  message: string;
  start: number;
  end: number;
}

export interface CompiledExpression {
  readonly source: string;
  /** The CEL type the checker inferred (`bool`, `string`, `dyn`, …). */
  readonly type: string;
  /** The declared variables the expression reads (load only these). */
  readonly variables: ReadonlySet<string>;
  /** The value, as CEL produced it (BigInt ints, Date timestamps); use `fromCel` for JSON. */
  evaluate(activation: Activation): EvalResult<unknown>;
}

export interface CompiledCondition extends CompiledExpression {
  evaluate(activation: Activation): EvalResult<boolean>;
}

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'transformList', 'transformMap']);

interface Node {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
}
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).op === 'string' && 'args' in v;

/** Root identifiers read and the deepest comprehension nesting (with the node where it happens). */
function analyse(root: unknown): { ids: Set<string>; nesting: number; deepest: Node | undefined } {
  const ids = new Set<string>();
  let nesting = 0;
  let deepest: Node | undefined;
  const visit = (v: unknown, depth: number): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth);
      return;
    }
    if (!isNode(v)) return;
    if (v.op === 'id' && typeof v.args === 'string') ids.add(v.args);
    if (v.op === 'rcall' && Array.isArray(v.args) && typeof v.args[0] === 'string' && MACROS.has(v.args[0])) {
      visit(v.args[1], depth);
      if (depth + 1 > nesting) {
        nesting = depth + 1;
        deepest = v;
      }
      visit(v.args[2], depth + 1);
      return;
    }
    visit(v.args, depth);
  };
  visit(root, 0);
  return { ids, nesting, deepest };
}

/** Edit distance where swapping two neighbours counts as one edit ("vlaue" → "value"). */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number) => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++)
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  return at(a.length, b.length);
}

/** "did you mean …?" among `names`, when one is close (one edit for short words, two for longer). */
export function suggest(word: string, names: Iterable<string>): string {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of names) {
    const dd = distance(word.toLowerCase(), n.toLowerCase());
    if (dd < bestD) {
      bestD = dd;
      best = n;
    }
  }
  return best !== undefined && bestD <= (word.length <= 4 ? 1 : 2) ? ` (did you mean "${best}"?)` : '';
}

interface CelErrorLike {
  code?: string;
  summary?: string;
  message?: string;
  range?: { start: number; end: number };
  node?: unknown;
}

/** A readable message for a checker error, with a suggestion for a misspelt field or variable. */
function explain(e: CelErrorLike, scope: ConditionScope, types: Map<string, ObjectShape>): string {
  const summary = e.summary ?? e.message ?? String(e);
  if (e.code === 'no_such_key' && isNode(e.node) && Array.isArray(e.node.args)) {
    const [receiver, key] = e.node.args as [unknown, unknown];
    const typeName = isNode(receiver) ? (receiver as { checkedType?: { name?: string } }).checkedType?.name : undefined;
    const t = typeName ? types.get(typeName) : undefined;
    if (t && typeof key === 'string') {
      const fields = Object.keys(t.fields);
      return `${t.name} has no field "${key}"${suggest(key, fields)}; its fields: ${fields.join(', ')}`;
    }
  }
  if (e.code === 'unknown_variable') {
    const name = /Unknown variable: (\S+)/.exec(summary)?.[1];
    if (name) return `unknown variable "${name}"${suggest(name, scope.variables)}; here you can use: ${scope.variables.join(', ')}`;
  }
  return summary;
}

function resultFits(type: string, expect: ExpectedType): boolean {
  if (type === 'dyn' || expect === 'any') return true;
  if (expect === 'bool') return type === 'bool';
  if (expect === 'string') return type === 'string';
  return type === 'string' || type === 'list<string>' || type === 'list' || type === 'list<dyn>';
}

const EXPECTED: Record<ExpectedType, string> = { bool: 'a bool', string: 'a string', key: 'a string or a list of strings', any: 'a value' };

function runtimeFits(v: unknown, expect: ExpectedType): boolean {
  if (expect === 'bool') return typeof v === 'boolean';
  if (expect === 'string') return typeof v === 'string';
  if (expect === 'key') return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  return true;
}

function describeError(e: unknown, source: string): string {
  if (e instanceof BudgetExceeded) return e.reason;
  const err = e as CelErrorLike;
  const summary = err.summary ?? err.message ?? String(e);
  const at = err.range && err.range.end > err.range.start ? ` at "${source.slice(err.range.start, err.range.end)}"` : '';
  return `${summary}${at}`;
}

export function compileIn(
  scope: ConditionScope,
  source: string,
  expect: ExpectedType,
): { ok: true; expression: CompiledExpression } | { ok: false; problem: CompileProblem } {
  const fail = (message: string, start: number, end: number) => ({
    ok: false as const,
    problem: { code: 'PW_WORKFLOW_CEL' as const, message, start, end: Math.max(end, start) },
  });
  if (source.trim() === '') return fail('the expression is empty', 0, 0);
  let fn: ParseResult;
  try {
    fn = scope.cel.parse(source);
  } catch (e) {
    const err = e as CelErrorLike;
    return fail(`syntax error: ${err.summary ?? err.message ?? String(e)}`, err.range?.start ?? 0, err.range?.end ?? source.length);
  }
  const checked = fn.check();
  const types = new Map<string, ObjectShape>();
  for (const name of scope.variables) {
    const s = scope.shapeOf(name);
    if (s) for (const o of objectShapesIn(s)) types.set(o.name, o);
  }
  if (!checked.valid) {
    const err = (checked.error ?? {}) as CelErrorLike;
    return fail(explain(err, scope, types), err.range?.start ?? 0, err.range?.end ?? source.length);
  }
  const type = checked.type ?? 'dyn';
  if (!resultFits(type, expect)) return fail(`the expression must be ${EXPECTED[expect]}, but it is ${type}`, 0, source.length);
  const { ids, nesting, deepest } = analyse(fn.ast);
  if (nesting > scope.limits.maxComprehensionNesting)
    return fail(
      `comprehensions (all, exists, map, filter, …) may be nested at most ${scope.limits.maxComprehensionNesting} deep`,
      deepest?.start ?? 0,
      deepest?.end ?? source.length,
    );
  const variables = new Set([...ids].filter((id) => scope.variables.includes(id)));
  const meter = scope.meter;
  const expression: CompiledExpression = {
    source,
    type,
    variables,
    evaluate(activation: Activation): EvalResult<unknown> {
      let ctx: Record<string, unknown>;
      try {
        ctx = scope.context(activation);
      } catch (e) {
        return { ok: false, error: describeError(e, source) };
      }
      meter.start();
      try {
        const value: unknown = fn(ctx);
        if (meter.exceeded) return { ok: false, error: meter.exceeded };
        if (value instanceof Promise) return { ok: false, error: 'the expression is asynchronous' };
        if (!runtimeFits(value, expect))
          return { ok: false, error: `expected ${EXPECTED[expect]}, got ${value === null ? 'null' : typeof value}` };
        return { ok: true, value };
      } catch (e) {
        return { ok: false, error: meter.exceeded ?? describeError(e, source) };
      } finally {
        meter.stop();
      }
    },
  };
  return { ok: true, expression };
}

/**
 * Compiles one expression for the runner (`expect` defaults to bool: a condition). A problem is
 * `PW_CONDITION_INVALID`; expressions of a validated workflow never have one.
 */
export function compileCondition(expr: string, scope: ConditionScope): CompiledCondition {
  const r = scope.compile(expr, 'bool');
  if (!r.ok) throw new AppError('PW_CONDITION_INVALID', `condition "${expr}": ${r.problem.message}`);
  return r.expression as CompiledCondition;
}

/** Like `compileCondition` for an expression of any (or the `expect`ed) type. */
export function compileExpression(expr: string, scope: ConditionScope, expect: ExpectedType = 'any'): CompiledExpression {
  const r = scope.compile(expr, expect);
  if (!r.ok) throw new AppError('PW_CONDITION_INVALID', `expression "${expr}": ${r.problem.message}`);
  return r.expression;
}
