/**
 * The ingest pipeline every door shares: adapt the sender's standard to canonical events,
 * validate against the registry, dedupe + commit through the log, quarantine what fails.
 *
 * Terminology:
 * - **door**: one way in (CloudEvents HTTP, Segment, SenML over HTTP or MQTT, …) that
 *   turns one received **item** (a message, a pack, a payload) into canonical events.
 * - **outcome**: per event — accepted, duplicate or rejected (with code and pointer). Duplicates
 *   are counted per source and minute for the quality monitor (duplicates.ts).
 */
import type { Clock } from '../core/index.ts';
import { AppError, isAppError, uuidv7 } from '../core/index.ts';
import type { CloudEvent, SchemaRegistry } from '../events/index.ts';
import type { AppendOutcome, EventLog, NewEvent } from '../log/index.ts';
import type { Metrics } from '../ops/index.ts';
import type { Store } from '../store/index.ts';
import { type DuplicateSeen, recordDuplicates } from './duplicates.ts';
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

/** What an ingest run keeps while its events commit: no raw items, no event objects. */
interface Staged {
  /** One list per item; accepted/duplicate outcomes get their status and seq after the commit. */
  results: EventOutcome[][];
  /** The outcomes waiting for the log, in append order, and each one's event source (for metrics). */
  waiting: (EventOutcome & { status: 'accepted' | 'duplicate' })[];
  sources: string[];
  /** Each waiting event's `deviceid` extension, for the duplicate counts ('' when none; null: not counted, history mode). */
  devices: (string | null)[];
  /** False on a replay, whose duplicates are not a sender's resends. */
  countDuplicates: boolean;
  quarantine: QuarantineEntry[];
  appended: Promise<AppendOutcome[]>;
}

