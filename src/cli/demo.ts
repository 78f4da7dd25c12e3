/**
 * `pitwall start --demo` and `pitwall demo`: the demo world (src/demo) driving Pitwall.
 *
 * With a server (the default) the embedded Pitwall starts with a scaled clock, the starter
 * workflows switched on and pointed at the demo's own receiver, and the world drives it over
 * HTTP from this process. `--no-server` drives a Pitwall that is already running (`--url`,
 * `--key`), after checking its clock speed. `--history 90d` backfills history in history mode.
 * A demo that fails never stops the server: it is reported in a sentence and the server runs on.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { generateWebhookSecret, openSecretStore } from '../act/index.ts';
import type { Config } from '../config/index.ts';
import { AppError } from '../core/index.ts';
import {
  backfillHistory,
  clockMismatch,
  DEMO_DETECTORS,
  DemoRunner,
  type Effects,
  type Receiver,
  STARTER_SECRETS,
  startReceiver,
  writeStarterWorkflows,
} from '../demo/index.ts';
import { createKey } from '../govern/index.ts';
import type { Pitwall } from '../main.ts';
import { runningPid } from './context.ts';

/** `npm start` / `pitwall start --demo` speed: a simulated day every 4 minutes. */
export const DEFAULT_DEMO_SPEED = 360;

export interface DemoCliOptions {
  demo?: boolean;
  seed?: string;
  speed?: string;
  /** Commander's `--no-server` sets this to false. */
  server?: boolean;
  url?: string;
  key?: string;
  /** `--no-server`: the broker Pitwall ingests MQTT from (devices and carriers report there). */
  mqtt?: string;
  history?: string;
  /** Comma-separated causal effects to switch off: promise, offer, surveys. */
  effectsOff?: string;
  /** Keep the demo store of an earlier run instead of starting afresh. */
  keep?: boolean;
}

export interface DemoSession {
  config: Config;
  receiver: Receiver;
  /** Wires the world to the started server; never throws: problems come back as banner lines. */
  attach(pw: Pitwall): Promise<string[]>;
  stop(): Promise<void>;
}

function parseSpeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 100_000)
    throw new AppError('PW_DEMO_USAGE', `--speed must be a number between 0 and 100000 (times real time), got "${text}"`);
  return n;
}

export function parseHistory(text: string): number {
  const m = /^(\d+)\s*(d|w)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * (m[2]?.toLowerCase() === 'w' ? 7 : 1) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 730)
    throw new AppError('PW_DEMO_USAGE', `--history takes days like 90d (or weeks like 12w), 1 to 730 days; got "${text}"`);
  return n;
}

