/** The per-record problems an import reports, with their stable codes (docs/errors.md). */

export const CODES = {
  invalid: 'PW_CATALOG_FIELD_INVALID',
  required: 'PW_CATALOG_FIELD_REQUIRED',
  unknown: 'PW_CATALOG_FIELD_UNKNOWN',
  fitment: 'PW_CATALOG_FITMENT_INVALID',
  duplicate: 'PW_CATALOG_DUPLICATE_KEY',
  csvRow: 'PW_CATALOG_CSV_ROW',
  carrierUnknown: 'PW_LANE_CARRIER_UNKNOWN',
} as const;

/** A problem with one field; `pointer` (RFC 6901) is relative to the record. */
export interface Issue {
  code: string;
  pointer: string;
  message: string;
}

export const issue = (code: string, pointer: string, message: string): Issue => ({ code, pointer, message });

export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value, short, for a message. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return typeof v === 'object' ? 'an object' : String(v);
}

/** Whether `s` holds a control character (U+0000–U+001F, U+007F). */
export function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
