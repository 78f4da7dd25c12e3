/**
 * Wires config → store → log → registry → ingest → servers. The only place that does.
 */

import { randomInt } from 'node:crypto';
import pino, { type Logger } from 'pino';
import {
  builtInExecutors,
  Dispatcher,
  executorRegistry,
  openOutbox,
  openSecretStore,
  parseActSettings,
  seededRandom,
} from './act/index.ts';
import {
  AUTOMATE_TIMER_PREFIX,
  type Automation,
  ConditionEnvironment,
  contactPolicy,
  formatProblem,
  loadWorkflowsDir,
  parsePolicySettings,
  policyPurposes,
  startAutomation,
} from './automate/index.ts';
import type { Config } from './config/index.ts';
import { AppError, type Clock, scaledClock } from './core/index.ts';
import { openTimerStore, TimerRunner } from './detect/index.ts';
import { SchemaRegistry } from './events/index.ts';
import { KeyAuthenticator, SessionStore } from './govern/index.ts';
import { buildApp } from './http/index.ts';
import { defaultDoors, Ingestor, type MqttIngest, startMqtt } from './ingest/index.ts';
import { startLearnConsumer } from './learn/index.ts';
import { type EventLog, openEventLog, type Subscription } from './log/index.ts';
import { choosePort, Metrics } from './ops/index.ts';
import { assertStateComplete, type StateConsumer, startStateConsumer } from './state/index.ts';
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
  /** The consumer group `state` (carts and their detector); undefined with PITWALL_DECIDE=off. */
  state: StateConsumer | undefined;
  /** Fires due detector timers; tests call `tick()` after moving a FakeClock. */
  timerRunner: TimerRunner | undefined;
  /** The workflow runner (consumer group `automate`); undefined with PITWALL_DECIDE=off. */
  automation: Automation | undefined;
  /** Sends what workflows put in the outbox; tests call `tick()`. */
  dispatcher: Dispatcher;
  /** Consumer group `learn` (report rollups, src/learn); undefined with PITWALL_DECIDE=off. */
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
  keys.sessions = new SessionStore(store.db, clock);

  const closers: (() => Promise<void>)[] = [];
  // Decide: the state consumer folds the log into projections and schedules detector timers;
  // the timer runner fires them. Both stop after ingestion has drained (they are closed after
  // HTTP and MQTT). PITWALL_DECIDE=off leaves them to other processes (an ingest-only process).
  const decideClosers: (() => Promise<void>)[] = [];
  let state: StateConsumer | undefined;
  let runner: TimerRunner | undefined;
  let automation: Automation | undefined;
  let learn: Subscription | undefined;

  // Act: the executors (built-in actions), the outbox dispatcher, the workflows on file.
  const act = parseActSettings({
    PITWALL_WEBHOOK_ALLOW: config.webhookAllow,
    PITWALL_SMTP_URL: config.smtpUrl,
    PITWALL_MAIL_FROM: config.mailFrom,
  });
  let policySettings: ReturnType<typeof parsePolicySettings>;
  try {
    policySettings = parsePolicySettings(config.automation.policy);
    if (act.problems.length > 0)
      throw new AppError('PW_CONFIG_INVALID', `Invalid configuration:\n  - ${act.problems.join('\n  - ')}`, {
        category: 'user',
        extra: { problems: act.problems },
      });
  } catch (e) {
    await log.close();
    await store.close();
    throw e;
  }
  const executors = builtInExecutors(act.settings, { validator: registry });
  const actions = executorRegistry(executors);
  const conditionEnvironment = new ConditionEnvironment(registry);
  const dispatcher = new Dispatcher(
    openOutbox(store, clock),
    actions,
    { clock, log, db: store.db, secrets: openSecretStore(store, clock), logger },
    {
      random: seededRandom(randomInt(2 ** 31)),
      onError: (e, a) => logger.warn({ err: e, action: a?.key }, 'action attempt failed'),
    },
  );
  const loaded = await loadWorkflowsDir(store.db, config.workflowsDir, {
    environment: conditionEnvironment,
    executors: actions,
    nowMs: clock.now(),
    purposes: policyPurposes(policySettings),
  });
  for (const p of loaded.problems) logger.warn(`workflow not loaded: ${formatProblem(p)}`);
  decideClosers.push(async () => {
    await dispatcher.stop();
    for (const e of executors) await e.close?.();
  });
  dispatcher.start();
  try {
    if (config.decide) {
      await assertStateComplete(store.db); // an interrupted `pitwall state rebuild` must be run again first
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
      const auto = startAutomation({
        log,
        store,
        timers,
        clock,
        eventTypes: registry,
        actions,
        policy: contactPolicy(policySettings),
        stateCaughtUp: (seq) => consumer.caughtUp(seq),
        onEnqueued: () => dispatcher.wake(),
        onError: (e) => logger.error({ err: e }, 'automate batch failed; it will be retried'),
      });
      decideClosers.unshift(() => auto.stop());
      automation = auto;
      const learnGroup = startLearnConsumer({
        log,
        store,
        onError: (e) => logger.error({ err: e }, 'learn batch failed; it will be retried'),
      });
      decideClosers.unshift(() => learnGroup.stop());
      learn = learnGroup;
      const timerRunner = new TimerRunner(
        timers,
        clock,
        (t) => (t.key.startsWith(AUTOMATE_TIMER_PREFIX) ? auto.fire(t) : consumer.fire(t)),
        {
          onError: (e, t) => logger.warn({ err: e, timer: t?.key }, 'timer handler failed; retrying with backoff'),
        },
      );
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

  // Storefront: the decision API and surveys (seeds the built-in surveys).
  let storefront: Awaited<ReturnType<typeof createStorefront>>;
  try {
    storefront = await createStorefront({
      store,
      log,
      clock,
      policy: policySettings,
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
    isReady: () => ready,
    state,
    executors: actions,
    conditionEnvironment,
    policySettings,
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
      state,
      timerRunner: runner,
      automation,
      dispatcher,
      learn,
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
