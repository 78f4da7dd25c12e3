/**
 * The ingest pipeline every door shares: adapt the sender's standard to canonical events,
 * validate against the registry, dedupe + commit through the log, quarantine what fails.
 *
 * Terminology:
 * - **door**: one way in (CloudEvents HTTP, Segment, SenML over HTTP or MQTT, …) that
 *   turns one received **item** (a message, a pack, a payload) into canonical events.
 * - **outcome**: per event — accepted, duplicate or rejected (with code and pointer).
 */
import type { Clock } from '../core/index.ts';
import { AppError, isAppError, uuidv7 } from '../core/index.ts';
import type { CloudEvent, SchemaRegistry } from '../events/index.ts';
import type { EventLog, NewEvent } from '../log/index.ts';
import type { Metrics } from '../ops/index.ts';
import type { Store } from '../store/index.ts';
import {
  addToQuarantine,
  type Channel,
  getQuarantined,
  markReplayed,
  type QuarantineContext,
  type QuarantineEntry,
  updateReason,
} from './quarantine.ts';

export interface Door {
  channel: Channel;
  /** Largest accepted item, serialised (Segment: 32 KB per event). */
  maxItemBytes?: number;
  toEvents(raw: unknown, ctx: QuarantineContext, receivedAt: number): CloudEvent[];
}

export type EventOutcome =
  | { status: 'accepted' | 'duplicate'; id: string; type: string; seq: number }
  | {
      status: 'rejected';
      id?: string | undefined;
      code: string;
      message: string;
      pointer?: string | undefined;
      quarantine_id?: string | undefined;
    };

export interface IngestItem {
  raw: unknown;
  ctx: QuarantineContext;
}

export interface IngestOptions {
  /** False when replaying: the caller handles rejections. */
  quarantine?: boolean;
  /** Size of the whole request, when known: lets small requests skip per-item size checks. */
  bodyBytes?: number | undefined;
  /** Replay: when the item first arrived. */
  originallyReceivedAt?: number | undefined;
}

export interface IngestDeps {
  store: Store;
  log: EventLog;
  registry: SchemaRegistry;
  clock: Clock;
  metrics: Metrics;
  maxPendingEvents: number;
  doors: Record<Channel, Door>;
}

interface Prepared {
  item: IngestItem;
  events: CloudEvent[];
  /** Per event: undefined = valid; else the problem. */
  problems: ({ code: string; message: string; pointer?: string | undefined } | undefined)[];
  /** The whole item failed before it became events. */
  itemProblem?: AppError;
}

/** `v` when it is a string, else `fallback` (rejected events may carry any JSON in their attributes). */
function textOr<T>(v: unknown, fallback: T): string | T {
  return typeof v === 'string' ? v : fallback;
}

export class Ingestor {
  constructor(private readonly d: IngestDeps) {}

  /** Throws 429 when the commit queue is too deep; senders retry after `Retry-After`. */
  checkCapacity(): void {
    if (this.d.log.pending() > this.d.maxPendingEvents) {
      this.d.metrics.overloaded.inc();
      throw new AppError('PW_INGEST_OVERLOADED', 'Pitwall is ingesting at capacity; retry after the indicated delay', {
        status: 429,
        category: 'operational',
        headers: { 'retry-after': '1' },
      });
    }
  }

  /** Ingests items through one door; one list of outcomes per item. Rejected items are quarantined. */
  async ingest(channel: Channel, items: IngestItem[], opts: IngestOptions = {}): Promise<EventOutcome[][]> {
    this.checkCapacity();
    const started = performance.now();
    const receivedAt = this.d.clock.now();
    // A replay adapts the item as of its first arrival (default times, skew correction).
    const adaptedAt = opts.originallyReceivedAt ?? receivedAt;
    const door = this.d.doors[channel];
    // A request no larger than the per-item limit cannot hold an over-size item.
    const checkSize = door.maxItemBytes !== undefined && !(opts.bodyBytes !== undefined && opts.bodyBytes <= door.maxItemBytes);
    const prepared = items.map((item) => this.prepare(door, item, adaptedAt, checkSize));

    const toAppend: NewEvent[] = [];
    for (const p of prepared) {
      for (const [i, e] of p.events.entries()) if (p.problems[i] === undefined) toAppend.push({ event: e, receivedAt });
    }
    const appended = await this.d.log.append(toAppend);

    const quarantine: QuarantineEntry[] = [];
    const tally = this.d.metrics.tally();
    let k = 0;
    const results = prepared.map((p): EventOutcome[] => {
      if (p.itemProblem) {
        const q =
          opts.quarantine === false
            ? undefined
            : this.entry(channel, p, receivedAt, p.itemProblem.code, p.itemProblem.message, p.itemProblem.pointer);
        if (q) quarantine.push(q);
        tally.add('rejected', channel, 'unknown', p.item.ctx.source ?? 'unknown');
        return [
          {
            status: 'rejected',
            code: p.itemProblem.code,
            message: p.itemProblem.message,
            pointer: p.itemProblem.pointer,
            quarantine_id: q?.id,
          },
        ];
      }
      const firstProblem = p.problems.find((x) => x !== undefined);
      const q =
        firstProblem && opts.quarantine !== false
          ? this.entry(channel, p, receivedAt, firstProblem.code, firstProblem.message, firstProblem.pointer)
          : undefined;
      if (q) quarantine.push(q);
      return p.events.map((e, i): EventOutcome => {
        const problem = p.problems[i];
        if (problem) {
          tally.add('rejected', channel, textOr(e.type, 'unknown'), textOr(e.source, 'unknown'));
          return { status: 'rejected', id: e.id, ...problem, quarantine_id: q?.id };
        }
        const a = appended[k++];
        if (!a) throw new Error('log returned fewer outcomes than events');
        tally.add(a.status, channel, e.type, e.source);
        return { status: a.status, id: e.id, type: e.type, seq: a.seq };
      });
    });
    await addToQuarantine(this.d.store.db, quarantine);
    tally.flush();
    this.d.metrics.latency.observe({ channel }, (performance.now() - started) / 1000);
    return results;
  }