type Tally = ReturnType<Metrics['tally']>;

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
  ingest(channel: Channel, items: IngestItem[], opts: IngestOptions = {}): Promise<EventOutcome[][]> {
    try {
      this.checkCapacity();
      const started = performance.now();
      const tally = this.d.metrics.tally();
      return this.settle(channel, this.stage(channel, items, this.d.clock.now(), opts, tally), tally, started);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Waits for the commit and completes the outcomes (separate from `ingest` so the items are not kept meanwhile). */
  private async settle(channel: Channel, staged: Staged, tally: Tally, started: number): Promise<EventOutcome[][]> {
    const appended = await staged.appended;
    const { waiting, sources } = staged;
    let duplicates: DuplicateSeen[] | undefined;
    for (let i = 0; i < waiting.length; i++) {
      const o = waiting[i] as Staged['waiting'][number];
      const a = appended[i];
      if (!a) throw new Error('log returned fewer outcomes than events');
      o.status = a.status;
      o.seq = a.seq;
      tally.add(a.status, channel, o.type, sources[i] as string);
      const device = staged.devices[i];
      if (a.status === 'duplicate' && typeof device === 'string') {
        duplicates ??= [];
        duplicates.push({ source: sources[i] as string, device, type: o.type });
      }
    }
    if (staged.quarantine.length > 0) await addToQuarantine(this.d.store.db, staged.quarantine);
    // Counted in the minute of this write (not of the request's arrival): a commit that waited long
    // cannot add to a minute the quality module may have read already.
    if (duplicates && staged.countDuplicates) await recordDuplicates(this.d.store.db, this.d.clock.now(), duplicates);
    tally.flush();
    this.d.metrics.latency.observe({ channel }, (performance.now() - started) / 1000);
    return staged.results;
  }

  /**
   * Adapts and validates every item, builds the outcomes and quarantine entries, and starts
   * the append. Synchronous on purpose: a suspended async function keeps its parameters and
   * locals alive, and the parsed items and event objects are not needed while the commit is
   * awaited — under load they then die young instead of being promoted.
   */
  private stage(channel: Channel, items: IngestItem[], receivedAt: number, opts: IngestOptions, tally: Tally): Staged {
    // A replay adapts the item as of its first arrival (default times, skew correction).
    const adaptedAt = opts.originallyReceivedAt ?? receivedAt;
    const door = this.d.doors[channel];
    // A request no larger than the per-item limit cannot hold an over-size item.
    const checkSize = door.maxItemBytes !== undefined && !(opts.bodyBytes !== undefined && opts.bodyBytes <= door.maxItemBytes);
    const quarantine: QuarantineEntry[] = [];
    const toAppend: NewEvent[] = [];
    const waiting: Staged['waiting'] = [];
    const sources: string[] = [];
    const devices: (string | null)[] = [];
    const results: EventOutcome[][] = new Array(items.length);
    for (let n = 0; n < items.length; n++) {
      const item = items[n] as IngestItem;
      let events: CloudEvent[];
      try {
        if (checkSize) this.checkSize(door, item);
        events = door.toEvents(item.raw, item.ctx, adaptedAt);
      } catch (e) {
        if (!isAppError(e)) throw e;
        // The whole item failed before it became events.
        const q = opts.quarantine === false ? undefined : this.entry(channel, item, undefined, receivedAt, e.code, e.message, e.pointer);
        if (q) quarantine.push(q);
        tally.add('rejected', channel, 'unknown', item.ctx.source ?? 'unknown');
        results[n] = [{ status: 'rejected', code: e.code, message: e.message, pointer: e.pointer, quarantine_id: q?.id }];
        continue;
      }
      const out: EventOutcome[] = new Array(events.length);
      /** The item's first problem names its quarantine entry, which every rejected event of the item shares. */
      let q: QuarantineEntry | undefined;
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as CloudEvent;
        const problem = (door.channel === 'cloudevents' ? reservedSource(e, item.ctx.source) : undefined) ?? this.d.registry.validate(e);
        if (problem === undefined) {
          const outcome = { status: 'accepted' as 'accepted' | 'duplicate', id: e.id, type: e.type, seq: 0 };
          out[i] = outcome;
          waiting.push(outcome);
          sources.push(e.source);
          // A backfill sent twice is not a sender resending live data: null leaves it uncounted.
          devices.push(e.pitwallhistory === true ? null : typeof e.deviceid === 'string' ? e.deviceid : '');
          toAppend.push({ event: e, receivedAt });
          continue;
        }
        if (q === undefined && opts.quarantine !== false) {
          q = this.entry(channel, item, events[0], receivedAt, problem.code, problem.message, problem.pointer);
          quarantine.push(q);
        }
        out[i] = {
          status: 'rejected',
          id: e.id,
          code: problem.code,
          message: problem.message,
          pointer: problem.pointer,
          quarantine_id: q?.id,
        };
        tally.add('rejected', channel, textOr(e.type, 'unknown'), textOr(e.source, 'unknown'));
      }
      results[n] = out;
    }
    const countDuplicates = opts.originallyReceivedAt === undefined;
    return { results, waiting, sources, devices, countDuplicates, quarantine, appended: this.d.log.append(toAppend) };
  }

  private checkSize(door: Door, item: IngestItem): void {
    const size = Buffer.byteLength(JSON.stringify(item.raw) ?? '');
    if (door.maxItemBytes !== undefined && size > door.maxItemBytes) {
      throw new AppError('PW_EVENT_TOO_LARGE', `this event is ${size} bytes; the limit is ${door.maxItemBytes}`, { pointer: '' });
    }
  }

  private entry(
    channel: Channel,
    item: IngestItem,
    first: CloudEvent | undefined,
    receivedAt: number,
    code: string,
    reason: string,
    pointer: string | undefined,
  ): QuarantineEntry {
    return {
      id: uuidv7(this.d.clock),
      receivedAt,
      channel,
      // A rejected event's envelope may hold anything; only strings fit these columns.
      source: textOr(first?.source, item.ctx.source ?? null),
      type: textOr(first?.type, null),
      code,
      reason,
      pointer: pointer ?? null,
      payload: item.raw,
      context: item.ctx,
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