function effectsOf(off: string | undefined): Partial<Effects> {
  const names = (off ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known: Record<string, keyof Effects> = { promise: 'promise', offer: 'offer', surveys: 'truthfulSurveys' };
  const out: Partial<Effects> = {};
  for (const n of names) {
    const k = known[n];
    if (!k) throw new AppError('PW_DEMO_USAGE', `--effects-off takes promise, offer, surveys (comma-separated); "${n}" is not one`);
    out[k] = false;
  }
  return out;
}

function seedOf(s: string | undefined): number | string {
  if (s === undefined) return 1;
  return /^\d+$/.test(s) ? Number(s) : s;
}

/**
 * Adjusts the configuration for a demo server: its own store under `<data dir>/demo` (fresh each
 * start unless `--keep`), the clock speed, the starter workflows, the loopback receiver allowed as
 * a webhook target, and the cold-room sensor rule unless the operator configured device rules.
 */
export async function prepareDemo(cfg: Config, o: DemoCliOptions): Promise<DemoSession> {
  const speed = parseSpeed(o.speed) ?? (cfg.clockSpeed !== 1 ? cfg.clockSpeed : DEFAULT_DEMO_SPEED);
  const effects = effectsOf(o.effectsOff);
  const seed = seedOf(o.seed);
  const historyDays = o.history === undefined ? undefined : parseHistory(o.history);
  let dataDir = cfg.dataDir;
  if (cfg.databaseUrl === undefined) {
    dataDir = path.join(cfg.dataDir, 'demo');
    const pid = runningPid({ ...cfg, dataDir });
    if (pid !== undefined) throw new AppError('PW_DEMO_USAGE', `a demo is already running on ${dataDir} (pid ${pid}); stop it first`);
    // Each demo starts afresh: the server's clock starts again at "now", so an older run's events
    // would lie in its future.
    if (!o.keep && existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
  const receiver = await startReceiver();
  const workflowsDir = path.join(
    cfg.databaseUrl === undefined ? dataDir : cfg.dataDir,
    cfg.databaseUrl === undefined ? 'workflows' : 'demo-workflows',
  );
  writeStarterWorkflows(workflowsDir, receiver.url);
  const config: Config = {
    ...cfg,
    dataDir,
    clockSpeed: speed,
    demoShop: true,
    workflowsDir,
    webhookAllow: [cfg.webhookAllow, '127.0.0.1/32'].filter((x) => x !== undefined && x.trim() !== '').join(','),
    // The demo's sections for the modules the operator left unconfigured; a configured one is kept as it is.
    detectors: { ...structuredClone(DEMO_DETECTORS), ...cfg.detectors },
  };
  let runner: DemoRunner | undefined;
  return {
    config,
    receiver,
    async attach(pw) {
      const lines: string[] = [];
      try {
        const secrets = openSecretStore(pw.store, pw.clock);
        for (const name of STARTER_SECRETS) if (!(await secrets.get(name))) await secrets.set(name, generateWebhookSecret());
        const { key } = await createKey(pw.store.db, pw.clock, {
          name: 'demo world (pitwall start --demo)',
          scopes: ['ingest', 'read', 'admin'],
        });
        const note = (m: string) => console.log(`  demo: ${m}`);
        if (historyDays !== undefined) {
          const bar = progressBar(historyDays);
          const r = await backfillHistory({ url: pw.httpUrl, key, seed, effects, note, days: historyDays, progress: bar });
          bar.done();
          lines.push(`  History ${historyDays} days backfilled: ${r.events.toLocaleString('en')} events, ${r.world.stats.orders} orders`);
        }
        // The embedded broker takes the key as an MQTT password, and each vehicle device gets its own
        // credential; an external broker has its own credentials.
        const mqttUrl = pw.mqtt.mode === 'embedded' ? pw.mqtt.url : undefined;
        runner = new DemoRunner({ url: pw.httpUrl, key, seed, effects, note, ...(mqttUrl ? { mqttUrl, deviceCredentials: true } : {}) });
        runner.start(1000);
        const dayMinutes = Math.round((1440 / speed) * 10) / 10;
        lines.push('');
        lines.push(`  Demo   a simulated parts shop (seed ${seed}) is driving this Pitwall: a simulated day every ${dayMinutes} minutes`);
        lines.push(`         demo shop ${pw.httpUrl}/demo/shop    dashboard ${pw.httpUrl}/ (sign in with the key below)`);
        lines.push(`         starter workflows on, their webhooks go to ${receiver.url} (GET it for counts)`);
        lines.push(`         sign in with this key: ${key}`);
      } catch (e) {
        lines.push('', `  Demo   could not start (${(e as Error).message}); the server runs without it`);
      }
      return lines;
    },
    async stop() {
      await runner?.stop().catch(() => undefined);
      await receiver.close().catch(() => undefined);
    },
  };
}

/** `pitwall demo --no-server --url … --key …` (and `--history`): drives a running Pitwall. */
export async function demoAgainstServer(o: DemoCliOptions): Promise<void> {
  const url = o.url ?? process.env.PITWALL_URL;
  const key = o.key ?? process.env.PITWALL_KEY;
  if (!url || !key)
    throw new AppError(
      'PW_DEMO_USAGE',
      'pitwall demo --no-server needs --url (e.g. http://127.0.0.1:8080) and --key (a key with ingest, read and admin scopes)',
    );
  const seed = seedOf(o.seed);
  const effects = effectsOf(o.effectsOff);
  const note = (m: string) => console.error(`demo: ${m}`);
  const runner = new DemoRunner({ url, key, seed, effects, note, ...(o.mqtt ? { mqttUrl: o.mqtt } : {}) });
  let clock: Awaited<ReturnType<DemoRunner['clock']>>;
  try {
    clock = await runner.clock();
  } catch (e) {
    throw new AppError('PW_DEMO_SERVER', `cannot use the Pitwall at ${url}: ${(e as Error).message}`);
  }
  if (o.history !== undefined) {
    const days = parseHistory(o.history);
    const started = Date.now();
    const bar = progressBar(days);
    const r = await backfillHistory({ url, key, seed, effects, note, days, progress: bar });
    bar.done();
    console.log(
      `Backfilled ${days} days of history: ${r.events.toLocaleString('en')} events (${r.rejected} rejected) in ${((Date.now() - started) / 1000).toFixed(1)} s — ${r.world.stats.orders} orders, ${r.world.stats.shipments} shipments, ${r.world.stats.lateDeliveries} late.`,
    );
    return;
  }
  const problem = clockMismatch(clock.speed, parseSpeed(o.speed));
  if (problem) throw new AppError('PW_DEMO_CLOCK_SPEED', problem);
  await runner.setup(clock.nowMs);
  console.log(`Demo world (seed ${seed}) driving ${url} at ${clock.speed}× — Ctrl-C stops it.`);
  console.log('  The starter workflows are loaded by the server from its workflows directory: pitwall start --demo does that for you.');
  runner.start(1000);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await runner.stop();
  const s = runner.world?.stats;
  if (s) console.log(`Demo stopped: ${s.sessions} sessions, ${s.orders} orders, ${s.abandoned} carts left, ${s.shipments} shipments.`);
}

/** A progress bar on stderr (one line per 10 % when stderr is not a terminal). */
function progressBar(total: number): ((done: number, total: number, events: number) => void) & { done(): void } {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  const fn = (done: number, all: number, events: number) => {
    const frac = done / all;
    if (tty) {
      const width = 30;
      const filled = Math.round(frac * width);
      process.stderr.write(
        `\r  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${all} days  ${events.toLocaleString('en')} events`,
      );
    } else if (Math.floor(frac * 10) > lastTenth) {
      lastTenth = Math.floor(frac * 10);
      process.stderr.write(`  ${done}/${all} days, ${events} events\n`);
    }
  };
  return Object.assign(fn, {
    done() {
      if (tty && total > 0) process.stderr.write('\n');
    },
  });
}
