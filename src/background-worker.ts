/**
 * The background thread (ADR 0022): opens its own connection to the store and runs Decide, Act
 * and Learn (background.ts) there, off the thread that serves HTTP and MQTT. It reads the log on
 * that connection; its appends (derived events) and acks go to the HTTP thread's log, whose writer
 * owns the dedupe index, and that thread tells it about every head it commits, so the consumer
 * groups wake at once. Started by background-thread.ts from the compiled sources (bin/compile.js),
 * since a worker cannot load TypeScript.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { type ActWiring, actWiring, startBackground } from './background.ts';
import type { BackgroundWorkerData, FromWorker, ToWorker } from './background-protocol.ts';
import { AppError, scaledClock, systemClock } from './core/index.ts';
import { SchemaRegistry } from './events/index.ts';
import { type AppendOutcome, ForwardingEventLog, openLogReader } from './log/index.ts';
import { openStore, sqliteFileIn } from './store/index.ts';

const port = parentPort;
if (!port) throw new Error('background-worker.ts runs as a worker thread');
const { config, clockStart } = workerData as BackgroundWorkerData;
const post = (m: FromWorker) => port.postMessage(m);
const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.password', '*.key', '*.writeKey'] }).child({
  thread: 'background',
});
const clock = scaledClock(config.clockSpeed, systemClock, clockStart);

/**
 * Requests first: this thread runs at a lower priority (nice 5) than the one serving HTTP and
 * MQTT, so under more load than the cores can carry, acknowledgements and decisions stay quick and
 * the fold catches up afterwards. Measured (docs/benchmarks.md, session 6): nice 0 let the fold
 * starve ingest (the actions bench could not send its 1,000/s), nice 10 starved the fold (event →
 * webhook p50 over 1 s); 5 keeps both. Linux keeps a nice value per thread; elsewhere this is skipped.
 */
const BACKGROUND_NICE = 5;
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, BACKGROUND_NICE);
} catch {
  // Not Linux, or not allowed: the thread runs at the process's priority.
}

try {
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    sqliteFile: sqliteFileIn(config.dataDir),
    pgSchema: config.databaseSchema,
  });
  // Appends and acks go to the HTTP thread's log (one writer per store); reads stay here.
  const calls = new Map<number, { resolve: (o: AppendOutcome[] | undefined) => void; reject: (e: unknown) => void }>();
  let nextCall = 0;
  const call = (m: (id: number) => FromWorker) =>
    new Promise<AppendOutcome[] | undefined>((resolve, reject) => {
      const id = ++nextCall;
      calls.set(id, { resolve, reject });
      post(m(id));
    });
  const log = new ForwardingEventLog(openLogReader(store, clock), {
    append: async (events) => (await call((id) => ({ t: 'append', id, events: [...events] }))) ?? [],
    ack: async (group, seq) => {
      await call((id) => ({ t: 'ack', id, group, seq }));
    },
  });
  const registry = await new SchemaRegistry().load(store.db);
  let bg: Awaited<ReturnType<typeof startBackground>> | undefined;
  let wiring: ActWiring | undefined;
  const closeExecutors = async () => {
    for (const e of wiring?.executors ?? []) await e.close?.();
  };
  // Listening before the work starts: its first acks are answered while it starts.
  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'head':
        log.notify(m.head);
        break;
      case 'done':
      case 'error': {
        const c = calls.get(m.id);
        calls.delete(m.id);
        if (m.t === 'done') c?.resolve(m.outcomes);
        else c?.reject(new AppError(m.code ?? 'PW_STORE_UNAVAILABLE', m.message, { status: 503, category: 'operational' }));
        break;
      }
      case 'caughtUp':
        void (bg?.state?.caughtUp(m.seq) ?? Promise.resolve()).then(() => post({ t: 'caughtUp', id: m.id }));
        break;
      case 'types':
        registry.load(store.db).catch((e) => logger.warn({ err: e }, 'reloading event types failed'));
        break;
      case 'stop':
        void (async () => {
          await bg?.stop();
          await closeExecutors();
          await log.close();
          await store.close();
          post({ t: 'stopped' });
          port.close();
        })();
        break;
    }
  });
  try {
    wiring = actWiring(config, registry);
    bg = await startBackground({ config, store, log, clock, logger, registry, wiring, onEnqueued: () => post({ t: 'enqueued' }) });
  } catch (e) {
    await closeExecutors();
    await log.close();
    await store.close();
    throw e;
  }
  post({ t: 'ready' });
} catch (e) {
  post({ t: 'failed', code: e instanceof AppError ? e.code : undefined, message: e instanceof Error ? e.message : String(e) });
  port.close();
}
