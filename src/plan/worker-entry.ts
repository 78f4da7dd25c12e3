/** Worker thread entry: runs a range of paths into shared buffers, then sorts its share for the bands (bundled at run time, see workers.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { sortShare } from './bands.ts';
import type { CompiledModel } from './compile.ts';
import { type PathOutputs, runPaths } from './kernel.ts';

interface Job {
  m: CompiledModel;
  seed: number;
  p0: number;
  p1: number;
  out: PathOutputs;
  /** Block sums for the bands; absent: leave the daily values path-major. */
  sums: Float64Array | undefined;
}

const job = workerData as Job;
const chunk = 2000;
for (let p = job.p0; p < job.p1; p += chunk) {
  const end = Math.min(job.p1, p + chunk);
  runPaths(job.m, job.seed, p, end, job.out);
  parentPort?.postMessage({ done: end - p });
}
if (job.sums && job.out.cash && job.out.gm) sortShare(job.out.cash, job.out.gm, job.sums, job.p0, job.p1, job.m.T);
parentPort?.postMessage({ finished: true });
