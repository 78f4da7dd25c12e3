/**
 * Imports: a batch of records (JSON items or CSV rows) checked one by one and applied as
 * merge patches by key. Valid records are written in transactions of `CHUNK` records (a
 * long one would hold SQLite's write lock against the event log); each bad record is
 * reported with its row and a pointer. `replace` mode then deletes stored records the input
 * does not name — only when no record was rejected, so a typo cannot delete a product.
 */
import type { Kysely } from 'kysely';
import { AppError, type Clock } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import { type CsvRecord, parseCsv } from './csv.ts';
import { ENTITIES, type Entity, keyOf } from './entities.ts';
import { type ApiRecord, cellValue, fieldOf, mergePatch, missingRequired, validatePatch } from './fields.ts';
import { CODES, type Issue, issue, pointerToken } from './issues.ts';
import { CHUNK, chunks } from './products.ts';
import { READ_ONLY } from './specs.ts';
import type { ImportOptions, ImportResult, ImportSource, RecordKind, RowError } from './types.ts';

/** Errors listed in a result; `rejected` still counts every bad record. */
export const MAX_REPORTED_ERRORS = 1000;
const ATTRIBUTE_COLUMN = /^attributes\.(.+)$/i;

interface Input {
  row: number;
  line?: number;
  /** Pointer prefix of the record in the document ('' for CSV). */
  base: string;
  raw: Record<string, unknown> | unknown;
  issues: Issue[];
  /** The CSV row itself is broken (field count, quotes): its fields are not checked one by one. */
  broken?: boolean;
}

/** The records of a JSON body for `kind`: an array, or an object `{ "<kind>": [...] }`. */
export function jsonSource(kind: RecordKind, body: unknown): ImportSource {
  if (Array.isArray(body)) return { format: 'json', items: body, base: '' };
  if (typeof body === 'object' && body !== null) {
    const keys = Object.keys(body);
    const items = (body as Record<string, unknown>)[kind];
    if (keys.length === 1 && Array.isArray(items)) return { format: 'json', items, base: `/${kind}` };
  }
  throw new AppError('PW_BODY_MALFORMED', `the body must be a JSON array of ${kind} or an object { "${kind}": [...] }`, { status: 400 });
}

interface Column {
  index: number;
  /** A field of the spec, or an attribute name (`attributes.<name>` columns), or ignored (read-only). */
  field?: string;
  attribute?: string;
}

function csvColumns(e: Entity, header: CsvRecord): Column[] {
  const problems: string[] = [];
  if (header.error) problems.push(`the header line is malformed: ${header.error}`);
  const seen = new Set<string>();
  const columns = header.fields.map((raw, index): Column => {
    const name = raw.trim();
    const lower = name.toLowerCase();
    if (seen.has(lower)) problems.push(`column "${name}" appears twice`);
    seen.add(lower);
    const attr = ATTRIBUTE_COLUMN.exec(name);
    if (attr?.[1]) return { index, attribute: attr[1].trim() };
    if (fieldOf(e.spec, lower)) return { index, field: lower };
    if (!READ_ONLY.has(lower)) problems.push(name === '' ? `column ${index + 1} has no name` : `unknown column "${name}"`);
    return { index };
  });
  const missing = e.keyFields.filter((k) => !seen.has(k));
  if (missing.length > 0) problems.push(`the header must name the column(s) ${missing.join(', ')}`);
  if (problems.length > 0)
    throw new AppError(
      'PW_CATALOG_CSV_HEADER',
      `${problems.join('; ')}. Columns for ${e.kind}: ${Object.keys(e.spec).join(', ')}, attributes.<name>`,
      {
        status: 422,
      },
    );
  return columns;
}

/** Records to check, read one at a time (so a long file can yield to the event loop between them). */
interface Inputs {
  length: number;
  at(i: number): Input;
}

function csvInputs(e: Entity, text: string): Inputs {
  const records = parseCsv(text);
  const header = records[0];
  if (!header) return { length: 0, at: () => ({ row: 0, base: '', raw: {}, issues: [] }) };
  const columns = csvColumns(e, header);
  const at = (i: number): Input => {
    const rec = records[i + 1] as CsvRecord;
    const issues: Issue[] = [];
    if (rec.error) issues.push(issue(CODES.csvRow, '', rec.error));
    else if (rec.fields.length < columns.length || rec.fields.slice(columns.length).some((f) => f.trim() !== ''))
      issues.push(issue(CODES.csvRow, '', `the row has ${rec.fields.length} fields; the header has ${columns.length}`));
    const broken = issues.length > 0;
    const raw: Record<string, unknown> = {};
    const attributes = new Map<string, string | null>();
    for (const c of columns) {
      const cell = rec.fields[c.index] ?? '';
      if (c.attribute !== undefined) {
        attributes.set(c.attribute, cell.trim() === '' ? null : cell.trim());
      } else if (c.field !== undefined) {
        const spec = fieldOf(e.spec, c.field);
        if (!spec) continue;
        const v = cellValue(c.field, spec, cell);
        if (Array.isArray(v)) {
          if (!broken) issues.push(...v);
        } else raw[c.field] = v.value;
      }
    }
    if (attributes.size > 0) {
      // fromEntries defines own properties, so even an `attributes.__proto__` column is just a (rejected) name.
      const columns = Object.fromEntries(attributes);
      const fromJson = raw.attributes;
      raw.attributes = typeof fromJson === 'object' && fromJson !== null ? { ...fromJson, ...columns } : columns;
    }
    return { row: i + 2, line: rec.line, base: '', raw, issues, broken };
  };
  return { length: records.length - 1, at };
}

