import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { type Child, type ContenderResult, interleave, type LoadResult, percentile, round, roundRatio, startScript } from './lib.ts';

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
  // `requests` counts PUBACKs: every publish that failed also counts in `failed`.
  return {
    requests: latencies.length + failed,
    failed,
    statuses: {},
    seconds,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    latencies,
  };
}

function report(r: ContenderResult): void {
  const cpu = r.cpu_us_per_event === undefined ? '' : `  server CPU ${r.cpu_us_per_event} µs/msg`;
  console.log(
    `${r.name.padEnd(38)} ${Math.round(r.rate).toString().padStart(8)} msgs/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms${cpu}  rounds ${JSON.stringify(r.rates)}  failed ${r.failed}`,
  );
}

export async function runMqttBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  // Full: 3 interleaved rounds of 4 s each (see `interleave`); quick: one round of 2 s.
  const rounds = opts.quick ? 1 : 3;
  const duration = opts.quick ? 2000 : 4000;
  console.log(
    `mqtt: ${CLIENTS} clients × ${IN_FLIGHT_PER_CLIENT} in flight, QoS 1, one SenML record per publish, ${rounds} × ${duration / 1000} s`,
  );

  const baseline = await startBroker('aedes');
  let pitwall: Broker | undefined;
  let base: ContenderResult;
  let r: ContenderResult;
  let acked = 0;
  let stored: number;
  try {
    pitwall = await startBroker('pitwall');
    const broker = pitwall;
    // Warm up both (JIT, page cache) before measuring; every PUBACK counts for the check below.
    await load(baseline, 1000);
    const warm = await load(broker, 1000);
    acked += warm.requests - warm.failed;
    [base, r] = (await interleave(
      [
        { name: 'baseline (aedes, no-op authorize)', pid: baseline.proc.pid, perRequest: 1, run: (ms) => load(baseline, ms) },
        {
          name: 'pitwall (auth + commit before PUBACK)',
          pid: broker.proc.pid,
          perRequest: 1,
          run: async (ms) => {
            const res = await load(broker, ms);
            acked += res.requests - res.failed;
            return res;
          },
        },
      ],
      rounds,
      duration,
    )) as [ContenderResult, ContenderResult];
    const db = new SqliteDatabase(path.join(broker.dir, 'pitwall.db'), { readonly: true });
    try {
      stored = db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
    } finally {
      db.close();
    }
  } finally {
    await baseline.stop();
    await pitwall?.stop();
  }
  report(base);
  report(r);
  console.log(`stored events ${stored}, PUBACKs received ${acked}: ${stored === acked ? 'equal' : 'MISMATCH'}`);
  if (stored !== acked) throw new Error(`stored ${stored} events but received ${acked} PUBACKs`);

  return {
    bench: 'mqtt',
    msgs_per_s: Math.round(r.rate),
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    baseline_msgs_per_s: Math.round(base.rate),
    ratio: roundRatio(r, base),
    cpu_us_per_msg: r.cpu_us_per_event,
    baseline_cpu_us_per_msg: base.cpu_us_per_event,
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
  // Ingest only, like the ingest bench: the Decide stage's consumers are measured on their own.
  const cfg = loadConfig(
    {
      PITWALL_DATA_DIR: dir,
      PITWALL_HTTP_PORT: '0',
      PITWALL_MQTT_PORT: '0',
      PITWALL_LOG_LEVEL: 'silent',
      PITWALL_DECIDE: process.env.PITWALL_DECIDE ?? 'off',
    },
    dir,
  );
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
