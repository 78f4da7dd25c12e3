/**
 * `risk` (issue 8): the default scenario (8 categories, 4 carriers' lanes, 3 warehouses, every
 * risk factor) for 100,000 paths × 91 days (20,000 with --quick) on 2 worker threads, beside a
 * single-thread run of the same model in the same process, and beside the same model in numpy
 * (bench/risk_numpy.py) when `python3 -c 'import numpy'` works (else null). A path-step is one
 * simulated day of one path. Timed: drawing and simulating every path and writing its daily cash
 * and margin (what /v1/risk/simulate keeps), worker start-up included; not timed: bundling the
 * worker (once per process) and the summary, reported separately: `summary_s` is what the
 * caller's thread (the event loop) spends once the workers prepared the bands (sorted shares,
 * merged exactly — src/plan/bands.ts), `bands_in_workers_s` the extra wall time of the 2-thread
 * run that prepares them, `summary_single_thread_s` all of it on one thread (the earlier way).
 * The machine is shared: load averages are printed before and after.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compile, defaultScenario, runScenario, summarise, workerFile } from '../src/plan/index.ts';

function numpyRun(model: Record<string, unknown>): { seconds: number; cpu_seconds: number } | null {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const script = fileURLToPath(new URL('./risk_numpy.py', import.meta.url));
  const r = spawnSync('python3', [script], { input: JSON.stringify(model), encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    console.error(`numpy run failed: ${r.stderr}`);
    return null;
  }
  return JSON.parse(r.stdout) as { seconds: number; cpu_seconds: number };
}

const cpuS = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const typed = (v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v);

export async function runRiskBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const paths = opts.quick ? 20_000 : 100_000;
  const s = { ...defaultScenario(), paths, seed: 1 };
  const steps = paths * s.horizonDays;
  const loadBefore = loadavg();
  const tb = performance.now();
  await workerFile();
  const bundleS = (performance.now() - tb) / 1000;
  // Warm-up (JIT) on both paths.
  await runScenario({ ...s, paths: 2000 }, { threads: 1 });
  await runScenario({ ...s, paths: 2000 }, { threads: 2 });

  // CPU seconds (all threads of this process) beside wall seconds: on a loaded, shared machine
  // steps per CPU-second is the figure that does not depend on what else is running.
  let c = process.cpuUsage();
  let t = performance.now();
  const two = await runScenario(s, { threads: 2 });
  const twoS = (performance.now() - t) / 1000;
  const twoCpu = cpuS(process.cpuUsage(c));
  c = process.cpuUsage();
  t = performance.now();
  const one = await runScenario(s, { threads: 1 });
  const oneS = (performance.now() - t) / 1000;
  const oneCpu = cpuS(process.cpuUsage(c));
  let same = true;
  for (let p = 0; p < paths; p++) if (one.gmTotal[p] !== two.gmTotal[p]) same = false;
  c = process.cpuUsage();
  t = performance.now();
  const withBands = await runScenario(s, { threads: 2, bands: true });
  const bandsInWorkersS = (performance.now() - t) / 1000 - twoS;
  const bandsInWorkersCpu = cpuS(process.cpuUsage(c)) - twoCpu;
  c = process.cpuUsage();
  t = performance.now();
  const summary = summarise(withBands, s.horizonDays, s.cash.floor);
  const summaryS = (performance.now() - t) / 1000;
  const summaryCpu = cpuS(process.cpuUsage(c));
  c = process.cpuUsage();
  t = performance.now();
  const onThread = summarise(two, s.horizonDays, s.cash.floor);
  const summarySingleS = (performance.now() - t) / 1000;
  const summarySingleCpu = cpuS(process.cpuUsage(c));
  const sameSummary = JSON.stringify(onThread) === JSON.stringify(summary);

  const m = compile(s);
  const model = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typed(v)]));
  const np = numpyRun({ ...model, paths, seed: 1 });
  const loadAfter = loadavg();
  console.log(
    `risk: ${paths} paths × ${s.horizonDays} days; 2 threads ${twoS.toFixed(2)} s, 1 thread ${oneS.toFixed(2)} s, numpy ${np ? `${np.seconds.toFixed(2)} s` : 'n/a'}; ` +
      `summary on the event loop ${summaryS.toFixed(3)} s (+${bandsInWorkersS.toFixed(2)} s in the workers; ${summarySingleS.toFixed(2)} s all on one thread); P(cash<floor) ${(summary.liquidityAtRisk.probability.value * 100).toFixed(2)} %; ` +
      `load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} → ${loadAfter.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`,
  );
  return {
    bench: 'risk',
    quick: opts.quick,
    paths,
    days: s.horizonDays,
    threads_equal_single: same,
    bundle_s: bundleS,
    summary_s: summaryS,
    bands_in_workers_s: bandsInWorkersS,
    summary_single_thread_s: summarySingleS,
    summary_equal_single: sameSummary,
    cpu_s_summary: summaryCpu,
    cpu_s_bands_in_workers: bandsInWorkersCpu,
    cpu_s_summary_single_thread: summarySingleCpu,
    load_before: loadBefore,
    load_after: loadAfter,
    cpu_s_two_threads: twoCpu,
    cpu_s_single: oneCpu,
    cpu_s_numpy: np?.cpu_seconds ?? null,
    path_steps_per_cpu_s: Math.round(steps / oneCpu),
    numpy_path_steps_per_cpu_s: np ? Math.round(steps / np.cpu_seconds) : null,
    ratio_two_threads_vs_single: oneS / twoS,
    ratio_vs_numpy: np ? np.seconds / twoS : null,
    path_steps_per_s: Math.round(steps / twoS),
    single_thread_path_steps_per_s: Math.round(steps / oneS),
    numpy_path_steps_per_s: np ? Math.round(steps / np.seconds) : null,
    seconds_100k_paths: (twoS * 100_000) / paths,
  };
}
