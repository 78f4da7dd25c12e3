/**
 * The dashboard's live feed: one tailer per process follows the event log (a one-second poll, so
 * appends made by other processes in scale-out count too) and
 * fans each batch out to every connected dashboard over Server-Sent Events. It runs only while
 * someone is watching, and keeps the last 3 minutes of batches so a page opened now starts with
 * a chart, not an empty axis (batches from before an idle spell are dropped when it resumes).
 */
import type { Clock } from '../core/index.ts';
import type { EventLog, LoggedEvent } from '../log/index.ts';

export interface StreamItem {
  seq: number;
  type: string;
  source: string;
  subject: string | null;
  time: string;
}

/** What one tick of the tailer saw. */
export interface StreamBatch {
  /** Server clock (epoch ms) at the tick — simulated time when the clock runs faster. */
  at: number;
  /** Log position this batch reaches. */
  head: number;
  /** Events in this batch by source family (see `familyOf`). */
  sources: Record<string, number>;
  /** Events in this batch by type. */
  types: Record<string, number>;
  /** The last few events of the batch, newest last. */
  recent: StreamItem[];
  /** Events the tailer skipped without reading because it fell too far behind (counts are then low). */
  skipped: number;
}

const COLLAPSE = new Set(['device', 'devices', 'shipment', 'shipments', 'vehicle', 'vehicles', 'key']);

/**
 * A source with one segment per device or shipment (`pitwall:device/scale-1`) collapses to its
 * family (`pitwall:device/*`), so a chart has a line per kind of sender, not one per truck.
 */
export function familyOf(source: string): string {
  const i = source.lastIndexOf('/');
  if (i <= 0) return source;
  const before = source.slice(0, i);
  const j = Math.max(before.lastIndexOf('/'), before.lastIndexOf(':'));
  const parent = before.slice(j + 1);
  return COLLAPSE.has(parent) ? `${before}/*` : source;
}

export interface StreamHubOptions {
  /** Poll interval (also the batch interval), real milliseconds. */
  intervalMs?: number;
  /** Events read per tick at most; beyond it the tailer jumps to the head and reports `skipped`. */
  maxPerTick?: number;
  /** How many past batches a new subscriber receives. */
  keep?: number;
  /** Events listed in `recent` per batch. */
  recent?: number;
}

type Listener = (batch: StreamBatch) => void;

export class StreamHub {
  private readonly listeners = new Set<Listener>();
  private readonly history: StreamBatch[] = [];
  private cursor: number | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  /** Bumped on stop: a read begun before it must not move the cursor of the next start. */
  private generation = 0;
  private again = false;
  private readonly intervalMs: number;
  private readonly maxPerTick: number;
  private readonly keep: number;
  private readonly recentN: number;

  constructor(
    private readonly log: EventLog,
    private readonly clock: Clock,
    opts: StreamHubOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.maxPerTick = opts.maxPerTick ?? 5000;
    this.keep = opts.keep ?? 180;
    this.recentN = opts.recent ?? 20;
  }

  /** Past batches, oldest first (what a new subscriber is sent first). */
  past(): readonly StreamBatch[] {
    return this.history;
  }

  /** Starts receiving batches; returns the function that stops. The tailer runs while anyone listens. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.timer) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Reads what was appended since the last tick and sends it (exposed for tests and shutdown). */
  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.read()
      .catch(() => undefined) // a failed read is retried on the next tick; the stream stays open
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.tick();
        }
      });
    return this.running;
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref?.();
    void this.tick();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.generation += 1;
    this.history.length = 0;
    this.cursor = undefined;
  }

  private async read(): Promise<void> {
    const generation = this.generation;
    const head = await this.log.head();
    if (generation !== this.generation) return;
    if (this.cursor === undefined) {
      this.cursor = head;
      return;
    }
    let skipped = 0;
    if (head - this.cursor > this.maxPerTick) {
      skipped = head - this.maxPerTick - this.cursor;
      this.cursor = head - this.maxPerTick;
    }
    const events: LoggedEvent[] = [];
    while (this.cursor < head) {
      const page = await this.log.read(this.cursor, Math.min(1000, head - this.cursor));
      if (generation !== this.generation || this.cursor === undefined) return;
      if (page.length === 0) break;
      events.push(...page);
      this.cursor = page[page.length - 1]?.seq ?? head;
    }
    const batch: StreamBatch = { at: this.clock.now(), head: this.cursor, sources: {}, types: {}, recent: [], skipped };
    for (const { event } of events) {
      const fam = familyOf(event.source);
      batch.sources[fam] = (batch.sources[fam] ?? 0) + 1;
      batch.types[event.type] = (batch.types[event.type] ?? 0) + 1;
    }
    batch.recent = events.slice(-this.recentN).map(({ seq, event }) => ({
      seq,
      type: event.type,
      source: event.source,
      subject: event.subject ?? null,
      time: event.time ?? '',
    }));
    this.history.push(batch);
    if (this.history.length > this.keep) this.history.splice(0, this.history.length - this.keep);
    for (const l of this.listeners) l(batch);
  }
}
