/**
 * The browser code, bundled in memory with esbuild when first asked for and kept for the process:
 * the widget (`/widget.js`, one IIFE, < 15 KB gzipped) and the demo shop's script. No build step:
 * `npm start` serves them straight from the TypeScript sources.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface Bundle {
  code: string;
  bytes: number;
  gzipBytes: number;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const WIDGET_ENTRY = here('../widget/main.ts');
export const WIDGET_CSS = here('../widget/widget.css');
export const SHOP_ENTRY = here('./scripts/shop.ts');

const cache = new Map<string, Promise<Bundle>>();

async function build(entry: string): Promise<Bundle> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    minify: true,
    write: false,
    target: 'es2020',
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]?.text ?? '';
  return { code, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length };
}

/** The bundle of `entry`, built once per process (a failed build is retried on the next call). */
export function bundle(entry: string): Promise<Bundle> {
  let p = cache.get(entry);
  if (!p) {
    p = build(entry);
    cache.set(entry, p);
    p.catch(() => cache.delete(entry));
  }
  return p;
}

export const bundleWidget = () => bundle(WIDGET_ENTRY);

const files = new Map<string, Promise<string>>();
/** A static text file of the storefront's browser code, read once. */
export function staticText(file: string): Promise<string> {
  let p = files.get(file);
  if (!p) {
    p = readFile(file, 'utf8');
    files.set(file, p);
    p.catch(() => files.delete(file));
  }
  return p;
}
