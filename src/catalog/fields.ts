/**
 * Field rules shared by every import: how one JSON value or one CSV cell becomes a checked
 * value of a record, and how a checked patch merges onto the stored record (JSON Merge
 * Patch, RFC 7396, one level deep: absent keeps, `null` clears, `attributes` merge by key).
 */
import { splitFitmentCell, validateFitment } from './fitment.ts';
import { CODES, describe, hasControlChars, type Issue, isPlainObject, issue, pointerToken } from './issues.ts';

export type FieldSpec =
  /** Part of the record's key: required, never cleared. */
  | { type: 'key' }
  | {
      type: 'text';
      max: number;
      /** Must be given for a new record and cannot be cleared. */
      required?: boolean;
      upper?: boolean;
      /** Returns a message when the (trimmed) text is not acceptable. */
      check?: (s: string) => string | undefined;
    }
  | { type: 'number'; required?: boolean; min?: number; max?: number; integer?: boolean }
  | { type: 'boolean' }
  | { type: 'attributes' }
  | { type: 'fitment' };

export type Spec = Record<string, FieldSpec>;

/** The rule for field `name`, own properties only (`valueOf`, `constructor`… are unknown fields, not Object's). */
export function fieldOf(spec: Spec, name: string): FieldSpec | undefined {
  return Object.hasOwn(spec, name) ? spec[name] : undefined;
}

/** A record as the API shows it: snake_case fields, `null` for absent optional ones. */
export type ApiRecord = Record<string, unknown>;

export const MAX_ATTRIBUTES_BYTES = 16 * 1024;

