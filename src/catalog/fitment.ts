/**
 * Fitment entries as the API and files carry them: JSON objects
 * `{ make, model, year_from, year_to?, engine? }`, or in CSV one compact cell
 * `Make|Model|Years[|Engine];…` where Years is `2015-2020`, `2015` or `2015-` (open-ended).
 */
import { CODES, describe, hasControlChars, type Issue, isPlainObject, issue } from './issues.ts';
import { engineKey, makeKey, modelKey } from './keys.ts';

/** A fitment entry in API shape (snake_case, `null` for absent). */
export interface FitmentEntry {
  make: string;
  model: string;
  year_from: number;
  year_to: number | null;
  engine: string | null;
}

export const MIN_YEAR = 1886;
export const MAX_YEAR = 2100;
export const MAX_FITMENT_ENTRIES = 5000;
const ENTRY_FIELDS = new Set(['make', 'model', 'year_from', 'year_to', 'engine']);

function name(v: unknown, field: string, at: string, key: (s: string) => string): string | Issue {
  if (typeof v !== 'string') return issue(CODES.fitment, at, `${field} must be a string, not ${describe(v)}`);
  const s = v.trim();
  if (s.length === 0 || s.length > 64 || hasControlChars(s)) return issue(CODES.fitment, at, `${field} must be 1–64 characters`);
  if (key(s) === '') return issue(CODES.fitment, at, `${field} must contain a letter or digit`);
  return s;
}

function year(raw: unknown, field: string, at: string): number | Issue {
  const v = typeof raw === 'string' && /^\s*\d{4}\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_YEAR || v > MAX_YEAR)
    return issue(CODES.fitment, at, `${field} must be a year from ${MIN_YEAR} to ${MAX_YEAR}, not ${describe(v)}`);
  return v;
}

/** One entry from its JSON form; `at` is the entry's pointer. */
function entry(v: unknown, at: string): FitmentEntry | Issue[] {
  if (!isPlainObject(v)) return [issue(CODES.fitment, at, `a fitment entry must be an object, not ${describe(v)}`)];
  const issues: Issue[] = [];
  for (const k of Object.keys(v))
    if (!ENTRY_FIELDS.has(k))
      issues.push(issue(CODES.fitment, `${at}/${k}`, `unknown fitment field "${k}" (use make, model, year_from, year_to, engine)`));
  const make = name(v.make, 'make', `${at}/make`, makeKey);
  const model = name(v.model, 'model', `${at}/model`, modelKey);
  const from = year(v.year_from, 'year_from', `${at}/year_from`);
  const to = v.year_to === undefined || v.year_to === null ? null : year(v.year_to, 'year_to', `${at}/year_to`);
  const engine =
    v.engine === undefined || v.engine === null || v.engine === '' ? null : name(v.engine, 'engine', `${at}/engine`, engineKey);
  for (const x of [make, model, from, to, engine]) if (typeof x === 'object' && x !== null) issues.push(x);
  if (issues.length > 0) return issues;
  if (typeof to === 'number' && to < (from as number))
    return [issue(CODES.fitment, `${at}/year_to`, `year_to (${to}) is before year_from (${from as number})`)];
  return {
    make: make as string,
    model: model as string,
    year_from: from as number,
    year_to: to as number | null,
    engine: engine as string | null,
  };
}

/** The identity of an entry for de-duplication: two spellings of one vehicle are one entry. */
export function entryKey(e: FitmentEntry): string {
  return [makeKey(e.make), modelKey(e.model), e.year_from, e.year_to ?? '', e.engine === null ? '' : engineKey(e.engine)].join('|');
}

function dedupe(entries: FitmentEntry[]): FitmentEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const k = entryKey(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Checks a JSON fitment array; `at` is the pointer of the array. */
export function validateFitment(v: unknown, at: string): { value: FitmentEntry[] } | Issue[] {
  if (!Array.isArray(v)) return [issue(CODES.fitment, at, `fitment must be an array of { make, model, year_from, year_to?, engine? }`)];
  if (v.length > MAX_FITMENT_ENTRIES) return [issue(CODES.fitment, at, `fitment has ${v.length} entries; at most ${MAX_FITMENT_ENTRIES}`)];
  const out: FitmentEntry[] = [];
  const issues: Issue[] = [];
  v.forEach((x, i) => {
    const r = entry(x, `${at}/${i}`);
    if (Array.isArray(r)) issues.push(...r);
    else out.push(r);
  });
  return issues.length > 0 ? issues : { value: dedupe(out) };
}

const YEARS = /^(\d{4})\s*(?:(-|–|\+)\s*(\d{4})?)?$/;

/**
 * Splits the compact CSV form into entry objects, checking only its syntax (the fields are
 * checked by `validateFitment`); `at` is the pointer of the fitment column. Empty entries
 * (a trailing `;`) are skipped.
 */
export function splitFitmentCell(cell: string, at: string): { value: unknown[] } | Issue[] {
  const items: unknown[] = [];
  const issues: Issue[] = [];
  let i = 0;
  for (const raw of cell.split(';')) {
    const p = raw.trim();
    if (p === '') continue;
    const f = p.split('|').map((x) => x.trim());
    const years = YEARS.exec(f[2] ?? '');
    if (f.length < 3 || f.length > 4 || !years) {
      const shown = p.length > 60 ? `${p.slice(0, 60)}…` : p;
      issues.push(
        issue(
          CODES.fitment,
          `${at}/${i}`,
          `fitment entry ${i + 1} ("${shown}") must be Make|Model|Years[|Engine], Years as 2015-2020, 2015 or 2015-`,
        ),
      );
    } else {
      const from = Number(years[1]);
      const to = years[2] === undefined ? from : years[3] === undefined ? null : Number(years[3]);
      items.push({ make: f[0], model: f[1], year_from: from, year_to: to, engine: f[3] ?? null });
    }
    i++;
  }
  return issues.length > 0 ? issues : { value: items };
}

/** Reads and checks the compact CSV form. */
export function parseFitmentCell(cell: string, at: string): { value: FitmentEntry[] } | Issue[] {
  const split = splitFitmentCell(cell, at);
  return Array.isArray(split) ? split : validateFitment(split.value, at);
}

/** The compact CSV form of entries (the inverse of `parseFitmentCell`). */
export function formatFitmentCell(entries: readonly FitmentEntry[]): string {
  return entries
    .map((e) => {
      const years = e.year_to === null ? `${e.year_from}-` : e.year_to === e.year_from ? `${e.year_from}` : `${e.year_from}-${e.year_to}`;
      return [e.make, e.model, years, ...(e.engine === null ? [] : [e.engine])].join('|');
    })
    .join(';');
}
