/**
 * The loop's background work: everything that follows the log instead of answering a request.
 * Decide (group `state` and the detectors' timers), Act (group `automate` and its waits; the outbox
 * dispatcher is made here but runs on the HTTP thread, see `createDispatcher`) and Learn (group `learn`). main.ts runs it on a worker thread of its own by default
 * (background-thread.ts), so folding never holds up ingest or a decision, or on the HTTP thread
 * (`PITWALL_DECIDE_THREAD=off`, and whenever a test injects its clock). ADR 0022.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type ActionExecutor,
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
import { AppError, type Clock } from './core/index.ts';
import { openTimerStore, TimerRunner } from './detect/index.ts';
import type { SchemaRegistry } from './events/index.ts';
import { startLearnConsumer } from './learn/index.ts';
import type { EventLog, Subscription } from './log/index.ts';
import { type StateConsumer, startStateConsumer } from './state/index.ts';
import type { Store } from './store/index.ts';

/** What both threads build from the configuration: the executors, the condition environment, the policy. */
export interface ActWiring {
  executors: ActionExecutor[];
  actions: Map<string, ActionExecutor>;
  conditionEnvironment: ConditionEnvironment;
  policySettings: ReturnType<typeof parsePolicySettings>;
}

/** Validates the Act settings (throws PW_CONFIG_INVALID with one line per problem) and builds the executors. */
export function actWiring(config: Config, registry: SchemaRegistry): ActWiring {
  const act = parseActSettings({
    PITWALL_WEBHOOK_ALLOW: config.webhookAllow,
    PITWALL_SMTP_URL: config.smtpUrl,
    PITWALL_MAIL_FROM: config.mailFrom,
  });
  const policySettings = parsePolicySettings(config.automation.policy);
  if (act.problems.length > 0)
    throw new AppError('PW_CONFIG_INVALID', `Invalid configuration:\n  - ${act.problems.join('\n  - ')}`, {
      category: 'user',
      extra: { problems: act.problems },
    });
  const executors = builtInExecutors(act.settings, { validator: registry });
  return { executors, actions: executorRegistry(executors), conditionEnvironment: new ConditionEnvironment(registry), policySettings };
}

export interface Background {
  /** The consumer group `state`; undefined with PITWALL_DECIDE=off. */
  state: StateConsumer | undefined;
  /** Fires due detector and workflow timers; tests call `tick()` after moving a FakeClock. */
  timerRunner: TimerRunner | undefined;
  /** The workflow runner (group `automate`); undefined with PITWALL_DECIDE=off. */
  automation: Automation | undefined;
  /** The consumer group `learn`; undefined with PITWALL_DECIDE=off. */
  learn: Subscription | undefined;
  /** Stops in order: timers and runs first, then the fold (the dispatcher and the executors are the caller's). */
  stop(): Promise<void>;
}

export interface BackgroundDeps {
  config: Config;
  store: Store;
  log: EventLog;
  clock: Clock;
  logger: Logger;
  registry: SchemaRegistry;
  wiring: ActWiring;
  /** After a run transaction that put actions in the outbox: wake the dispatcher. */
  onEnqueued: () => void;
}

/**
 * The outbox dispatcher. It runs on the thread that serves HTTP, whichever thread runs the groups:
 * sending is waiting on receivers, and a thread that folds in long synchronous transactions reads
 * their answers late — measured, event → webhook p50 0.3–1.2 s with it on the background thread
 * against about 55 ms here (docs/benchmarks.md, session 6).
 */
export function createDispatcher(d: { store: Store; log: EventLog; clock: Clock; logger: Logger; wiring: ActWiring }): Dispatcher {
  return new Dispatcher(
    openOutbox(d.store, d.clock),
    d.wiring.actions,
    { clock: d.clock, log: d.log, db: d.store.db, secrets: openSecretStore(d.store, d.clock), logger: d.logger },
    {
      random: seededRandom(randomInt(2 ** 31)),
      onError: (e, a) => d.logger.warn({ err: e, action: a?.key }, 'action attempt failed'),
    },
  );
}

/**
 * Loads the workflows on file, then (unless `config.decide` is off) starts the groups `state`,
 * `automate` and `learn` and the timer runner. On a failure it stops what it started.
 */
export async function startBackground(d: BackgroundDeps): Promise<Background> {
  const { config, store, log, clock, logger, wiring } = d;
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const c of closers) await c().catch((e) => logger.warn({ err: e }, 'error while stopping'));
  };
  let state: StateConsumer | undefined;
  let timerRunner: TimerRunner | undefined;
  let automation: Automation | undefined;
  let learn: Subscription | undefined;
  try {
    const loaded = await loadWorkflowsDir(store.db, config.workflowsDir, {
      environment: wiring.conditionEnvironment,
      executors: wiring.actions,
      nowMs: clock.now(),
      purposes: policyPurposes(wiring.policySettings),
    });
    for (const p of loaded.problems) logger.warn(`workflow not loaded: ${formatProblem(p)}`);
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
      closers.unshift(() => consumer.stop());
      state = consumer;
      const auto = startAutomation({
        log,
        store,
        timers,
        clock,
        eventTypes: d.registry,
        actions: wiring.actions,
        policy: contactPolicy(wiring.policySettings),
        stateCaughtUp: (seq) => consumer.caughtUp(seq),
        onEnqueued: d.onEnqueued,
        onError: (e) => logger.error({ err: e }, 'automate batch failed; it will be retried'),
      });
      closers.unshift(() => auto.stop());
      automation = auto;
      const learnGroup = startLearnConsumer({
        log,
        store,
        onError: (e) => logger.error({ err: e }, 'learn batch failed; it will be retried'),
      });
      closers.unshift(() => learnGroup.stop());
      learn = learnGroup;
      const runner = new TimerRunner(timers, clock, (t) => (t.key.startsWith(AUTOMATE_TIMER_PREFIX) ? auto.fire(t) : consumer.fire(t)), {
        onError: (e, t) => logger.warn({ err: e, timer: t?.key }, 'timer handler failed; retrying with backoff'),
      });
      runner.start();
      closers.unshift(() => runner.stop());
      timerRunner = runner;
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { state, timerRunner, automation, learn, stop };
}
