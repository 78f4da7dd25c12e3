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
  /** Stops the thread's work in order (runs, fold, dispatcher) and waits for it to close its store. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 30_000;
const RESTART_MS = [1_000, 5_000, 30_000];

/**
 * The compiled worker entry (bin/compile.js keeps a JavaScript copy of the sources, which is what
 * a worker thread can load), or undefined when the cache cannot be written.
 */
async function workerEntry(): Promise<string | undefined> {
  // biome-ignore lint/suspicious/noExplicitAny: bin/compile.js is plain JavaScript without types
  const compile = (await import(new URL('../bin/compile.js', import.meta.url).href)) as any;
  return (await compile.compiledEntry('background-worker.ts')) as string | undefined;
}

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
}): Promise<BackgroundThread | undefined> {
  const entry = await workerEntry();
  if (entry === undefined) return undefined;
  const data: BackgroundWorkerData = { config: o.config, clockStart: o.clockStart };
  const waiters = new Map<number, { seq: number; resolve: () => void }>();
  let nextId = 0;
  let worker: Worker | undefined;
  let ready = false;
  let stopping = false;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const send = (m: ToWorker) => {
    if (ready) worker?.postMessage(m);
  };

  const spawn = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL(entry), { workerData: data });
      worker = w;
      let started = false;
      w.on('message', (m: FromWorker) => {
        if (m.t === 'ready') {
          started = true;
          ready = true;
          restarts = 0;
          for (const [id, { seq }] of waiters) w.postMessage({ t: 'caughtUp', id, seq } satisfies ToWorker);
          resolve();
        } else if (m.t === 'failed') {
          reject(new AppError(m.code ?? 'PW_BACKGROUND_FAILED', m.message, { status: 500, category: 'operational' }));
        } else if (m.t === 'caughtUp') {
          const wt = waiters.get(m.id);
          waiters.delete(m.id);
          wt?.resolve();
        }
      });
      w.on('error', (e) => {
        if (!started) reject(e);
        else o.logger.error({ err: e }, 'the background thread failed');
      });
      w.on('exit', (code) => {
        ready = false;
        if (worker === w) worker = undefined;
        if (!started) {
          reject(new AppError('PW_BACKGROUND_FAILED', `the background thread exited (code ${code}) before it started`, { status: 500 }));
          return;
        }
        if (stopping) return;
        // Decide, Act and Learn resume from their groups' positions; the timers and the outbox are durable.
        const wait = RESTART_MS[Math.min(restarts, RESTART_MS.length - 1)] ?? 30_000;
        restarts++;
        o.logger.error(`the background thread stopped (code ${code}); starting it again in ${wait / 1000} s`);
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          if (!stopping)
            spawn().catch((e) => {
              o.logger.error({ err: e }, 'the background thread did not start again');
            });
        }, wait);
        restartTimer.unref();
      });
    });

  await spawn();
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
    typesChanged: () => send({ t: 'types' }),
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
