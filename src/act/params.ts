/**
 * Parameter checks shared by the executors. One spec checks both the workflow file (where a
 * string may still hold a `{{ … }}` template the runner renders later: `rendered: false`) and
 * the rendered params at execution (`rendered: true`, where nothing gets that pass).
 */
import { NonRetriableError } from './errors.ts';
import type { ParamProblem } from './types.ts';

export interface CheckCtx {
  rendered: boolean;
  out: ParamProblem[];
}

/** Checks one value at `pointer`; adds problems to `ctx.out`. */
export type Check = (v: unknown, pointer: string, ctx: CheckCtx) => void;

export interface Field {
  required?: boolean;
  check: Check;
}

const TEMPLATE = /\{\{[\s\S]*?\}\}/;

/** A string the runner will still render. */
export function isTemplated(v: unknown): boolean {
  return typeof v === 'string' && TEMPLATE.test(v);
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Checks `params` against `fields`; unknown fields are problems (a typo should not pass silently). */
export function checkObject(
  params: unknown,
  fields: Record<string, Field>,
  ctx: CheckCtx,
  pointer = '',
): Record<string, unknown> | undefined {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    ctx.out.push({ pointer, message: 'must be an object' });
    return undefined;
  }
  const p = params as Record<string, unknown>;
  for (const [k, f] of Object.entries(fields)) {
    if (p[k] === undefined || p[k] === null) {
      if (f.required) ctx.out.push({ pointer: `${pointer}/${escapePointer(k)}`, message: 'is required' });
    } else f.check(p[k], `${pointer}/${escapePointer(k)}`, ctx);
  }
  for (const k of Object.keys(p))
    if (!(k in fields))
      ctx.out.push({ pointer: `${pointer}/${escapePointer(k)}`, message: `unknown parameter (known: ${Object.keys(fields).join(', ')})` });
  return p;
}

export function validate(
  params: unknown,
  fields: Record<string, Field>,
  rendered: boolean,
  extra?: (p: Record<string, unknown>, ctx: CheckCtx) => void,
): ParamProblem[] {
  const ctx: CheckCtx = { rendered, out: [] };
  const p = checkObject(params, fields, ctx);
  if (p && extra) extra(p, ctx);
  return ctx.out;
}

/** At execution: rendered params must pass, else the action can never succeed. */
export function requireValid(type: string, problems: ParamProblem[]): void {
  if (problems.length === 0) return;
  const text = problems.map((p) => `${p.pointer || '/'} ${p.message}`).join('; ');
  throw new NonRetriableError(`${type} params: ${text}`, { code: 'PW_ACTION_PARAMS_INVALID' });
}

/** A string of 1..max characters. */
export const str =
  (max = 1000): Check =>
  (v, pointer, ctx) => {
    if (typeof v !== 'string' || v === '' || v.length > max) ctx.out.push({ pointer, message: `must be a string of 1–${max} characters` });
  };

/** One of `values` (or a template, before rendering). */
export const oneOf =
  (values: readonly string[]): Check =>
  (v, pointer, ctx) => {
    if (!ctx.rendered && isTemplated(v)) return;
    if (typeof v !== 'string' || !values.includes(v)) ctx.out.push({ pointer, message: `must be one of ${values.join(', ')}` });
  };

/** A finite number in [min, max] (or a template, before rendering). */
export const num =
  (min: number, max: number): Check =>
  (v, pointer, ctx) => {
    if (!ctx.rendered && isTemplated(v)) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      ctx.out.push({ pointer, message: `must be a number from ${min} to ${max}` });
  };

/** A JSON object (any content). */
export const obj: Check = (v, pointer, ctx) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) ctx.out.push({ pointer, message: 'must be an object' });
};

/** An object whose values are strings. */
export const stringMap =
  (keyPattern: RegExp, keyHint: string): Check =>
  (v, pointer, ctx) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      ctx.out.push({ pointer, message: 'must be an object of strings' });
      return;
    }
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!keyPattern.test(k)) ctx.out.push({ pointer: `${pointer}/${escapePointer(k)}`, message: keyHint });
      else if (typeof x !== 'string' || x.length > 2000 || /[\r\n\0]/.test(x))
        ctx.out.push({ pointer: `${pointer}/${escapePointer(k)}`, message: 'must be a one-line string of at most 2000 characters' });
    }
  };

const DURATION = /^(\d{1,9})\s*(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30m`, `2h`, `7d` → ms; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** A duration string between min and max ms. */
export const duration =
  (minMs: number, maxMs: number): Check =>
  (v, pointer, ctx) => {
    if (!ctx.rendered && isTemplated(v)) return;
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined || ms < minMs || ms > maxMs)
      ctx.out.push({
        pointer,
        message: `must be a duration like 30m, 24h or 7d, from ${minMs / 60_000} minutes to ${maxMs / 86_400_000} days`,
      });
  };

const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** A bare email address. */
export function isEmailAddress(v: string): boolean {
  return v.length <= 254 && ADDRESS.test(v);
}

/** One address or a list of up to 50 (or templates, before rendering). */
export const emailList: Check = (v, pointer, ctx) => {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > 50) ctx.out.push({ pointer, message: 'must name 1–50 addresses' });
  for (const [i, a] of list.entries()) {
    const p = Array.isArray(v) ? `${pointer}/${i}` : pointer;
    if (!ctx.rendered && isTemplated(a)) continue;
    if (typeof a !== 'string' || !isEmailAddress(a))
      ctx.out.push({ pointer: p, message: 'must be an email address like name@example.com' });
  }
};

/** An absolute http(s) URL without credentials (or a template, before rendering). */
export const httpUrl: Check = (v, pointer, ctx) => {
  if (!ctx.rendered && isTemplated(v)) return;
  if (typeof v !== 'string' || v.length > 2000) {
    ctx.out.push({ pointer, message: 'must be an http(s) URL of at most 2000 characters' });
    return;
  }
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    ctx.out.push({ pointer, message: 'must be an absolute http(s) URL' });
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') ctx.out.push({ pointer, message: 'must use http or https' });
  else if (u.username !== '' || u.password !== '') ctx.out.push({ pointer, message: 'must not carry credentials; use a signing secret' });
};
