/**
 * The background thread (ADR 0022): opens its own connection to the store and its own event log,
 * and runs Decide, Act and Learn (background.ts) there, off the thread that serves HTTP and MQTT.
 * Appends it makes (derived events) go through its own log; the HTTP thread tells it about the
 * appends it commits, so the consumer groups wake at once. Started by background-thread.ts from the
 * compiled sources (bin/compile.js), since a worker cannot load TypeScript.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { actWiring, startBackground } from './background.ts';
import type { BackgroundWorkerData, FromWorker, ToWorker } from './background-protocol.ts';
import { AppError, scaledClock, systemClock } from './core/index.ts';
import { SchemaRegistry } from './events/index.ts';
import { openEventLog, withAppendFeed } from './log/index.ts';
import { openStore, sqliteFileIn } from './store/index.ts';

const port = parentPort;
if (!port) throw new Error('background-worker.ts runs as a worker thread');
const { config, clockStart } = workerData as BackgroundWorkerData;
const post = (m: FromWorker) => port.postMessage(m);
const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.password', '*.key', '*.writeKey'] }).child({
  thread: 'background',
});
const clock = scaledClock(config.clockSpeed, systemClock, clockStart);

try {
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    sqliteFile: sqliteFileIn(config.dataDir),
    pgSchema: config.databaseSchema,
  });
  const fed = withAppendFeed(openEventLog(store, clock, { dedupeWindowMs: config.dedupeRetentionDays * 86_400_000 }));
  const registry = await new SchemaRegistry().load(store.db);
  let bg: Awaited<ReturnType<typeof startBackground>>;
  try {
    bg = await startBackground({ config, store, log: fed.log, clock, logger, registry, wiring: actWiring(config, registry) });
  } catch (e) {
    await fed.log.close();
    await store.close();
    throw e;
  }
  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'head':
        fed.notify(m.head);
        break;
      case 'caughtUp':
        void (bg.state?.caughtUp(m.seq) ?? Promise.resolve()).then(() => post({ t: 'caughtUp', id: m.id }));
        break;
      case 'types':
        registry.load(store.db).catch((e) => logger.warn({ err: e }, 'reloading event types failed'));
        break;
      case 'stop':
        void (async () => {
          await bg.stop();
          await fed.log.close();
          await store.close();
          post({ t: 'stopped' });
          port.close();
        })();
        break;
    }
  });
  post({ t: 'ready' });
} catch (e) {
  post({ t: 'failed', code: e instanceof AppError ? e.code : undefined, message: e instanceof Error ? e.message : String(e) });
  port.close();
}
