/**
 * `projections`: how fast the Decide stage folds the log, against how fast the log can be read.
 *
 * Appends a seeded mix of events (carts and orders, identify, shelf and cold-room readings,
 * shipments, vehicle signals — 200,000, or 20,000 with --quick) to an embedded SQLite log in
 * history mode (so no timer or derived event muddies the figure), then, in the same process:
 * 1. baseline: reads the whole log in 2,000-event pages (`log.read`) — the raw read rate;
 * 2. folds it with `rebuildState` — every projection, one write transaction per 2,000 events.
 * `ratio` = fold rate / read rate. Also reported: the live consumer (projections + detectors,
 * live events: timers scheduled) over a fresh copy of the same mix, and each phase's CPU time
 * per event (`process.cpuUsage`, every thread of the process) — steadier than rates on a loaded
 * machine; `cpu_ratio` = read CPU per event / fold CPU per event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeClock, isoTime } from '../src/core/index.ts';
import { openTimerStore } from '../src/detect/index.ts';
import type { CloudEvent } from '../src/events/index.ts';
import { type LoggedEvent, openEventLog } from '../src/log/index.ts';
import { rebuildState, startStateConsumer } from '../src/state/index.ts';
import { openStore } from '../src/store/index.ts';
import { round } from './lib.ts';

const BASE = Date.parse('2026-02-02T08:00:00Z');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A deterministic mix, roughly what a small parts shop with sensors sends. */
export function eventMix(n: number, history: boolean): CloudEvent[] {
  const rand = lcg(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const skus = Array.from({ length: 500 }, (_, i) => `SKU-${i}`);
  const out: CloudEvent[] = [];
  for (let i = 0; i < n; i++) {
    const t = BASE + i * 50;
    const base = { specversion: '1.0' as const, id: `b-${i}`, time: isoTime(t), ...(history ? { pitwallhistory: true } : {}) };
    const r = rand();
    const user = `u-${Math.floor(rand() * 20_000)}`;
    if (r < 0.35) {
      const cart = `c-${user}-${Math.floor(i / 40_000)}`;
      const kind = rand();
      const type = kind < 0.8 ? 'product_added' : kind < 0.9 ? 'checkout_started' : 'order_completed';
      const properties =
        type === 'order_completed'
          ? { cart_id: cart, order_id: `o-${i}`, total: 120, products: [{ sku: pick(skus), quantity: 1, price: 60 }] }
          : { cart_id: cart, sku: pick(skus), price: 40, quantity: 1 };
      out.push({ ...base, source: 'shop', type: `commerce.${type}`, userid: user, data: { event: type, properties } });
    } else if (r < 0.4) {
      out.push({
        ...base,
        source: 'shop',
        type: 'customer.identified',
        userid: user,
        anonymousid: `anon-${user}`,
        data: { traits: { email: `${user}@example.com` } },
      });
    } else if (r < 0.75) {
      const wh = pick(['WH-1', 'WH-2', 'WH-3']);
      const shelf = rand() < 0.5;
      const device = shelf ? `${wh}-shelf-${Math.floor(rand() * 200)}` : `${wh}-cold-${Math.floor(rand() * 10)}`;
      out.push({
        ...base,
        source: `pitwall:device/${device}`,
        type: 'sensor.reading',
        deviceid: device,
        data: shelf
          ? { n: `urn:dev:${device}:weight`, u: 'kg', v: round(rand() * 50, 2), t: t / 1000 }
          : { n: `urn:dev:${device}:temperature`, u: 'Cel', v: round(3 + rand() * 4, 2), t: t / 1000 },
      });
    } else if (r < 0.9) {
      const shipment = `s-${Math.floor(i / 20)}`;
      const step = i % 20;
      const carrier = pick(['dhl', 'ups', 'dpd', 'gls']);
      const data =
        step === 0
          ? { shipment_id: shipment, carrier, origin: 'WH-1', destination: 'DE-BY', promised_at: isoTime(t + 2 * 86_400_000) }
          : step === 19
            ? { shipment_id: shipment }
            : { shipment_id: shipment, lat: 50 + rand(), lon: 9 + rand() };
      const type = step === 0 ? 'shipment.created' : step === 19 ? 'shipment.delivered' : 'shipment.position';
      out.push({ ...base, source: 'carrier-feed', type, subject: shipment, data });
    } else {
      const vin = `WVWZZZ1JZ3W${String(100_000 + Math.floor(rand() * 2_000)).padStart(6, '0')}`;
      out.push({
        ...base,
        source: 'pitwall:device/obd',
        type: 'vehicle.signal',
        subject: vin,
        data: { vin, signal: 'Vehicle.Powertrain.TractionBattery.StateOfHealth', value: round(70 + rand() * 30, 1), unit: 'percent' },
      });
    }
  }
  return out;
}

/** CPU time (user + system, all threads of this process) since `from`, in µs. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

async function seededLog(dir: string, name: string, events: CloudEvent[]) {
  const clock = new FakeClock(BASE + events.length * 50);
  const store = await openStore({ sqliteFile: path.join(dir, `${name}.db`) });
  const log = openEventLog(store, clock);
  for (let i = 0; i < events.length; i += 5_000) {
    await log.append(events.slice(i, i + 5_000).map((event) => ({ event, receivedAt: clock.now() })));
  }
  return { store, log, clock };
}

export async function runProjectionsBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const n = opts.quick ? 20_000 : 200_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'pitwall-bench-projections-'));
  try {
    const { store, log, clock } = await seededLog(dir, 'history', eventMix(n, true));
    const head = await log.head();

    // 1. Baseline: the raw read rate of the same log, same page size.
    let cpu = process.cpuUsage();
    let t = performance.now();
    let read = 0;
    for (let pos = 0; pos < head; ) {
      const page: LoggedEvent[] = await log.read(pos, 2_000);
      if (page.length === 0) break;
      read += page.length;
      pos = (page[page.length - 1] as LoggedEvent).seq;
    }
    const readS = (performance.now() - t) / 1000;
    const readCpuUs = cpuSince(cpu);

    // 2. Every projection folding the whole log.
    cpu = process.cpuUsage();
    t = performance.now();
    const rebuilt = await rebuildState({ log, store, timers: openTimerStore(store, clock), clock, batchSize: 2_000 });
    const foldS = (performance.now() - t) / 1000;
    const foldCpuUs = cpuSince(cpu);
    await log.close();
    await store.close();

    // 3. The live consumer (projections + detectors, timers scheduled) over live events.
    const live = await seededLog(dir, 'live', eventMix(n, false));
    cpu = process.cpuUsage();
    t = performance.now();
    const consumer = startStateConsumer({
      log: live.log,
      store: live.store,
      timers: openTimerStore(live.store, live.clock),
      clock: live.clock,
      batchSize: 2_000,
    });
    await consumer.caughtUp(await live.log.head());
    const liveS = (performance.now() - t) / 1000;
    const liveCpuUs = cpuSince(cpu);
    await consumer.stop();
    await live.log.close();
    await live.store.close();

    const result = {
      bench: 'projections',
      events: n,
      projections: rebuilt.projections.length,
      events_per_s: Math.round(rebuilt.events / foldS),
      live_events_per_s: Math.round(n / liveS),
      log_read_events_per_s: Math.round(read / readS),
      ratio: round(rebuilt.events / foldS / (read / readS), 3),
      fold_cpu_us_per_event: round(foldCpuUs / rebuilt.events, 1),
      live_cpu_us_per_event: round(liveCpuUs / n, 1),
      read_cpu_us_per_event: round(readCpuUs / read, 2),
      cpu_ratio: round(readCpuUs / read / (foldCpuUs / rebuilt.events), 3),
    };
    console.log(
      `folded ${rebuilt.events} events through ${result.projections} projections at ${result.events_per_s} ev/s (${result.fold_cpu_us_per_event} µs CPU/event); live consumer (with detectors) ${result.live_events_per_s} ev/s (${result.live_cpu_us_per_event} µs CPU/event); raw log read ${result.log_read_events_per_s} ev/s (${result.read_cpu_us_per_event} µs CPU/event); ratio ${result.ratio}, CPU ratio ${result.cpu_ratio}`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