function inputs(e: Entity, source: ImportSource): Inputs {
  if (source.format === 'csv') return csvInputs(e, source.text);
  const { items, base } = source;
  return { length: items.length, at: (i) => ({ row: i, base: `${base}/${i}`, raw: items[i], issues: [] }) };
}

/** Records checked between two turns of the event loop: ingestion keeps being served during a large import. */
const YIELD_EVERY = 500;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A record's issues in the order of its fields (a CSV row's columns), whole-record ones first. */
function inFieldOrder(e: Entity, issues: Issue[]): Issue[] {
  const fields = Object.keys(e.spec);
  const rank = (i: Issue) => {
    if (i.pointer === '') return -1;
    const at = fields.indexOf(i.pointer.split('/')[1] ?? '');
    return at === -1 ? fields.length : at;
  };
  return issues
    .map((i, n) => ({ i, n, r: rank(i) }))
    .sort((a, b) => a.r - b.r || a.n - b.n)
    .map((x) => x.i);
}

interface Pending {
  input: Input;
  key: string;
  shown: string;
  patch: ApiRecord;
}

/** Validates `source` as records of `kind` and applies the valid ones (unless `dryRun`). */
export async function importRecords(
  db: Kysely<Database>,
  clock: Clock,
  kind: RecordKind,
  source: ImportSource,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const e = ENTITIES[kind];
  const all = inputs(e, source);
  if (all.length === 0) throw new AppError('PW_CATALOG_EMPTY', `the input holds no ${kind}`, { status: 422 });
  const result: ImportResult = {
    kind,
    received: all.length,
    upserted: 0,
    created: 0,
    updated: 0,
    rejected: 0,
    deleted: 0,
    replaceSkipped: false,
    dryRun: opts.dryRun === true,
    errors: [],
    errorsTruncated: false,
  };
  const reject = (input: Input, issues: Issue[], shown?: string) => {
    result.rejected++;
    for (const i of issues) {
      if (result.errors.length >= MAX_REPORTED_ERRORS) {
        result.errorsTruncated = true;
        break;
      }
      const err: RowError = {
        row: input.row,
        ...(input.line !== undefined ? { line: input.line } : {}),
        ...(shown !== undefined ? { key: shown } : {}),
        ...(shown !== undefined && kind === 'products' ? { sku: shown } : {}),
        code: i.code,
        pointer: input.base + i.pointer,
        message: i.message,
      };
      result.errors.push(err);
    }
  };

  // 1. Each record on its own: fields, key, duplicates within the input.
  const named = new Set<string>();
  const pending: Pending[] = [];
  for (let n = 0; n < all.length; n++) {
    if (n > 0 && n % YIELD_EVERY === 0) await nextTurn();
    const input = all.at(n);
    const { patch, issues } = input.broken ? { patch: {}, issues: [] } : validatePatch(e.spec, READ_ONLY, input.raw);
    const k =
      keyOf(e, patch) ?? (typeof input.raw === 'object' && input.raw !== null ? keyOf(e, input.raw as Record<string, unknown>) : undefined);
    const problems = inFieldOrder(e, [...input.issues, ...issues]);
    if (k && named.has(k.key))
      problems.push(issue(CODES.duplicate, `/${pointerToken(e.keyFields[0] as string)}`, `${k.shown} appears earlier in this input`));
    if (k) named.add(k.key);
    if (problems.length > 0 || !k) reject(input, problems, k?.shown);
    else pending.push({ input, key: k.key, shown: k.shown, patch });
  }

  // 2. Against the store, a chunk at a time: merge onto the stored record, then write.
  const nowMs = clock.now();
  for (const part of chunks(pending, CHUNK)) {
    const stored = await e.load(
      db,
      part.map((p) => p.key),
    );
    const merged = part.map((p) => mergePatch(e.spec, e.defaults, stored.get(p.key), p.patch));
    const refs = e.refs ? await e.refs(db, merged) : [];
    const ok: ApiRecord[] = [];
    for (const [i, p] of part.entries()) {
      const record = merged[i] as ApiRecord;
      const isNew = !stored.has(p.key);
      const problems = [...(isNew ? missingRequired(e.spec, record, e.noun) : []), ...(e.check?.(record) ?? []), ...(refs[i] ?? [])];
      if (problems.length > 0) {
        reject(p.input, problems, p.shown);
        continue;
      }
      // Only a record that says `fitment` replaces it: the stored record was loaded without one.
      ok.push(record);
      if (isNew) result.created++;
      else result.updated++;
    }
    result.upserted += ok.length;
    if (!result.dryRun && ok.length > 0) await db.transaction().execute((tx) => e.write(tx, nowMs, ok));
  }

  // 3. Replace mode: delete what the input does not name, unless something was rejected.
  if (opts.mode === 'replace') {
    if (result.rejected > 0) result.replaceSkipped = true;
    else {
      const gone = (await e.allKeys(db)).filter((k) => !named.has(k));
      result.deleted = gone.length;
      if (!result.dryRun) for (const part of chunks(gone)) await db.transaction().execute((tx) => e.deleteKeys(tx, part));
    }
  }
  // Checks against the store come after the per-record ones: list errors in input order again.
  result.errors.sort((a, b) => a.row - b.row);
  return result;
}
