/**
 * Worker threads for the kernel. tsx cannot load TypeScript inside Node 20 workers, so the
 * worker entry is bundled with esbuild's JS API into one temporary .mjs file, once per process.
 * Results land in SharedArrayBuffers; each worker writes its own path range, and since every
 * path seeds its own stream the results equal a single-thread run bit for bit. Each worker also
 * prepares its share of the bands (sorted daily values, block sums), so the caller's thread only merges.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../core/index.ts';
import { shareBounds } from './bands.ts';
import type { CompiledModel } from './compile.ts';
import type { PathOutputs } from './kernel.ts';

let bundled: Promise<string> | undefined;

async function bundle(): Promise<string> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'worker-entry.ts');
  const { build } = await import('esbuild');
  const res = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const text = res.outputFiles[0]?.text;
  if (text === undefined) throw new AppError('PW_RISK_WORKER', 'esbuild produced no worker bundle', { status: 500 });
  const dir = join(tmpdir(), 'pitwall-plan');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) writeFileSync(file, text);
  return file;
}

/** The bundled worker file (built once per process). */
export function workerFile(): Promise<string> {
  bundled ??= bundle().catch((e: unknown) => {
    bundled = undefined;
    throw e;
  });
  return bundled;
}

/**
 * Runs every path on `threads` workers, each on its own share (block-aligned, see bands.ts). With
 * `sums`, each worker also sorts its share's daily values for the bands and writes the block sums.
 */
export async function runPathsOnWorkers(
  m: CompiledModel,
  seed: number,
  paths: number,
  out: PathOutputs,
  threads: number,
  onProgress?: (done: number, total: number) => void,
  sums?: Float64Array,
): Promise<{ p0: number; p1: number }[]> {
  const file = await workerFile();
  let done = 0;
  const shares = shareBounds(paths, threads);
  const jobs = shares.map(
    ({ p0, p1 }) =>
      new Promise<void>((resolve, reject) => {
        const w = new Worker(file, { workerData: { m, seed, p0, p1, out, sums } });
        w.on('message', (msg: { done?: number; finished?: boolean }) => {
          if (msg.done !== undefined) {
            done += msg.done;
            onProgress?.(done, paths);
          }
          if (msg.finished) void w.terminate().then(() => resolve());
        });
        w.on('error', (e) => reject(new AppError('PW_RISK_WORKER', `simulation worker failed: ${e.message}`, { status: 500, cause: e })));
        w.on('exit', (code) => {
          if (code !== 0 && code !== 1) reject(new AppError('PW_RISK_WORKER', `simulation worker exited with ${code}`, { status: 500 }));
        });
      }),
  );
  await Promise.all(jobs);
  return shares;
}
