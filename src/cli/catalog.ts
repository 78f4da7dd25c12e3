/** `pitwall catalog …`: import the catalogue and reference data from files, list and show SKUs. Works with the server stopped. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import {
  getProduct,
  type ImportResult,
  type ImportSource,
  importRecords,
  jsonSource,
  listProducts,
  productToApi,
  type RecordKind,
} from '../catalog/index.ts';
import { AppError } from '../core/index.ts';
import { run, withStore } from './context.ts';

const KINDS: readonly RecordKind[] = ['warehouses', 'carriers', 'lanes', 'products'];

function kindOf(v: string | undefined): RecordKind {
  const k = (v ?? 'products') as RecordKind;
  if (!KINDS.includes(k)) throw new AppError('PW_CATALOG_FILE_INVALID', `--kind must be one of ${KINDS.join(', ')}`);
  return k;
}

/** What a file holds: one kind (CSV, or a JSON array), or several (a JSON object with a key per kind, imported in order). */
function readSources(file: string, opts: { kind?: string; format?: string }): [RecordKind, ImportSource][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AppError('PW_CATALOG_FILE_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  const format = opts.format ?? (ext === '.json' ? 'json' : ext === '.csv' || ext === '.tsv' || ext === '.txt' ? 'csv' : undefined);
  if (format === 'csv') return [[kindOf(opts.kind), { format: 'csv', text }]];
  if (format !== 'json') throw new AppError('PW_CATALOG_FILE_INVALID', `${file}: name a .csv or .json file, or pass --format csv|json`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new AppError('PW_CATALOG_FILE_INVALID', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(body) || opts.kind !== undefined) return [[kindOf(opts.kind), jsonSource(kindOf(opts.kind), body)]];
  if (typeof body !== 'object' || body === null) throw new AppError('PW_CATALOG_FILE_INVALID', `${file} must hold a JSON array or object`);
  const keys = Object.keys(body);
  const unknown = keys.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || keys.length === 0)
    throw new AppError(
      'PW_CATALOG_FILE_INVALID',
      `${file}: expected keys ${KINDS.join(', ')}${unknown.length > 0 ? `, not ${unknown.join(', ')}` : ''}`,
    );
  return KINDS.filter((k) => k in body).map((k) => [k, jsonSource(k, { [k]: (body as Record<string, unknown>)[k] })]);
}

function printResult(r: ImportResult): void {
  const dry = r.dryRun ? ' (dry run: nothing written)' : '';
  const del = r.deleted > 0 || r.replaceSkipped ? `, ${r.deleted} deleted` : '';
  console.log(`${r.kind}: ${r.upserted} applied (${r.created} new, ${r.updated} updated), ${r.rejected} rejected${del}${dry}`);
  if (r.replaceSkipped) console.log('  replace mode deleted nothing because rows were rejected; fix them and import again');
  for (const e of r.errors)
    console.log(
      `  row ${e.row}${e.line !== undefined ? ` (line ${e.line})` : ''}\t${e.key ?? '-'}\t${e.code}\t${e.pointer || '/'}\t${e.message}`,
    );
  if (r.errorsTruncated) console.log(`  … more errors not shown (${r.rejected} rows rejected in all)`);
}

export async function catalogImport(
  file: string,
  opts: { kind?: string; format?: string; mode: string; dryRun?: boolean; json?: boolean },
): Promise<void> {
  if (opts.mode !== 'merge' && opts.mode !== 'replace') throw new AppError('PW_CATALOG_FILE_INVALID', '--mode must be merge or replace');
  const mode = opts.mode;
  const sources = readSources(file, opts);
  await withStore(async (store, _cfg, clock) => {
    for (const [kind, source] of sources) {
      const r = await importRecords(store.db, clock, kind, source, { mode, dryRun: opts.dryRun === true });
      if (opts.json) console.log(JSON.stringify(r));
      else printResult(r);
      if (r.rejected > 0) process.exitCode = 1;
    }
  });
}

export async function catalogList(opts: { category?: string; query?: string; limit: string; json?: boolean }): Promise<void> {
  await withStore(async (store) => {
    const products = await listProducts(store.db, {
      category: opts.category,
      q: opts.query,
      limit: Math.min(Number(opts.limit) || 50, 10_000),
    });
    if (products.length === 0 && !opts.json) console.log('No products. Import some: pitwall catalog import products.csv');
    for (const p of products)
      console.log(
        opts.json
          ? JSON.stringify(productToApi(p))
          : `${p.sku}\t${p.name}\t${p.category ?? ''}\t${p.price}${p.currency ? ` ${p.currency}` : ''}${p.hazardous ? '\thazardous' : ''}${p.temperatureSensitive ? '\ttemperature-sensitive' : ''}`,
      );
  });
}

export async function catalogShow(sku: string): Promise<void> {
  await withStore(async (store) => {
    const p = await getProduct(store.db, sku);
    if (!p) throw new AppError('PW_PRODUCT_NOT_FOUND', `no product with SKU "${sku}"`);
    console.log(JSON.stringify(productToApi(p, p.fitment), null, 2));
  });
}

export function catalogCommands(program: Command): void {
  const catalog = program
    .command('catalog')
    .description('the catalogue (SKUs with fitment) and reference data (warehouses, carriers, lanes)');
  catalog
    .command('import')
    .description('import a CSV or JSON file (see docs/catalog.md); exits 1 if any row was rejected')
    .argument('<file>', '.csv or .json')
    .option('--kind <kind>', 'products, warehouses, carriers or lanes (a JSON object names its own)')
    .option('--format <format>', 'csv or json, when the extension does not say')
    .option('--mode <mode>', 'merge (upsert) or replace (also delete what the file does not name)', 'merge')
    .option('--dry-run', 'check every row, write nothing')
    .option('--json', 'print each result as JSON')
    .action((file, o) => run(() => catalogImport(file, o)));
  catalog
    .command('list')
    .option('--category <category>', 'exact category (any case)')
    .option('-q, --query <text>', 'part of the SKU or name')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'one JSON object per line')
    .action((o) => run(() => catalogList(o)));
  catalog
    .command('show')
    .argument('<sku>')
    .description('one product with its fitment, as JSON')
    .action((sku) => run(() => catalogShow(sku)));
}