/** Checks one JSON value of field `name`; `null` means "clear" and is allowed where the field may be cleared. */
function checkValue(name: string, spec: FieldSpec, v: unknown): { value: unknown } | Issue[] {
  const at = `/${pointerToken(name)}`;
  const clearable =
    spec.type === 'boolean' || spec.type === 'attributes' || spec.type === 'fitment' || !('required' in spec && spec.required);
  if (v === null || (typeof v === 'string' && v.trim() === '' && spec.type !== 'key')) {
    if (spec.type === 'key' || !clearable) return [issue(CODES.required, at, `${name} is required and cannot be empty`)];
    return { value: null };
  }
  switch (spec.type) {
    case 'key': {
      if (typeof v !== 'string') return [issue(CODES.invalid, at, `${name} must be a string, not ${describe(v)}`)];
      const s = v.trim();
      if (s === '') return [issue(CODES.required, at, `${name} is required and cannot be empty`)];
      if (s.length > 128 || hasControlChars(s))
        return [issue(CODES.invalid, at, `${name} must be 1–128 characters without control characters`)];
      return { value: s };
    }
    case 'text': {
      if (typeof v !== 'string') return [issue(CODES.invalid, at, `${name} must be a string, not ${describe(v)}`)];
      const s = spec.upper ? v.trim().toUpperCase() : v.trim();
      if (s.length > spec.max) return [issue(CODES.invalid, at, `${name} must be at most ${spec.max} characters`)];
      if (hasControlChars(s)) return [issue(CODES.invalid, at, `${name} must not contain control characters`)];
      const bad = spec.check?.(s);
      return bad ? [issue(CODES.invalid, at, `${name} ${bad}`)] : { value: s };
    }
    case 'number': {
      // Feeds often send numbers as strings ("19.99", as Shopify does): read them as a CSV cell would be.
      if (typeof v === 'string') {
        const r = cellValue(name, spec, v);
        return Array.isArray(r) ? r : checkValue(name, spec, r.value);
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) return [issue(CODES.invalid, at, `${name} must be a number, not ${describe(v)}`)];
      if (spec.integer && !Number.isInteger(v)) return [issue(CODES.invalid, at, `${name} must be a whole number`)];
      if (spec.min !== undefined && v < spec.min) return [issue(CODES.invalid, at, `${name} must be at least ${spec.min}`)];
      if (spec.max !== undefined && v > spec.max) return [issue(CODES.invalid, at, `${name} must be at most ${spec.max}`)];
      return { value: v };
    }
    case 'boolean':
      if (typeof v === 'string') return cellValue(name, spec, v);
      return typeof v === 'boolean' ? { value: v } : [issue(CODES.invalid, at, `${name} must be true or false, not ${describe(v)}`)];
    case 'attributes': {
      if (!isPlainObject(v)) return [issue(CODES.invalid, at, `${name} must be an object of name → value`)];
      for (const k of Object.keys(v))
        if (k.length === 0 || k.length > 64 || hasControlChars(k) || k === '__proto__')
          return [
            issue(
              CODES.invalid,
              `${at}/${pointerToken(k)}`,
              'attribute names are 1–64 characters without control characters (and not __proto__)',
            ),
          ];
      if (JSON.stringify(v).length > MAX_ATTRIBUTES_BYTES)
        return [issue(CODES.invalid, at, `${name} must be at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON`)];
      return { value: v };
    }
    case 'fitment':
      return validateFitment(v, at);
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

/** Reads one CSV cell of field `name` as the JSON value it stands for; an empty cell is `null` (clear). */
export function cellValue(name: string, spec: FieldSpec, cell: string): { value: unknown } | Issue[] {
  const s = cell.trim();
  const at = `/${pointerToken(name)}`;
  if (s === '') return { value: null };
  switch (spec.type) {
    case 'number':
      if (NUMBER.test(s)) return { value: Number(s) };
      if (/^[+-]?\d+,\d+$/.test(s)) return [issue(CODES.invalid, at, `${name} must use "." as the decimal point (got "${s}")`)];
      return [issue(CODES.invalid, at, `${name} must be a number, not "${s}"`)];
    case 'boolean':
      if (TRUE.has(s.toLowerCase())) return { value: true };
      if (FALSE.has(s.toLowerCase())) return { value: false };
      return [issue(CODES.invalid, at, `${name} must be true/false, yes/no or 1/0, not "${s}"`)];
    case 'fitment':
      // Entries are checked with the rest of the record (validatePatch), once.
      return splitFitmentCell(s, at);
    case 'attributes': {
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        v = undefined;
      }
      return isPlainObject(v)
        ? { value: v }
        : [issue(CODES.invalid, at, `${name} must be a JSON object (or use attributes.<name> columns)`)];
    }
    default:
      return { value: s };
  }
}

/**
 * Checks a record's fields into a patch. Read-only fields (`created_at`, …) are ignored, so a
 * record fetched from the API can be sent back as it is.
 */
export function validatePatch(spec: Spec, readOnly: ReadonlySet<string>, raw: unknown): { patch: ApiRecord; issues: Issue[] } {
  const patch: ApiRecord = {};
  const issues: Issue[] = [];
  if (!isPlainObject(raw)) return { patch, issues: [issue(CODES.invalid, '', `a record must be a JSON object, not ${describe(raw)}`)] };
  for (const [k, v] of Object.entries(raw)) {
    if (readOnly.has(k)) continue;
    const field = fieldOf(spec, k);
    if (!field) {
      issues.push(issue(CODES.unknown, `/${pointerToken(k)}`, `unknown field "${k}"; put your own fields in "attributes"`));
      continue;
    }
    const r = checkValue(k, field, v);
    if (Array.isArray(r)) issues.push(...r);
    else patch[k] = r.value;
  }
  for (const [k, field] of Object.entries(spec))
    if (field.type === 'key' && !(k in raw)) issues.push(issue(CODES.required, `/${pointerToken(k)}`, `${k} is required`));
  return { patch, issues };
}

/** The record after applying `patch` to `current` (or to `defaults` for a new record). */
export function mergePatch(spec: Spec, defaults: ApiRecord, current: ApiRecord | undefined, patch: ApiRecord): ApiRecord {
  const out: ApiRecord = { ...defaults, ...current };
  for (const [k, v] of Object.entries(patch)) {
    const field = fieldOf(spec, k);
    if (field?.type === 'attributes') {
      const merged = v === null ? [] : Object.entries({ ...(out[k] as Record<string, unknown> | undefined), ...(v as object) });
      out[k] = Object.fromEntries(merged.filter(([, av]) => av !== null));
    } else if (v === null) out[k] = field?.type === 'boolean' ? false : field?.type === 'fitment' ? [] : null;
    else out[k] = v;
  }
  return out;
}

/** Issues for required fields a new record lacks. */
export function missingRequired(spec: Spec, record: ApiRecord, what: string): Issue[] {
  return Object.entries(spec)
    .filter(([k, f]) => 'required' in f && f.required && (record[k] === null || record[k] === undefined))
    .map(([k]) => issue(CODES.required, `/${pointerToken(k)}`, `${k} is required for a new ${what}`));
}
