/**
 * Wires config → store → log → registry → ingest → servers. The only place that does.
 */

import pino, { type Logger } from 'pino';
import type { Dispatcher } from './act/index.ts';
import type { Automation } from './automate/index.ts';
import { type ActWiring, actWiring, type Background, createDispatcher, startBackground } from './background.ts';
import { type BackgroundThread, startBackgroundThread } from './background-thread.ts';
import type { Config } from './config/index.ts';
import { type Clock, scaledClock, systemClock } from './core/index.ts';
import type { TimerRunner } from './detect/index.ts';
import { SchemaRegistry } from './events/index.ts';
import { KeyAuthenticator, SessionStore } from './govern/index.ts';
import { buildApp } from './http/index.ts';
import { defaultDoors, Ingestor, type MqttIngest, startMqtt } from './ingest/index.ts';
import { type EventLog, openEventLog, type Subscription } from './log/index.ts';
import { choosePort, Metrics } from './ops/index.ts';
import { assertStateComplete, type StateConsumer } from './state/index.ts';
import { openStore, type Store, sqliteFileIn } from './store/index.ts';
import { createStorefront, parseStorefrontSettings } from './storefront/index.ts';

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
  /** Where Decide, Act and Learn run: on a worker thread of their own, or on this thread (ADR 0022). */
  background: 'thread' | 'inline';
  /** The consumer group `state`: undefined with PITWALL_DECIDE=off or on the background thread. */
  state: StateConsumer | undefined;
  /** Fires due detector timers; tests call `tick()` after moving a FakeClock. Undefined off this thread. */
  timerRunner: TimerRunner | undefined;
  /** The workflow runner (consumer group `automate`); undefined with PITWALL_DECIDE=off or off this thread. */
  automation: Automation | undefined;
  /** Sends what workflows put in the outbox (on this thread either way); tests call `tick()`. */
  dispatcher: Dispatcher;
  /** Consumer group `learn` (report rollups, src/learn); undefined with PITWALL_DECIDE=off or off this thread. */
  learn: Subscription | undefined;
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
  const clockStart = Date.now();
  const clock = opts.clock ?? scaledClock(config.clockSpeed, systemClock, clockStart);
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
  keys.sessions = new SessionStore(store.db, clock);

  const closers: (() => Promise<void>)[] = [];
  // The background work — Decide, Act, Learn — stops after ingestion has drained (it is closed
  // after HTTP and MQTT). PITWALL_DECIDE=off leaves the consumer groups to other processes (an
  // ingest-only process); the outbox dispatcher runs either way.
  const decideClosers: (() => Promise<void>)[] = [];
  let wiring: ActWiring;
  let closeExecutors = async () => {};
  let inline: Background | undefined;
  let thread: BackgroundThread | undefined;
  let dispatcher: Dispatcher;
  try {
    // The executors and the policy are validated here (and the API uses them to check workflows)
    // whichever thread runs the work.
    wiring = actWiring(config, registry);
    const executors = wiring.executors;
    closeExecutors = async () => {
      for (const e of executors) await e.close?.();
    };
    if (config.decide) await assertStateComplete(store.db); // an interrupted `pitwall state rebuild` must be run again first
    // The dispatcher runs here either way (see createDispatcher); it stops after the groups.
    const d = createDispatcher({ store, log, clock, logger, wiring });
    dispatcher = d;
    // A worker thread cannot share an injected clock: a server under test runs its work inline.
    if (config.decide && config.decideThread && opts.clock === undefined)
      thread = await startBackgroundThread({ config, clockStart, log, logger, onEnqueued: () => d.wake() });
    if (thread) {
      const t = thread;
      const offTypes = registry.onRegistered(() => t.typesChanged());
      decideClosers.push(async () => {
        offTypes();
        await t.stop();
      });
    } else {
      inline = await startBackground({ config, store, log, clock, logger, registry, wiring, onEnqueued: () => d.wake() });
      const bg = inline;
      decideClosers.push(() => bg.stop());
    }
    d.start();
    decideClosers.push(() => d.stop(), closeExecutors);
  } catch (e) {
    for (const c of decideClosers) await c().catch(() => undefined);
    await closeExecutors().catch(() => undefined);
    await log.close();
    await store.close();
    throw e;
  }

  // Storefront: the decision API and surveys (seeds the built-in surveys).
  let storefront: Awaited<ReturnType<typeof createStorefront>>;
  try {
    storefront = await createStorefront({
      store,
      log,
      clock,
      policy: wiring.policySettings,
      settings: parseStorefrontSettings(config.storefront),
    });
    decideClosers.push(() => storefront.close());
  } catch (e) {
    for (const c of decideClosers) await c().catch(() => undefined);
    await log.close();
    await store.close();
    throw e;
  }
  const app = buildApp({
    store,
    log,
    registry,
    ingestor,
    keys,
    metrics,
    clock,
    clockSpeed: config.clockSpeed,
    demoShop: config.demoShop,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    logger,
    isReady: () => ready && thread?.problem() === undefined,
    state: thread?.state ?? inline?.state,
    executors: wiring.actions,
    conditionEnvironment: wiring.conditionEnvironment,
    policySettings: wiring.policySettings,
    ...(config.detectors !== undefined ? { detectors: config.detectors } : {}),
    storefront,
  });
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
      background: thread ? 'thread' : 'inline',
      state: inline?.state,
      timerRunner: inline?.timerRunner,
      automation: inline?.automation,
      dispatcher,
      learn: inline?.learn,
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
