/** Benchmark plumbing: child servers, a keep-alive HTTP load generator, percentiles. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Child<T> {
  info: T;
  proc: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/** Starts `servers/<name>.ts` in a child process and waits for its JSON line. */
export function startChild<T>(name: string): Promise<Child<T>> {
  return startScript<T>(name, path.join(here, 'servers', `${name}.ts`), []);
}

/**
 * Runs `script` (TypeScript, through tsx) as `script ...args <tempDir>` and resolves with the
 * JSON object it prints as its first line. `PITWALL_BENCH_CPU_PROF=<dir>` profiles the child.
 */
export async function startScript<T>(label: string, script: string, args: string[]): Promise<Child<T>> {
  const dir = mkdtempSync(path.join(tmpdir(), `pitwall-bench-${label}-`));
  const prof = process.env.PITWALL_BENCH_CPU_PROF;
  const node = [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), '--import', 'tsx', script, ...args, dir];
  const proc = spawn(process.execPath, node, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
  });
  return {
    info: JSON.parse(line) as T,
    proc,
    dir,
    async stop() {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export interface LoadResult {
  requests: number;
  failed: number;
  statuses: Record<number, number>;
  seconds: number;
  p50_ms: number;
  p99_ms: number;
  /** Every request's latency, sorted (to pool rounds). */
  latencies: number[];
}

/** CPU time (user + system, all threads) a process has used so far, in ms; undefined off Linux. */
export function cpuMs(pid: number | undefined): number | undefined {
  try {
    // /proc/<pid>/stat: fields 14 and 15 (after the parenthesised name) are utime and stime in ticks.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
    return f ? (Number(f[11]) + Number(f[12])) * (1000 / CLOCK_TICKS) : undefined;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

export interface Contender {
  name: string;
  /** Server process, for its CPU time. */
  pid: number | undefined;
  /** Events per request (100 for a batch). */
  perRequest: number;
  run(durationMs: number): Promise<LoadResult>;
}

export interface ContenderResult {
  name: string;
  /** Events/s of each round. */
  rates: number[];
  /** Median over the rounds. */
  rate: number;
  p50_ms: number;
  p99_ms: number;
  /** Server CPU (all threads) per event, µs, over all rounds. */
  cpu_us_per_event: number | undefined;
  failed: number;
  statuses: Record<number, number>;
}

/**
 * Runs the contenders in turn, `rounds` times: on a shared, noisy machine a slow minute then
 * hits every contender of a round alike, so per-round ratios (and medians) stay comparable,
 * where one long run of each would compare different minutes.
 */
export async function interleave(contenders: Contender[], rounds: number, durationMs: number): Promise<ContenderResult[]> {
  const acc = contenders.map(() => ({
    rates: [] as number[],
    latencies: [] as number[],
    events: 0,
    cpu: 0,
    failed: 0,
    statuses: {} as Record<number, number>,
  }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of contenders.entries()) {
      const a = acc[i] as (typeof acc)[number];
      const before = cpuMs(c.pid);
      const res = await c.run(durationMs);
      const after = cpuMs(c.pid);
      const events = (res.requests - res.failed) * c.perRequest;
      a.rates.push(events / res.seconds);
      for (const l of res.latencies) a.latencies.push(l);
      a.events += events;
      if (before !== undefined && after !== undefined) a.cpu += after - before;
      a.failed += res.failed;
      for (const [k, v] of Object.entries(res.statuses)) a.statuses[Number(k)] = (a.statuses[Number(k)] ?? 0) + v;
    }
  }
  return contenders.map((c, i) => {
    const a = acc[i] as (typeof acc)[number];
    a.latencies.sort((x, y) => x - y);
    return {
      name: c.name,
      rates: a.rates.map((x) => Math.round(x)),
      rate: median(a.rates),
      p50_ms: round(percentile(a.latencies, 50)),
      p99_ms: round(percentile(a.latencies, 99)),
      cpu_us_per_event: a.cpu > 0 && a.events > 0 ? round((a.cpu * 1000) / a.events, 1) : undefined,
      failed: a.failed,
      statuses: a.statuses,
    };
  });
}

/** Median over rounds of a / b, round by round. */
export function roundRatio(a: ContenderResult, b: ContenderResult): number {
  return round(median(a.rates.map((x, i) => x / (b.rates[i] ?? Number.NaN))));
}

/**
 * `connections` keep-alive connections (undici: about twice the requests per second of
 * node:http's client on this machine, so the generator is not the bottleneck), each sending
 * the next body as soon as the last answers.
 */
export async function load(opts: {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: () => Buffer;
  connections: number;
  durationMs: number;
}): Promise<LoadResult> {
  const pool = new Pool(opts.url, { connections: opts.connections });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let failed = 0;
  const start = performance.now();
  const end = start + opts.durationMs;
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      while (performance.now() < end) {
        const body = opts.body();
        const t = performance.now();
        let status = 0;
        try {
          const res = await pool.request({ path: opts.path, method: 'POST', headers: opts.headers, body });
          await res.body.dump();
          status = res.statusCode;
        } catch {
          status = 0;
        }
        latencies.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status < 200 || status >= 300) failed++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failed,
    statuses,
    seconds,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    latencies,
  };
}

export const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** Time-ordered ids in the style of analytics-node (`node-next-<ms>-<n>`) and UUIDv7. */
let counter = 0;
export function orderedId(): string {
  counter++;
  return `node-next-${Date.now().toString().padStart(14, '0')}-${counter.toString().padStart(10, '0')}`;
}
export const randomId = () => randomUUID();

const SKUS = ['BRK-PAD-F150-F', 'BAT-AGM-70AH', 'FLT-OIL-5W30', 'WIP-600MM', 'SPK-IRIDIUM-4'];

/** A mixed Segment message: views, adds, checkouts, orders, identifies, pages. */
export function segmentMessage(i: number, id: string, sentAt: string): Record<string, unknown> {
  const sku = SKUS[i % SKUS.length] as string;
  const base = { messageId: id, anonymousId: `anon-${i % 5000}`, timestamp: sentAt, context: { library: { name: 'bench' } } };
  switch (i % 10) {
    case 0:
      return { ...base, type: 'identify', userId: `user-${i % 3000}`, traits: { email_hash: `h${i}` } };
    case 1:
      return { ...base, type: 'page', name: 'Brake pads', properties: { path: '/c/brakes' } };
    case 2:
    case 3:
    case 4:
      return { ...base, type: 'track', event: 'Product Viewed', properties: { product_id: sku, sku, price: 49.9, category: 'brakes' } };
    case 5:
    case 6:
      return {
        ...base,
        type: 'track',
        event: 'Product Added',
        properties: { product_id: sku, sku, price: 49.9, quantity: 1, cart_id: `cart-${i % 2000}` },
      };
    case 7:
      return {
        ...base,
        type: 'track',
        event: 'Checkout Started',
        properties: { order_id: `o-${i}`, value: 99.8, currency: 'EUR', products: [{ sku, price: 49.9, quantity: 2 }] },
      };
    case 8:
      return {
        ...base,
        type: 'track',
        event: 'Checkout Step Completed',
        properties: { checkout_id: `co-${i}`, step: 2, shipping_method: 'express' },
      };
    default:
      return {
        ...base,
        type: 'track',
        event: 'Order Completed',
        properties: { order_id: `o-${i}`, total: 99.8, revenue: 90, currency: 'EUR', products: [{ sku, price: 49.9, quantity: 2 }] },
      };
  }
}
