import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { type Child, percentile, round, startScript } from './lib.ts';

const CLIENTS = 8;
const IN_FLIGHT_PER_CLIENT = 100;
/** 2026-01-01T09:00:00Z in seconds. */
const T0 = 1_767_258_000;

interface ServerInfo {
  port: number;
  username?: string;
  password?: string;
  device?: string;
}

type Broker = Child<ServerInfo>;

interface LoadResult {
  acked: number;
  failed: number;
  seconds: number;
  p50_ms: number;
  p99_ms: number;
}

const self = fileURLToPath(import.meta.url);

function startBroker(kind: 'pitwall' | 'aedes'): Promise<Broker> {
  return startScript<ServerInfo>(`mqtt-${kind}`, self, ['serve', kind]);
}

let nextValue = 0;
/** One SenML record with its own absolute time and value, so every pack has a distinct event id. */
function packFor(device: string): string {
  const k = nextValue++;
  return `[{"bn":"urn:dev:${device}:","n":"temp","u":"Cel","v":${k},"t":${T0 + k / 1000}}]`;
}

async function load(b: Broker, durationMs: number): Promise<LoadResult> {
  const device = b.info.device ?? 'bench-device';
  const topic = `pitwall/devices/${device}/senml`;
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${b.info.port}`, {
        clientId: `bench-${i}`,
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...(b.info.username ? { username: b.info.username, password: b.info.password } : {}),
      }),
    ),
  );
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  const end = start + durationMs;
  try {
    await Promise.all(
      clients.flatMap((c) =>
        Array.from({ length: IN_FLIGHT_PER_CLIENT }, async () => {
          while (performance.now() < end) {
            const t = performance.now();
            try {
              await c.publishAsync(topic, packFor(device), { qos: 1 });
              latencies.push(performance.now() - t);
            } catch {
              failed++;
              return;
            }
          }
        }),
      ),
    );
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { acked: latencies.length, failed, seconds, p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)) };
}

function report(name: string, r: LoadResult): number {
  const rate = r.acked / r.seconds;
  console.log(
    `${name.padEnd(32)} ${Math.round(rate).toString().padStart(8)} msgs/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms  acked ${r.acked}  failed ${r.failed}`,
  );
  return rate;
}

/** Warm up, then measure; returns the measured run and every PUBACK received. */
async function against(b: Broker, durationMs: number): Promise<{ r: LoadResult; acked: number }> {
  const warm = await load(b, Math.min(1000, durationMs / 4));
  const r = await load(b, durationMs);
  return { r, acked: warm.acked + r.acked };
}

export async function runMqttBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const duration = opts.quick ? 2000 : 10_000;
  console.log(`mqtt: ${CLIENTS} clients × ${IN_FLIGHT_PER_CLIENT} in flight, QoS 1, one SenML record per publish, ${duration / 1000} s`);

  const baseline = await startBroker('aedes');
  let base: LoadResult;
  try {
    base = (await against(baseline, duration)).r;
  } finally {
    await baseline.stop();
  }
  const baseRate = report('baseline (aedes, no-op authorize)', base);

  const pitwall = await startBroker('pitwall');
  let r: LoadResult;
  let acked: number;
  let stored: number;
  try {
    ({ r, acked } = await against(pitwall, duration));
    const db = new SqliteDatabase(path.join(pitwall.dir, 'pitwall.db'), { readonly: true });
    try {
      stored = db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
    } finally {
      db.close();
    }
  } finally {
    await pitwall.stop();
  }
  const rate = report('pitwall (auth + commit before PUBACK)', r);
  console.log(`stored events ${stored}, PUBACKs received ${acked}: ${stored === acked ? 'equal' : 'MISMATCH'}`);
  if (stored !== acked) throw new Error(`stored ${stored} events but received ${acked} PUBACKs`);

  return {
    bench: 'mqtt',
    msgs_per_s: Math.round(rate),
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    baseline_msgs_per_s: Math.round(baseRate),
    ratio: round(rate / baseRate),
    stored_events: stored,
    pubacks: acked,
  };
}

/** Child process: a broker on a free port; prints its connection details as one JSON line. */
async function serve(kind: string, dir: string): Promise<void> {
  if (kind === 'aedes') {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker({ authorizePublish: (_client, _packet, done) => done(null) });
    const server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const a = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 })}\n`);
    process.on('SIGTERM', () => server.close(() => broker.close(() => process.exit(0))));
    return;
  }
  const pino = (await import('pino')).default;
  const { loadConfig } = await import('../src/config/config.ts');
  const { createDevice } = await import('../src/govern/index.ts');
  const { startPitwall } = await import('../src/main.ts');
  const { Metrics } = await import('../src/ops/metrics.ts');
  const cfg = loadConfig({ PITWALL_DATA_DIR: dir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: '0', PITWALL_LOG_LEVEL: 'silent' }, dir);
  const pw = await startPitwall(cfg, { logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) });
  const device = 'bench-device';
  const { password } = await createDevice(pw.store.db, pw.clock, device);
  process.stdout.write(`${JSON.stringify({ port: pw.mqtt.port, username: device, password, device })}\n`);
  process.on('SIGTERM', () => {
    void pw.stop().then(() => process.exit(0));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === self && process.argv[2] === 'serve') {
  const [kind = '', dir = ''] = process.argv.slice(3);
  await serve(kind, dir);
}
