/**
 * The dashboard's browser code (`src/dashboard/app`, Preact), built with Vite in memory when first
 * needed and kept for the process — no build step to forget: `npm start` serves it straight from
 * the sources (the same choice as the widget, ADR 0012). The build runs in a worker thread.
 *
 * A build is also kept on disk (`node_modules/.cache/pitwall-dashboard/<hash>.json`), keyed by a
 * hash of every input — the app's sources, the Vite config, this builder and the versions of the
 * packages it bundles — so a second start, or another process, skips the 1–3 s build. A missing,
 * unreadable or unwritable cache only means building again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface DashboardFile {
  body: Buffer;
  type: string;
  /** Content-hashed file names never change content: cache them for a year. */
  immutable: boolean;
}

export interface DashboardBuild {
  /** By URL path: `/index.html`, `/assets/index-….js`, … */
  files: Map<string, DashboardFile>;
  ms: number;
}

const CONFIG_FILE = new URL('./vite.config.ts', import.meta.url).pathname;
const WORKER = new URL('./build-worker.mjs', import.meta.url);

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
  json: 'application/json',
};

const ROOT = new URL('../../', import.meta.url).pathname;
const APP_DIR = new URL('./app/', import.meta.url).pathname;
/** Packages whose code ends up in (or shapes) the bundle. */
const BUNDLED = ['vite', 'preact', 'uplot', '@preact/preset-vite'];

type Output = { fileName: string; data: string | Uint8Array }[];

function toBuild(out: Output, started: number): DashboardBuild {
  const files = new Map<string, DashboardFile>();
  for (const o of out) {
    const ext = o.fileName.slice(o.fileName.lastIndexOf('.') + 1);
    files.set(`/${o.fileName}`, {
      body: typeof o.data === 'string' ? Buffer.from(o.data) : Buffer.from(o.data),
      type: TYPES[ext] ?? 'application/octet-stream',
      immutable: o.fileName.startsWith('assets/'),
    });
  }
  if (!files.has('/index.html')) throw new Error('the dashboard build produced no index.html');
  return { files, ms: Math.round(performance.now() - started) };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** The hash of everything the build reads: a change to any input is a new cache entry. */
export function dashboardInputsHash(): string {
  const h = createHash('sha256');
  for (const f of [...listFiles(APP_DIR), CONFIG_FILE, WORKER.pathname, path.join(ROOT, 'tsconfig.json')]) {
    h.update(path.relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  for (const pkg of BUNDLED) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version?: string };
      h.update(`${pkg}@${manifest.version ?? '?'}\0`);
    } catch {
      h.update(`${pkg}@missing\0`);
    }
  }
  return h.digest('hex').slice(0, 24);
}

/** Where builds are kept; `PITWALL_DASHBOARD_CACHE=off` turns the disk cache off. */
function cacheDir(): string | undefined {
  const v = process.env.PITWALL_DASHBOARD_CACHE;
  if (v === 'off') return undefined;
  return v && v.length > 0 ? v : path.join(ROOT, 'node_modules', '.cache', 'pitwall-dashboard');
}

function readCache(file: string): Output | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { fileName: string; base64: string }[];
    return parsed.map((o) => ({ fileName: o.fileName, data: Buffer.from(o.base64, 'base64') }));
  } catch {
    return undefined;
  }
}

/** Writes atomically (a temporary file renamed into place) and drops older builds. */
function writeCache(dir: string, file: string, out: Output): void {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(out.map((o) => ({ fileName: o.fileName, base64: Buffer.from(o.data).toString('base64') }))));
    renameSync(tmp, file);
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (p !== file && name.endsWith('.json')) rmSync(p, { force: true });
    }
  } catch {
    // A read-only install still serves the dashboard: it builds in every process.
  }
}

async function run(): Promise<DashboardBuild> {
  const started = performance.now();
  const dir = cacheDir();
  const file = dir ? path.join(dir, `${dashboardInputsHash()}.json`) : undefined;
  const hit = file ? readCache(file) : undefined;
  if (hit) {
    try {
      return toBuild(hit, started);
    } catch {
      // A damaged entry: build again below.
    }
  }
  const out = await buildInWorker();
  const build = toBuild(out, started);
  if (dir && file) writeCache(dir, file, out);
  return build;
}

function buildInWorker(): Promise<Output> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { configFile: CONFIG_FILE } });
    worker.once('message', (out: Output) => resolve(out));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the dashboard build stopped with exit code ${code}`));
    });
  });
}

let cached: Promise<DashboardBuild> | undefined;

/** The dashboard build, made once per process (a failed build is retried on the next call). */
export function dashboardBuild(): Promise<DashboardBuild> {
  if (!cached) {
    const p = run();
    cached = p;
    p.catch(() => {
      if (cached === p) cached = undefined;
    });
  }
  return cached;
}
