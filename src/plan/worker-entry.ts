/** Worker thread entry: runs a range of paths into shared buffers (bundled at run time, see workers.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { CompiledModel } from './compile.ts';
import { type PathOutputs, runPaths } from './kernel.ts';

interface Job {
  m: CompiledModel;
  seed: number;
  p0: number;
  p1: number;
  out: PathOutputs;
}

const job = workerData as Job;
const chunk = 2000;
for (let p = job.p0; p < job.p1; p += chunk) {
  const end = Math.min(job.p1, p + chunk);
  runPaths(job.m, job.seed, p, end, job.out);
  parentPort?.postMessage({ done: end - p });
}
parentPort?.postMessage({ finished: true });
