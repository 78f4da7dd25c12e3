/** Prometheus metrics, one registry per Pitwall instance (no global state). */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly events = new Counter({
    name: 'pitwall_ingest_events_total',
    help: 'Events received, by outcome (accepted, duplicate, rejected), channel, source and type',
    labelNames: ['outcome', 'channel', 'source', 'type'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'pitwall_ingest_duration_seconds',
    help: 'Time from receipt to durable commit of one ingest request or MQTT message',
    labelNames: ['channel'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly overloaded = new Counter({
    name: 'pitwall_ingest_overloaded_total',
    help: 'Requests answered 429 because the commit queue was full',
    registers: [this.registry],
  });

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'pitwall_' });
  }

  private readonly labels = new Map<'type' | 'source', Set<string>>([
    ['type', new Set()],
    ['source', new Set()],
  ]);

  /**
   * Bounds label cardinality: senders choose sources and types, so past the first
   * `MAX_LABEL_VALUES` distinct values of each, further ones are counted as "other".
   */
  private bounded(kind: 'type' | 'source', v: string): string {
    const seen = this.labels.get(kind) as Set<string>;
    if (seen.has(v)) return v;
    if (seen.size >= Metrics.MAX_LABEL_VALUES) return 'other';
    seen.add(v);
    return v;
  }

  static readonly MAX_LABEL_VALUES = 200;

  count(outcome: string, channel: string, type: string, source: string): void {
    this.events.inc({ outcome, channel, type: this.bounded('type', type), source: this.bounded('source', source) });
  }

  /** A tally for one request: counts locally, then adds each label set once (labels are costly to hash). */
  tally(): { add(outcome: string, channel: string, type: string, source: string): void; flush(): void } {
    const counts = new Map<string, { outcome: string; channel: string; type: string; source: string; n: number }>();
    return {
      add(outcome, channel, type, source) {
        const k = `${outcome}\u0000${channel}\u0000${type}\u0000${source}`;
        const c = counts.get(k);
        if (c) c.n++;
        else counts.set(k, { outcome, channel, type, source, n: 1 });
      },
      flush: () => {
        for (const c of counts.values()) {
          this.events.inc(
            { outcome: c.outcome, channel: c.channel, type: this.bounded('type', c.type), source: this.bounded('source', c.source) },
            c.n,
          );
        }
      },
    };
  }
}
