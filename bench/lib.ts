/** Benchmark plumbing: child servers, a keep-alive HTTP load generator, percentiles. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
