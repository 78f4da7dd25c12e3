/**
 * Claims due actions, runs each through its executor and completes, retries or dead-letters it.
 * `tick()` does one round and is all tests need; `start()` repeats it on a real-time loop that
 * sleeps until the next action is ready (at most `maxIdleMs`; `wake()` ends a sleep early, e.g.
 * right after the runner enqueued something).
 *
 * Retry delay after the n-th failed attempt: d = min(backoffMaxMs, backoffBaseMs·2^(n−1)), then
 * "equal jitter" — a uniform draw from [d/2, d] — so failures that happened together do not
 * retry together, and no retry comes sooner than half the nominal delay.
 */
import { PollLoop, pollWaitMs } from '../core/index.ts';
import { errorText, isNonRetriable, isRetryAfter, NonRetriableError } from './errors.ts';
import type { ActionExecutor, ActionResult, ClaimedAction, ExecutorContext, Outbox } from './types.ts';

export interface DispatcherOptions {
  /** Actions claimed per round (also how many run at once). */
  batch?: number;
  /** How long a claim is exclusive, in clock ms; an executor must finish well within it. */
  leaseMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Attempts before an action that keeps failing is dead-lettered. */
  maxAttempts?: number;
  /** Uniform [0, 1) — a seeded generator, so tests and backtests are reproducible. */
  random: () => number;
  /** Longest real-time sleep of the loop between rounds. */
  maxIdleMs?: number;
  /**
   * Batches the running loop executes at once: a round claims the next batch while earlier ones
   * still wait for their receivers, so one slow endpoint does not hold up the actions behind it.
   */
  parallel?: number;
  /** Told about every failed attempt (with what happens next) and every failed round. */
  onError?: (error: unknown, action: ClaimedAction | undefined, outcome: 'retry' | 'dead' | 'round') => void;
}

export interface DispatchTick {
  claimed: number;
  completed: number;
  retried: number;
  dead: number;
  /** Handled, but the claim had been voided meanwhile (lease expired and re-claimed, or replayed). */
  stale: number;
}

export const DISPATCH_DEFAULTS = {
  batch: 100,
  leaseMs: 60_000,
  backoffBaseMs: 5_000,
  backoffMaxMs: 3_600_000,
  maxAttempts: 12,
  maxIdleMs: 1_000,
  parallel: 8,
} as const;

/** The retry delay after `attempts` failed attempts, with equal jitter from `random`. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random: () => number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 52)));
  return Math.round(d / 2 + (d / 2) * Math.min(Math.max(random(), 0), 1));
}

/** One executor per action type; a duplicate type is a wiring mistake. */
export function executorRegistry(executors: readonly ActionExecutor[]): Map<string, ActionExecutor> {
  const m = new Map<string, ActionExecutor>();
  for (const e of executors) {
    if (m.has(e.type)) throw new Error(`two executors for action type "${e.type}"`);
    m.set(e.type, e);
  }
  return m;
}

export class Dispatcher {
  private readonly o: Required<Omit<DispatcherOptions, 'onError'>> & Pick<DispatcherOptions, 'onError'>;
  private readonly poll: PollLoop;

  constructor(
    private readonly outbox: Outbox,
    private readonly executors: ReadonlyMap<string, ActionExecutor>,
    private readonly ctx: ExecutorContext,
    opts: DispatcherOptions,
  ) {
    this.o = { ...DISPATCH_DEFAULTS, ...opts };
    if (!Number.isInteger(this.o.maxAttempts) || this.o.maxAttempts < 1) throw new RangeError('maxAttempts must be at least 1');
    if (!Number.isInteger(this.o.parallel) || this.o.parallel < 1) throw new RangeError('parallel must be at least 1');
    this.poll = new PollLoop(
      async () => {
        // At most `parallel` batches out at once: wait for one to settle before claiming more.
        if (this.inFlight.size >= this.o.parallel) await Promise.race(this.inFlight);
        if (this.stopping) return 0; // stop() came while waiting for room: claim nothing more
        const claiming = this.outbox.claimDue(this.o.batch, this.o.leaseMs);
        this.claiming = claiming;
        let claimed: ClaimedAction[];
        try {
          claimed = await claiming;
        } finally {
          this.claiming = undefined;
        }
        if (claimed.length > 0) {
          const out: Promise<unknown> = this.settle(claimed)
            .catch((e: unknown) => this.o.onError?.(e, undefined, 'round'))
            .finally(() => {
              this.inFlight.delete(out);
              // A full batch may have left more behind it; a partial one frees room for what waits.
              this.poll.wake();
            });
          this.inFlight.add(out);
        }
        const next = claimed.length === this.o.batch ? undefined : await this.outbox.nextDueAt();
        return pollWaitMs(claimed.length, this.o.batch, next, this.ctx.clock.now(), this.o.maxIdleMs);
      },
      {
        maxIdleMs: this.o.maxIdleMs,
        onError: (e) => this.o.onError?.(e, undefined, 'round'),
        drain: () => Promise.all(this.inFlight),
      },
    );
  }

