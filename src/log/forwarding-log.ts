/**
 * The event log of a second thread on the same store (the background thread, ADR 0022): it reads
 * on its own connection and forwards appends and acks to the thread that owns the log's writer, so
 * one writer keeps the one dedupe index (ADR 0006) and pays each commit's fsync. `notify` is how
 * that thread tells it about heads it committed: every append, whoever made it.
 */
import type { AppendOutcome, EventLog, EventQuery, LoggedEvent, NewEvent } from './port.ts';

/** What a reading thread needs of the log without owning its writer. */
export interface LogReader {
  read(after: number, limit: number): Promise<LoggedEvent[]>;
  query(q: EventQuery): Promise<LoggedEvent[]>;
  head(): Promise<number>;
  position(group: string): Promise<number | undefined>;
}

/** The writing half, carried out by the thread that owns the log. */
export interface LogForwarder {
  append(events: readonly NewEvent[]): Promise<AppendOutcome[]>;
  ack(group: string, seq: number): Promise<void>;
}

export class ForwardingEventLog implements EventLog {
  private readonly listeners = new Set<(head: number) => void>();
  private inFlight = 0;

  constructor(
    private readonly reader: LogReader,
    private readonly forwarder: LogForwarder,
  ) {}

  async append(events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    this.inFlight += events.length;
    try {
      return await this.forwarder.append(events);
    } finally {
      this.inFlight -= events.length;
    }
  }

  read(after: number, limit: number): Promise<LoggedEvent[]> {
    return this.reader.read(after, limit);
  }

  query(q: EventQuery): Promise<LoggedEvent[]> {
    return this.reader.query(q);
  }

  head(): Promise<number> {
    return this.reader.head();
  }

  position(group: string): Promise<number | undefined> {
    return this.reader.position(group);
  }

  ack(group: string, seq: number): Promise<void> {
    return this.forwarder.ack(group, seq);
  }

  onAppend(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The owning thread committed appends up to `head`. */
  notify(head: number): void {
    for (const l of this.listeners) l(head);
  }

  problem(): string | undefined {
    return undefined;
  }

  pending(): number {
    return this.inFlight;
  }

  /** The owning thread prunes its own dedupe window. */
  async pruneDedupe(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
