/**
 * The real-time loop shared by the claimers (the TimerRunner, the outbox Dispatcher): run a
 * round, sleep as long as it says (at most `maxIdleMs`), again until `stop()`. `wake()` ends a
 * sleep early (something was just scheduled or enqueued). A round that throws is reported and
 * the loop sleeps `maxIdleMs` before the next. Time to sleep is real time; what is due is the
 * claimer's business (its Clock).
 */
export interface PollLoopOptions {
  maxIdleMs: number;
  onError: (error: unknown) => void;
  /** After the last round, before `stop()` resolves (e.g. wait for work still in flight). */
  drain?: () => Promise<unknown>;
}

export class PollLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  /** `round` does one round and returns how long to sleep before the next, in real ms. */
  constructor(
    private readonly round: () => Promise<number>,
    private readonly opts: PollLoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  /** Stops after the round in progress (and the drain). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait: number;
      try {
        wait = await this.round();
      } catch (e) {
        this.opts.onError(e);
        wait = this.opts.maxIdleMs;
      }
      if (this.running) await this.sleep(wait);
    }
    await this.opts.drain?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let cancel = () => {};
      const done = () => {
        cancel();
        this.wakeUp = undefined;
        resolve();
      };
      if (ms <= 0) {
        const h = setImmediate(done);
        cancel = () => clearImmediate(h);
      } else {
        const h = setTimeout(done, ms);
        cancel = () => clearTimeout(h);
      }
      this.wakeUp = done;
    });
  }
}

/**
 * How long a claimer sleeps after claiming `claimed` of `batch`: not at all when the batch was
 * full (more is due), else until the next due time (`undefined`: nothing pending), at most
 * `maxIdleMs`; at least 1 ms when nothing was claimable though something is due (another
 * claimer holds it: back off briefly rather than spin).
 */
export function pollWaitMs(claimed: number, batch: number, nextDueAt: number | undefined, nowMs: number, maxIdleMs: number): number {
  if (claimed === batch) return 0;
  if (nextDueAt === undefined) return maxIdleMs;
  return Math.min(maxIdleMs, Math.max(claimed === 0 ? 1 : 0, nextDueAt - nowMs));
}