  private prepare(door: Door, item: IngestItem, receivedAt: number, checkSize: boolean): Prepared {
    if (checkSize && door.maxItemBytes !== undefined) {
      const size = Buffer.byteLength(JSON.stringify(item.raw) ?? '');
      if (size > door.maxItemBytes) {
        return {
          item,
          events: [],
          problems: [],
          itemProblem: new AppError('PW_EVENT_TOO_LARGE', `this event is ${size} bytes; the limit is ${door.maxItemBytes}`, {
            pointer: '',
          }),
        };
      }
    }
    try {
      const events = door.toEvents(item.raw, item.ctx, receivedAt);
      const own = door.channel === 'cloudevents';
      return {
        item,
        events,
        problems: events.map((e) => (own ? reservedSource(e, item.ctx.source) : undefined) ?? this.d.registry.validate(e)),
      };
    } catch (e) {
      if (!isAppError(e)) throw e;
      return { item, events: [], problems: [], itemProblem: e };
    }
  }

  private entry(
    channel: Channel,
    p: Prepared,
    receivedAt: number,
    code: string,
    reason: string,
    pointer: string | undefined,
  ): QuarantineEntry {
    const first = p.events[0];
    return {
      id: uuidv7(this.d.clock),
      receivedAt,
      channel,
      // A rejected event's envelope may hold anything; only strings fit these columns.
      source: textOr(first?.source, p.item.ctx.source ?? null),
      type: textOr(first?.type, null),
      code,
      reason,
      pointer: pointer ?? null,
      payload: p.item.raw,
      context: p.item.ctx,
      status: 'pending',
      replayedSeq: null,
    };
  }

  /**
   * Runs a quarantined item through its door again — with a corrected payload when given.
   * Events of the item that were accepted the first time come back as duplicates.
   */
  async replay(id: string, payload?: unknown): Promise<{ id: string; status: 'replayed' | 'still_rejected'; outcomes: EventOutcome[] }> {
    const entry = await getQuarantined(this.d.store.db, id);
    if (!entry) throw new AppError('PW_QUARANTINE_NOT_FOUND', `no quarantined item with id ${id}`, { status: 404 });
    if (entry.status === 'replayed')
      throw new AppError('PW_QUARANTINE_ALREADY_REPLAYED', `item ${id} was already replayed (position ${entry.replayedSeq})`, {
        status: 409,
      });
    const [outcomes = []] = await this.ingest(entry.channel, [{ raw: payload ?? entry.payload, ctx: entry.context }], {
      quarantine: false,
      originallyReceivedAt: entry.receivedAt,
    });
    const rejected = outcomes.find((o) => o.status === 'rejected');
    const now = this.d.clock.now();
    if (rejected && rejected.status === 'rejected') {
      await updateReason(this.d.store.db, id, { code: rejected.code, reason: rejected.message, pointer: rejected.pointer }, now);
      return { id, status: 'still_rejected', outcomes };
    }
    const seq = outcomes.reduce((m, o) => (o.status !== 'rejected' ? Math.max(m, o.seq) : m), 0);
    await markReplayed(this.d.store.db, id, seq, now, payload);
    return { id, status: 'replayed', outcomes };
  }
}

/**
 * `pitwall:` sources name Pitwall's own producers (detectors, the API, devices and keys as the
 * doors assign them). A sender may not claim one it was not given: that would let an ingest key
 * forge a detector's or an admin's events.
 */
function reservedSource(e: CloudEvent, assigned: string | undefined): { code: string; message: string; pointer: string } | undefined {
  if (typeof e.source !== 'string' || !e.source.startsWith('pitwall:') || e.source === assigned) return undefined;
  return {
    code: 'PW_EVENT_RESERVED',
    message: 'sources starting with "pitwall:" are Pitwall\'s own; use your own URI',
    pointer: '/source',
  };
}
