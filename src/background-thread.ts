/**
 * Runs the background work (background.ts: Decide, Act, Learn) on a worker thread of its own
 * (background-worker.ts), so the thread that serves HTTP and MQTT never waits for a fold, a run
 * or a dispatch (ADR 0022). Both threads share the store file (or database) and the event log's
 * table; this host forwards the appends the HTTP thread commits, answers `caughtUp` for the
 * routes that wait for the fold, and restarts the thread if it dies — the consumer groups resume
 * from their persisted positions, so nothing is lost or done twice.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { BackgroundWorkerData, FromWorker, ToWorker } from './background-protocol.ts';
import type { Config } from './config/index.ts';
import { AppError } from './core/index.ts';
import type { EventLog } from './log/index.ts';

export interface BackgroundThread {
  /** Group `state` on the background thread: resolves once it has folded `seq`. */
  state: { caughtUp(seq: number): Promise<void> };
  /** Tells the thread a custom event type was registered. */
  typesChanged(): void;
  /** Why the thread is not running (it died and is being started again), or undefined. */
  problem(): string | undefined;
  /** Stops the thread's work in order (runs, fold, dispatcher) and waits for it to close its store. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 30_000;
/** Waits before starting a dead thread again: the next after each failure, reset once it ran a minute. */
const RESTART_MS = [1_000, 5_000, 30_000];
const STABLE_MS = 60_000;

/**
 * The compiled worker entry (bin/compile.js keeps a JavaScript copy of the sources, which is what
 * a worker thread can load), or undefined when the cache cannot be written.
 */
async function workerEntry(): Promise<string | undefined> {
  // biome-ignore lint/suspicious/noExplicitAny: bin/compile.js is plain JavaScript without types
  const compile = (await import(new URL('../bin/compile.js', import.meta.url).href)) as any;
  return (await compile.compiledEntry('background-worker.ts')) as string | undefined;
}

const errorReply = (id: number, e: unknown): ToWorker => ({
  t: 'error',
  id,
  code: e instanceof AppError ? e.code : undefined,
  message: e instanceof Error ? e.message : String(e),
});

/**
 * Starts the background thread and resolves once its work runs (the workflows on file loaded, the
 * groups started), or rejects with the error that stopped it. Undefined when no compiled entry can
 * be had: the caller runs the work on its own thread instead.
 */
export async function startBackgroundThread(o: {
  config: Config;
  clockStart: number;
  log: EventLog;
  logger: Logger;
  /** The worker's runs put actions in the outbox: wake the dispatcher. */
  onEnqueued: () => void;
  /** Tests: another worker script that speaks the same protocol (background-protocol.ts). */
  entry?: string;
  /** Tests: the waits before each restart (default 1 s, 5 s, then 30 s). */
  restartMs?: readonly number[];
}): Promise<BackgroundThread | undefined> {
  const entry = o.entry ?? (await workerEntry());
  if (entry === undefined) return undefined;
  const restartMs = o.restartMs ?? RESTART_MS;
  const data: BackgroundWorkerData = { config: o.config, clockStart: o.clockStart };
  const waiters = new Map<number, { seq: number; resolve: () => void }>();
  let nextId = 0;
  let worker: Worker | undefined;
  let ready = false;
  let stopping = false;
  let failures = 0;
  let everStarted = false;
  let down: string | undefined;
  let typesPending = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const send = (m: ToWorker) => {
    if (ready) worker?.postMessage(m);
  };

  const spawn = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL(entry), { workerData: data });
      worker = w;
      let started = false;
      let startedAt = 0;
      w.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'append':
            o.log.append(m.events).then(
              (outcomes) => w.postMessage({ t: 'done', id: m.id, outcomes } satisfies ToWorker),
              (e: unknown) => w.postMessage(errorReply(m.id, e)),
            );
            break;
          case 'ack':
            o.log.ack(m.group, m.seq).then(
              () => w.postMessage({ t: 'done', id: m.id } satisfies ToWorker),
              (e: unknown) => w.postMessage(errorReply(m.id, e)),
            );
            break;
          case 'ready':
            started = true;
            startedAt = Date.now();
            ready = true;
            down = undefined;
            for (const [id, { seq }] of waiters) w.postMessage({ t: 'caughtUp', id, seq } satisfies ToWorker);
            if (typesPending) w.postMessage({ t: 'types' } satisfies ToWorker);
            typesPending = false;
            resolve();
            break;
          case 'failed':
            reject(new AppError(m.code ?? 'PW_BACKGROUND_FAILED', m.message, { status: 500, category: 'operational' }));
            break;
          case 'caughtUp': {
            const wt = waiters.get(m.id);
            waiters.delete(m.id);
            wt?.resolve();
            break;
          }
          case 'enqueued':
            o.onEnqueued();
            break;
          case 'stopped':
            break;
        }
      });
      w.on('error', (e) => {
        if (!started) reject(e);
        else o.logger.error({ err: e }, 'the background thread failed');
      });
      w.on('exit', (code) => {
        if (worker === w) {
          worker = undefined;
          ready = false;
        }
        if (!started)
          reject(new AppError('PW_BACKGROUND_FAILED', `the background thread exited (code ${code}) before it started`, { status: 500 }));
        if (stopping || !everStarted) return; // the first start's failure is the caller's to report
        // Decide, Act and Learn resume from their groups' positions; the timers and the outbox are durable.
        if (started && Date.now() - startedAt >= STABLE_MS) failures = 0;
        const wait = restartMs[Math.min(failures, restartMs.length - 1)] ?? 30_000;
        failures++;
        down = `the background thread (Decide, Act, Learn) stopped (code ${code}); starting it again in ${wait / 1000} s`;
        o.logger.error(down);
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          if (!stopping) spawn().catch((e: unknown) => o.logger.error({ err: e }, 'the background thread did not start again'));
        }, wait);
        restartTimer.unref();
      });
    });

  await spawn();
  everStarted = true;
  const unlisten = o.log.onAppend((head) => send({ t: 'head', head }));

  return {
    state: {
      caughtUp(seq) {
        return new Promise<void>((resolve) => {
          const id = ++nextId;
          waiters.set(id, { seq, resolve });
          send({ t: 'caughtUp', id, seq });
        });
      },
    },
    typesChanged() {
      if (ready) send({ t: 'types' });
      else typesPending = true;
    },
    problem: () => down,
    async stop() {
      stopping = true;
      unlisten();
      if (restartTimer) clearTimeout(restartTimer);
      const w = worker;
      if (w) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            o.logger.warn('the background thread did not stop in time; terminating it');
            void w.terminate();
          }, STOP_TIMEOUT_MS);
          w.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          w.on('message', (m: FromWorker) => {
            if (m.t === 'stopped') void w.terminate();
          });
          w.postMessage({ t: 'stop' } satisfies ToWorker);
        });
      }
      // Nothing more will be folded here: whoever waits should stop waiting.
      for (const wt of waiters.values()) wt.resolve();
      waiters.clear();
    },
  };
}