  private readonly inFlight = new Set<Promise<unknown>>();
  /** The running loop's claim in progress: what it claims becomes a batch in flight at once. */
  private claiming: Promise<unknown> | undefined;
  private stopping = false;

  /**
   * One round, for tests and tools that drive the dispatcher by hand: waits for the running loop's
   * claim in progress and the batches it still has out, then claims what is ready now, executes, and completes, retries or
   * dead-letters each — so once a tick claims nothing, every action claimed before it has settled.
   */
  async tick(): Promise<DispatchTick> {
    for (;;) {
      if (this.claiming) await this.claiming.catch(() => undefined);
      else if (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      else break;
    }
    return this.settle(await this.outbox.claimDue(this.o.batch, this.o.leaseMs));
  }

  /** Executes claimed actions at once, then completes, retries or dead-letters each. */
  private async settle(claimed: ClaimedAction[]): Promise<DispatchTick> {
    const settled = await Promise.allSettled(claimed.map((a) => this.execute(a)));
    const done: { key: string; token: string; result: ActionResult }[] = [];
    const out: DispatchTick = { claimed: claimed.length, completed: 0, retried: 0, dead: 0, stale: 0 };
    for (const [i, s] of settled.entries()) {
      const a = claimed[i] as ClaimedAction;
      if (s.status === 'fulfilled') {
        done.push({ key: a.key, token: a.token, result: s.value });
        continue;
      }
      const e: unknown = s.reason;
      const dead = isNonRetriable(e) || a.attempts >= this.o.maxAttempts;
      this.o.onError?.(e, a, dead ? 'dead' : 'retry');
      const text = errorText(e);
      let ok: boolean;
      if (dead) {
        ok = await this.outbox.deadLetter(
          a.key,
          a.token,
          a.attempts >= this.o.maxAttempts && !isNonRetriable(e) ? `${text} (after ${a.attempts} attempts)` : text,
        );
        if (ok) out.dead++;
      } else {
        const delay = isRetryAfter(e)
          ? Math.max(0, Math.round(e.retryAfterMs))
          : retryDelayMs(a.attempts, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random);
        ok = await this.outbox.retryAt(a.key, a.token, this.ctx.clock.now() + delay, text);
        if (ok) out.retried++;
      }
      if (!ok) out.stale++;
    }
    out.completed = await this.outbox.completeMany(done);
    out.stale += done.length - out.completed;
    return out;
  }

  private async execute(a: ClaimedAction): Promise<ActionResult> {
    const ex = this.executors.get(a.type);
    if (!ex) throw new NonRetriableError(`no executor for action type "${a.type}"`, { code: 'PW_ACTION_UNKNOWN_TYPE' });
    return (await ex.execute(a, this.ctx)) ?? {};
  }

  /** Runs rounds until `stop()`; a failed round is reported and the loop goes on. */
  start(): void {
    this.stopping = false;
    this.poll.start();
  }

  /** Ends a sleep early: call after enqueueing so a new action goes out at once. */
  wake(): void {
    this.poll.wake();
  }

  /** Stops after the round in progress and the batches still out. */
  stop(): Promise<void> {
    this.stopping = true;
    return this.poll.stop();
  }
}
