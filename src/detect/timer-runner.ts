/**
 * Fires due timers: claim, run the handler, complete; a failed handler is retried later with
 * exponential backoff. `tick()` does one round and is all tests need; `start()` repeats it on
 * a real-time loop that asks the Clock what is due and sleeps (setTimeout) until the next
 * timer, at most `maxIdleMs` at a time so a faster-running clock or a newly scheduled earlier
 * timer is noticed (call `wake()` to notice it at once). The loop claims the next batch while up
 * to `rounds` earlier ones are still firing, so a slow handler (an append waiting for its
 * commit) does not hold back timers falling due behind it.
 */
import { type Clock, PollLoop, pollWaitMs } from '../core/index.ts';
import type { ClaimedTimer, TimerStore } from './timers.ts';

/** Runs a timer's effect. Must be idempotent by `(key, dueAt)`: see `firingId`. */
export type TimerHandler = (timer: ClaimedTimer) => Promise<void>;

export interface TimerRunnerOptions {
  /**
   * Timers claimed per round (default 500). A round waits for its slowest handler (e.g. an
   * append's commit), so the batch bounds the firing rate: batch / round time.
   */
  batch?: number;
  /** How long a claim is exclusive, in clock ms; a handler should finish well within it. */
  leaseMs?: number;
  /** First retry delay (clock ms); doubles per attempt up to `backoffMaxMs`. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest real-time sleep of the loop between rounds. */
  maxIdleMs?: number;
  /**
   * Rounds the loop (`start()`) keeps firing at once (default 4): it claims the next batch while
   * earlier ones wait for their handlers (e.g. an append's commit), so a slow commit no longer
   * caps the firing rate at batch / commit time. Claims are exclusive, so rounds never overlap.
   */
  rounds?: number;
  /** Told about every handler failure (the timer is retried) and every failed round. */
  onError?: (error: unknown, timer: ClaimedTimer | undefined) => void;
}

export interface TickResult {
  claimed: number;
  /** Handled and deleted. */
  completed: number;
  /** Handler failed; made ready again after a backoff. */
  retried: number;
  /** Handled, but the claim was voided meanwhile (rescheduled, cancelled or re-claimed). */
  stale: number;
}

/** Delay before the next attempt after `attempts` failed ones: base·2^(attempts−1), capped. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 52)));
}

export class TimerRunner {
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxIdleMs: number;
  private readonly rounds: number;
  private readonly firing = new Set<Promise<unknown>>();
  private readonly poll: PollLoop;

  constructor(
    private readonly store: TimerStore,
    private readonly clock: Clock,
    private readonly handler: TimerHandler,
    private readonly opts: TimerRunnerOptions = {},
  ) {
    this.batch = opts.batch ?? 500;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.baseMs = opts.backoffBaseMs ?? 1000;
    this.maxMs = opts.backoffMaxMs ?? 3_600_000;
    this.maxIdleMs = opts.maxIdleMs ?? 1000;
    this.rounds = Math.max(1, opts.rounds ?? 4);
    this.poll = new PollLoop(() => this.round(), {
      maxIdleMs: this.maxIdleMs,
      onError: (e) => this.opts.onError?.(e, undefined),
      drain: () => Promise.all(this.firing),
    });
  }

  /** One round: claim what is due now, fire it, complete or schedule a retry. */
  async tick(): Promise<TickResult> {
    return this.fire(await this.store.claimDue(this.batch, this.leaseMs));
  }

  /** Fires a claimed batch: runs the handlers, completes the successes, schedules retries. */
  private async fire(claimed: ClaimedTimer[]): Promise<TickResult> {
    const results = await Promise.allSettled(claimed.map(async (t) => this.handler(t)));
    const done: ClaimedTimer[] = [];
    let retried = 0;
    let stale = 0;
    for (const [i, r] of results.entries()) {
      const t = claimed[i] as ClaimedTimer;
      if (r.status === 'fulfilled') {
        done.push(t);
        continue;
      }
      this.opts.onError?.(r.reason, t);
      const at = this.clock.now() + backoffMs(t.attempts, this.baseMs, this.maxMs);
      if (await this.store.retryAt(t.key, t.token, at, errorText(r.reason))) retried++;
      else stale++;
    }
    const completed = await this.store.completeMany(done);
    return { claimed: claimed.length, completed, retried, stale: stale + done.length - completed };
  }

  /** Runs rounds until `stop()`; errors of a round are reported and the loop goes on. */
  start(): void {
    this.poll.start();
  }

  /** Ends a sleep early, e.g. after scheduling a timer due sooner than the next one. */
  wake(): void {
    this.poll.wake();
  }

  /** Stops the loop after the round in progress; waits for the rounds still firing. */
  stop(): Promise<void> {
    return this.poll.stop();
  }

  /** Claims and starts firing a batch while up to `rounds` earlier ones still fire; returns the sleep. */
  private async round(): Promise<number> {
    const claimed = await this.store.claimDue(this.batch, this.leaseMs);
    if (claimed.length > 0) {
      const round: Promise<unknown> = this.fire(claimed)
        .catch((e) => this.opts.onError?.(e, undefined))
        .finally(() => this.firing.delete(round));
      this.firing.add(round);
    }
    // At most `rounds` firing at once: wait for one to finish before claiming more.
    if (this.firing.size >= this.rounds) await Promise.race(this.firing);
    const next = claimed.length === this.batch ? undefined : await this.store.nextDueAt();
    return pollWaitMs(claimed.length, this.batch, next, this.clock.now(), this.maxIdleMs);
  }
}

/** Stored with the timer for inspection; errors are matched by `code`, so keep it in front. */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
}
