/**
 * Group commit: one commit runs at a time; appends that arrive while it runs (or, with
 * `gatherTurn`, in the same event-loop turn) share the next transaction, so one fsync
 * acknowledges many requests. Each caller's promise settles after that commit, never before.
 */
import { AppError } from '../core/index.ts';

interface Waiter<I, O> {
  items: readonly I[];
  resolve: (out: O[]) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter<I, O> {
  private queue: Waiter<I, O>[] = [];
  private queued = 0;
  private running: Promise<void> | undefined;
  private closed = false;

  private readonly maxItemsPerCommit: number;
  private readonly gatherTurn: boolean;

  /**
   * `commit` receives every queued item in order and returns one outcome per item.
   * `gatherTurn` (default true): when idle, wait for the rest of this event-loop turn before
   * committing, so the appends made in it join; when false the first append commits at once.
   */
  constructor(
    private readonly commit: (items: I[]) => Promise<O[]> | O[],
    opts: { maxItemsPerCommit?: number; gatherTurn?: boolean } = {},
  ) {
    this.maxItemsPerCommit = opts.maxItemsPerCommit ?? 20_000;
    this.gatherTurn = opts.gatherTurn ?? true;
  }

  submit(items: readonly I[]): Promise<O[]> {
    if (this.closed) {
      return Promise.reject(
        new AppError('PW_SHUTTING_DOWN', 'Pitwall is shutting down; retry shortly', { status: 503, headers: { 'retry-after': '1' } }),
      );
    }
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      if (!this.running) this.running = this.drainSoon();
    });
  }

  pending(): number {
    return this.queued;
  }

  /** Commits everything queued, then refuses new items. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
  }

  private async drainSoon(): Promise<void> {
    // Let every request parsed in this turn join the same transaction — or, without
    // `gatherTurn`, the appends of this synchronous run. Either way the drain starts after
    // `submit` has set `running`, even if the first commit throws synchronously.
    if (this.gatherTurn) await new Promise<void>((r) => setImmediate(r));
    else await Promise.resolve();
    try {
      while (this.queue.length > 0) {
        const batch: Waiter<I, O>[] = [];
        let n = 0;
        while (this.queue.length > 0 && (batch.length === 0 || n + (this.queue[0]?.items.length ?? 0) <= this.maxItemsPerCommit)) {
          const w = this.queue.shift() as Waiter<I, O>;
          batch.push(w);
          n += w.items.length;
        }
        const items = batch.flatMap((w) => w.items);
        try {
          const out = await this.commit(items);
          let i = 0;
          for (const w of batch) {
            w.resolve(out.slice(i, i + w.items.length));
            i += w.items.length;
          }
        } catch (e) {
          for (const w of batch) w.reject(e);
        } finally {
          this.queued -= n;
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
