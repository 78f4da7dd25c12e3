/**
 * Email templates: `{{ name }}` or `{{ a.b.c }}` looks a value up in `vars`. No logic, no
 * helpers, no raw output: in HTML every value is escaped, in a subject line breaks become
 * spaces. A name `vars` does not hold is an error (never an empty hole in a customer's mail).
 */

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

export type TemplateMode = 'text' | 'html' | 'header';

/** Syntax problems of a template (a bad placeholder, an unclosed `{{`). */
export function templateProblems(tpl: string): string[] {
  const out: string[] = [];
  for (const m of tpl.matchAll(PLACEHOLDER)) if (!PATH.test(m[1] ?? '')) out.push(`"{{${m[1]}}}" is not a variable name like order.id`);
  const rest = tpl.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) out.push('has an unmatched {{ or }}');
  return out;
}

/** The variable paths a template uses. */
export function templateVariables(tpl: string): string[] {
  return [...tpl.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').filter((p) => PATH.test(p));
}

function lookup(vars: Record<string, unknown>, path: string): unknown {
  let v: unknown = vars;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Renders `tpl`; throws with the missing names when `vars` lacks any. */
export function renderTemplate(tpl: string, vars: Record<string, unknown>, mode: TemplateMode): string {
  const missing: string[] = [];
  const out = tpl.replace(PLACEHOLDER, (whole, path: string) => {
    if (!PATH.test(path)) return whole;
    const v = lookup(vars, path);
    if (v === undefined || v === null || typeof v === 'object') {
      missing.push(path);
      return '';
    }
    const s = String(v);
    return mode === 'html' ? escapeHtml(s) : mode === 'header' ? s.replace(/[\r\n]+/g, ' ') : s;
  });
  if (missing.length > 0) throw new Error(`no value for ${[...new Set(missing)].map((m) => `{{ ${m} }}`).join(', ')}`);
  return mode === 'header' ? out.replace(/[\r\n]+/g, ' ') : out;
}
