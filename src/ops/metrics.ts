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

  count(outcome: string, channel: string, type: string, source: string): void {
    this.events.inc({ outcome, channel, type, source });
  }
}
