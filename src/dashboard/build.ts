/**
 * The dashboard's browser code (`src/dashboard/app`, Preact), built with Vite in memory when first
 * needed and kept for the process — no build step to forget: `npm start` serves it straight from
 * the sources (the same choice as the widget, ADR 0012). The build runs in a worker thread.
 */
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

function run(): Promise<DashboardBuild> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { configFile: CONFIG_FILE } });
    worker.once('message', (out: { fileName: string; data: string | Uint8Array }[]) => {
      const files = new Map<string, DashboardFile>();
      for (const o of out) {
        const ext = o.fileName.slice(o.fileName.lastIndexOf('.') + 1);
        files.set(`/${o.fileName}`, {
          body: typeof o.data === 'string' ? Buffer.from(o.data) : Buffer.from(o.data),
          type: TYPES[ext] ?? 'application/octet-stream',
          immutable: o.fileName.startsWith('assets/'),
        });
      }
      if (!files.has('/index.html')) reject(new Error('the dashboard build produced no index.html'));
      else resolve({ files, ms: Math.round(performance.now() - started) });
    });
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
