/**
 * The event log port.
 *
 * Terminology:
 * - **event**: a canonical CloudEvent (see events/envelope.ts).
 * - **position** (`seq`): the event's place in the log, assigned at append, increasing.
 * - **append**: dedupe by (source, id), then commit durably; resolves only after commit.
 * - **consumer group**: a named reader (state, detectors, workflows, …) whose position is
 *   persisted, so it resumes where it stopped after a restart.
 * - **ack**: a consumer group records that it has processed everything up to a position.
 *
 * Implementations: SQLite (embedded, single writer, group commit) and PostgreSQL now;
 * NATS JetStream with the scale-out work. Consumers see only this interface.
 */
import type { CloudEvent } from '../events/index.ts';

/** How long a resend is recognised as a duplicate, unless configured otherwise. */
export const DEFAULT_DEDUPE_WINDOW_MS = 7 * 86_400_000;

export interface NewEvent {
  event: CloudEvent;
  /** When Pitwall received it (epoch ms, from the injected clock). */
  receivedAt: number;
}

export type AppendOutcome =
  | { status: 'accepted'; seq: number }
  /** Seen before within the dedupe window: `seq` is the position of the first copy. */
  | { status: 'duplicate'; seq: number };

export interface LoggedEvent {
  seq: number;
  event: CloudEvent;
  receivedAt: number;
  /** History mode: builds state, starts no timers and no actions. */
  history: boolean;
}

export interface EventQuery {
  /** Exact type, or a prefix ending in `.*` (e.g. `commerce.*`). */
  type?: string | undefined;
  subject?: string | undefined;
  source?: string | undefined;
  /** Event time bounds, epoch ms, inclusive / exclusive. */
  timeFrom?: number | undefined;
  timeTo?: number | undefined;
  /** Exclusive position bound in the direction of travel. */
  afterSeq?: number | undefined;
  order: 'asc' | 'desc';
  limit: number;
}

export interface EventLog {
  /** Dedupe and durably commit; the promise settles after the commit (group commit). */
  append(events: readonly NewEvent[]): Promise<AppendOutcome[]>;
  /** Events with seq > after, in order. */
  read(after: number, limit: number): Promise<LoggedEvent[]>;
  query(q: EventQuery): Promise<LoggedEvent[]>;
  /** Highest committed position (0 when empty). */
  head(): Promise<number>;
  /** Persisted position of a consumer group, or undefined if it never acked. */
  position(group: string): Promise<number | undefined>;
  ack(group: string, seq: number): Promise<void>;
  /** Called after every commit that added events; returns an unsubscribe function. */
  onAppend(listener: (head: number) => void): () => void;
  /** Why the log cannot accept appends right now, if it cannot (for /readyz). */
  problem(): string | undefined;
  /** Events queued but not yet committed (for back-pressure). */
  pending(): number;
  /** Forget dedupe keys of events received before `cutoffMs`; returns how many. */
  pruneDedupe(cutoffMs: number): Promise<number>;
  /** Commit what is queued, then stop accepting appends. */
  close(): Promise<void>;
}
