/**
 * Wires config → store → log → registry → ingest → servers. The only place that does.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config/index.ts';
import { type Clock, scaledClock } from './core/index.ts';
import { openTimerStore, TimerRunner } from './detect/index.ts';
import { SchemaRegistry } from './events/index.ts';
import { KeyAuthenticator } from './govern/index.ts';
import { buildApp } from './http/index.ts';
import { defaultDoors, Ingestor, type MqttIngest, startMqtt } from './ingest/index.ts';
import { type EventLog, openEventLog } from './log/index.ts';
import { choosePort, Metrics } from './ops/index.ts';
import { type StateConsumer, startStateConsumer } from './state/index.ts';
import { openStore, type Store, sqliteFileIn } from './store/index.ts';

export interface Pitwall {
  config: Config;
  clock: Clock;
  store: Store;
  log: EventLog;
  ingestor: Ingestor;
  logger: Logger;
  /** http://host:port actually listening. */
  httpUrl: string;
  /** Where MQTT clients connect: the embedded broker's URL, the external broker's, or undefined when off. */
  mqtt: { mode: 'embedded' | 'external' | 'off'; url: string | undefined; port: number | undefined; fellBack: boolean };
  httpFellBack: boolean;
  /** The consumer group `state` (carts and their detector); undefined with PITWALL_DECIDE=off. */
  state: StateConsumer | undefined;
  /** Fires due detector timers; tests call `tick()` after moving a FakeClock. */
  timerRunner: TimerRunner | undefined;
  /** Stop accepting, drain, commit, close. */
  stop(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** Test hook: metrics without process-wide default collectors. */
  metrics?: Metrics;
}

export async function startPitwall(config: Config, opts: StartOptions = {}): Promise<Pitwall> {
  const clock = opts.clock ?? scaledClock(config.clockSpeed);
  const logger =
    opts.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.password', '*.key', '*.writeKey'] });
  const metrics = opts.metrics ?? new Metrics();
  let ready = false;

  const store = await openStore({
    databaseUrl: config.databaseUrl,
    sqliteFile: sqliteFileIn(config.dataDir),
    pgSchema: config.databaseSchema,
  });
  const log = openEventLog(store, clock, { dedupeWindowMs: config.dedupeRetentionDays * 86_400_000 });
  const registry = await new SchemaRegistry().load(store.db);
  const ingestor = new Ingestor({ store, log, registry, clock, metrics, maxPendingEvents: config.maxPendingEvents, doors: defaultDoors() });
  const keys = new KeyAuthenticator(store.db, clock);

  const closers: (() => Promise<void>)[] = [];
  // Decide: the state consumer folds the log into projections and schedules detector timers;
  // the timer runner fires them. Both stop after ingestion has drained (they are closed after
  // HTTP and MQTT). PITWALL_DECIDE=off leaves them to other processes (an ingest-only process).
  const decideClosers: (() => Promise<void>)[] = [];
  let state: StateConsumer | undefined;
  let runner: TimerRunner | undefined;
  try {
    if (config.decide) {
      const timers = openTimerStore(store, clock);
      const consumer = startStateConsumer({
        log,
        store,
        timers,
        clock,
        idleMs: config.cartAbandonMinutes * 60_000,
        detectors: config.detectors,
        onError: (e) => logger.error({ err: e }, 'state consumer batch failed; it will be retried'),
      });
      decideClosers.push(() => consumer.stop());
      const timerRunner = new TimerRunner(timers, clock, consumer.fire, {
        onError: (e, t) => logger.warn({ err: e, timer: t?.key }, 'timer handler failed; retrying with backoff'),
      });
      timerRunner.start();
      decideClosers.unshift(() => timerRunner.stop());
      state = consumer;
      runner = timerRunner;
    }
  } catch (e) {
    for (const c of decideClosers) await c().catch(() => undefined);
    await log.close();
    await store.close();
    throw e;
  }

  const app = buildApp({ store, log, registry, ingestor, keys, metrics, clock, logger, isReady: () => ready, state });
  try {
    const http = await choosePort(config.host, config.httpPort, config.httpPortExplicit, 'PITWALL_HTTP_PORT', 'HTTP');
    await app.listen({ host: config.host, port: http.port });
    closers.push(() => app.close());
    const addr = app.server.address();
    const httpPort = typeof addr === 'object' && addr ? addr.port : http.port;
    const mqtt: MqttIngest = await startMqtt({ config, ingestor, store, logger, clock });
    closers.unshift(() => mqtt.close());

    // Forget dedupe keys past the retention window, hourly.
    const prune = setInterval(() => {
      log.pruneDedupe(clock.now() - config.dedupeRetentionDays * 86_400_000).catch((e) => logger.warn({ err: e }, 'dedupe prune failed'));
    }, 3_600_000);
    prune.unref();
    closers.push(async () => clearInterval(prune));
    closers.push(...decideClosers);

    ready = true;
    const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      config,
      clock,
      store,
      log,
      ingestor,
      logger,
      httpUrl: `http://${hostForUrl}:${httpPort}`,
      httpFellBack: http.fellBack,
      mqtt: mqtt.info,
      state,
      timerRunner: runner,
      async stop() {
        ready = false;
        for (const c of closers) await c().catch((e) => logger.warn({ err: e }, 'error while stopping'));
        await log.close();
        await store.close();
      },
    };
  } catch (e) {
    for (const c of [...closers, ...decideClosers.filter((c) => !closers.includes(c))]) await c().catch(() => undefined);
    await log.close();
    await store.close();
    throw e;
  }
}
