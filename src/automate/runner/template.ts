/**
 * Action parameters: every string may hold `{{ expr }}` templates, CEL expressions over the
 * run's activation. A string that is exactly one template takes the expression's value (a
 * number stays a number); otherwise each template is replaced by its value as text.
 */
import type { Evaluation } from './ports.ts';

const TEMPLATE = /\{\{\s*([\s\S]+?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([\s\S]+?)\s*\}\}$/;

/** Every template expression in a parameter tree, in order (duplicates kept once). */
export function templateExpressions(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') for (const m of value.matchAll(TEMPLATE)) out.add(m[1] as string);
  else if (Array.isArray(value)) for (const v of value) templateExpressions(v, out);
  else if (isPlainObject(value)) for (const v of Object.values(value)) templateExpressions(v, out);
  return out;
}

export type Rendered = { ok: true; value: unknown } | { ok: false; pointer: string; expression: string; error: string };

/**
 * Renders a parameter tree; the first expression that fails stops it with its JSON pointer.
 * `skip` names top-level keys left as they are (templates an executor renders itself).
 */
export function render(value: unknown, evaluate: (expr: string) => Evaluation<unknown>, opts: { skip?: readonly string[] } = {}): Rendered {
  const walk = (v: unknown, pointer: string, top: boolean): Rendered => {
    if (typeof v === 'string') return renderString(v, pointer, evaluate);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const [i, item] of v.entries()) {
        const r = walk(item, `${pointer}/${i}`, false);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return { ok: true, value: out };
    }
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        if (top && opts.skip?.includes(k)) {
          out[k] = item;
          continue;
        }
        const r = walk(item, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, false);
        if (!r.ok) return r;
        out[k] = r.value;
      }
      return { ok: true, value: out };
    }
    return { ok: true, value: v };
  };
  return walk(value, '', true);
}

function renderString(s: string, pointer: string, evaluate: (expr: string) => Evaluation<unknown>): Rendered {
  const whole = WHOLE.exec(s);
  if (whole && !(whole[1] as string).includes('}}')) {
    const expression = whole[1] as string;
    const r = evaluate(expression);
    return r.ok ? { ok: true, value: toJson(r.value) } : { ok: false, pointer, expression, error: r.error };
  }
  let failed: Rendered | undefined;
  const text = s.replace(TEMPLATE, (_m, expression: string) => {
    if (failed) return '';
    const r = evaluate(expression);
    if (!r.ok) {
      failed = { ok: false, pointer, expression, error: r.error };
      return '';
    }
    const v = toJson(r.value);
    return typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
  return failed ?? { ok: true, value: text };
}

/** A CEL value as plain JSON: ints (bigint) become numbers, timestamps ISO text, maps objects. */
export function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJson(x)]));
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === 'object') {
    // CEL durations and other value types print themselves; typed objects keep their own fields.
    if (!isPlainObject(v) && typeof (v as { toString?: unknown }).toString === 'function' && Object.keys(v).length === 0) return String(v);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
