/**
 * `timers`: durable timers on the embedded SQLite store. Schedules 1,000,000 timers
 * (100,000 with --quick) with due times spread at random over ten clock-days (the worst case
 * for locality), in 10,000-timer transactions, beside a same-run floor: plain INSERTs of the
 * same rows into a bare table with the same key and due index. Then a clock running fast
 * makes the first day — a tenth of the timers — fall due at about 3,300 a second while a
 * started TimerRunner fires them; lateness is the real time from a timer's due moment to its
 * handler running. Last, the second day falls due at once and is drained with `tick()`: the
 * firing capacity.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../src/core/index.ts';
import { type NewTimer, openTimerStore, TimerRunner } from '../src/detect/index.ts';
import { openSqlite, openStore } from '../src/store/index.ts';
import { percentile, round } from './lib.ts';

const DAY = 86_400_000;
const SPAN = 10 * DAY;
const BATCH = 10_000;
const BASE = Date.parse('2026-01-05T09:00:00Z');

/** Seeded so every run schedules the same due times. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function timersFor(n: number): NewTimer[][] {
  const rand = lcg(42);
  const batches: NewTimer[][] = [];
  for (let i = 0; i < n; i += BATCH) {
    const b: NewTimer[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      b.push({
        key: `cart.abandoned:cart-${j}`,
        dueAt: BASE + 1 + Math.floor(rand() * SPAN),
        payload: { cart_id: `cart-${j}`, value: 318.8 },
      });
    }
    batches.push(b);
  }
  return batches;
}

/** The floor: the same rows as plain INSERTs into a bare table keyed like `timers`, with its due index, no upsert. */
function floorRate(dir: string, batches: NewTimer[][]): number {
  const raw = openSqlite(path.join(dir, 'floor.db'));
  raw.exec('CREATE TABLE t (key TEXT PRIMARY KEY, due_ms INTEGER NOT NULL, payload TEXT NOT NULL) WITHOUT ROWID');
  raw.exec('CREATE INDEX t_due ON t (due_ms)');
  const ins = raw.prepare('INSERT INTO t (key, due_ms, payload) VALUES (?, ?, ?)');
  const tx = raw.transaction((b: NewTimer[]) => {
    for (const t of b) ins.run(t.key, t.dueAt, JSON.stringify(t.payload));
  });
  const start = performance.now();
  for (const b of batches) tx.immediate(b);
  const rate = (batches.length * BATCH) / ((performance.now() - start) / 1000);
  raw.close();
  return rate;
}

export async function runTimersBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const n = opts.quick ? 100_000 : 1_000_000;
  const fireSeconds = opts.quick ? 3 : 30;
  const speed = DAY / (fireSeconds * 1000);
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-bench-timers-'));
  const store = await openStore({ sqliteFile: path.join(dir, 'pitwall.db') });
  try {
    // Fixed at BASE while scheduling; runs `speed`× fast from `start` once firing begins.
    let start: number | undefined;
    const clock: Clock = { now: () => (start === undefined ? BASE : BASE + Math.floor((performance.now() - start) * speed)) };
    const timers = openTimerStore(store, clock);
    const batches = timersFor(n);

    const floor = floorRate(dir, batches);
    const t0 = performance.now();
    for (const b of batches) await timers.scheduleMany(b);
    const schedulePerS = n / ((performance.now() - t0) / 1000);
    const active = await timers.count();
    console.log(
      `schedule ${n} timers: ${Math.round(schedulePerS)}/s   floor (plain INSERT) ${Math.round(floor)}/s   ratio ${round(schedulePerS / floor)}`,
    );

    const dueInWindow = batches.flat().filter((t) => t.dueAt <= BASE + DAY).length;
    const late: number[] = [];
    const runner = new TimerRunner(
      timers,
      clock,
      async (t) => {
        late.push((clock.now() - t.dueAt) / speed);
      },
      { batch: 500, leaseMs: 60_000 * speed, maxIdleMs: 2 },
    );
    start = performance.now();
    runner.start();
    // Until the clock passes the first day, then until the runner has caught up.
    while (clock.now() <= BASE + DAY || late.length < dueInWindow) {
      await new Promise((r) => setTimeout(r, 20));
      if (performance.now() - start > fireSeconds * 1000 * 20) break;
    }
    await runner.stop();
    const fireWall = (performance.now() - start) / 1000;
    const rss = process.memoryUsage().rss / 2 ** 20;
    late.sort((a, b) => a - b);

    // Capacity: freeze the clock after the second day, so everything up to it is due at once.
    const frozen = BASE + 2 * DAY;
    start = undefined;
    const capacityClock: Clock = { now: () => frozen };
    let drained = 0;
    const drainer = new TimerRunner(openTimerStore(store, capacityClock), capacityClock, async () => {}, { batch: 500 });
    const d0 = performance.now();
    for (let r = await drainer.tick(); r.claimed > 0; r = await drainer.tick()) drained += r.completed;
    const capacity = drained / ((performance.now() - d0) / 1000);

    const result = {
      bench: 'timers',
      active_timers: active,
      schedule_per_s: Math.round(schedulePerS),
      floor_schedule_per_s: Math.round(floor),
      ratio: round(schedulePerS / floor),
      due_in_window: dueInWindow,
      fired: late.length,
      fire_per_s: Math.round(late.length / fireWall),
      clock_speed: Math.round(speed),
      late_p50_ms: round(percentile(late, 50)),
      late_p99_ms: round(percentile(late, 99)),
      late_max_ms: round(late[late.length - 1] ?? 0),
      capacity_fired: drained,
      capacity_per_s: Math.round(capacity),
      remaining: await timers.count(),
      rss_mb: Math.round(rss),
    };
    console.log(
      `fired ${result.fired}/${dueInWindow} over ${round(fireWall)} s at ${result.clock_speed}× clock: late p50 ${result.late_p50_ms} ms  p99 ${result.late_p99_ms} ms  max ${result.late_max_ms} ms  rss ${result.rss_mb} MB`,
    );
    console.log(`capacity: drained ${drained} due timers at ${result.capacity_per_s}/s`);
    return result;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
