/**
 * Segment HTTP Tracking API messages → canonical events. Follows Segment's semantics:
 * `messageId` is the id, the sending key is the source, and timestamps are corrected for
 * device clock skew (`timestamp = receivedAt − (sentAt − originalTimestamp)`) unless the
 * message is a history-mode backfill.
 */
import { AppError, deterministicId, isoTime } from '../../core/index.ts';
import { type CloudEvent, snakeCase } from '../envelope.ts';

export type SegmentCall = 'track' | 'identify' | 'page' | 'alias' | 'screen' | 'group';

export interface SegmentOptions {
  /** Canonical source of the sending key, e.g. `pitwall:key/k_abc123`. */
  source: string;
  receivedAt: number;
  /** `sentAt` of the enclosing batch, when the message has none of its own. */
  batchSentAt?: unknown;
  /** The call implied by the route (`/v1/track`), when the message does not say. */
  call?: SegmentCall;
  history: boolean;
  /** Store of the sending key, when the message does not name one. */
  store?: string | undefined;
}

/** The largest |epoch ms| a JavaScript Date (and so an RFC 3339 `time`) can represent. */
const MAX_EPOCH_MS = 8.64e15;

let lastAt = Number.NaN;
let lastAtText = '';
/** Consecutive messages often share a time: format each once. */
function formatTime(ms: number): string {
  if (ms !== lastAt) {
    lastAt = ms;
    lastAtText = isoTime(ms);
  }
  return lastAtText;
}

/** Track event names repeat endlessly; remember their type names (bounded). */
const typeNames = new Map<string, string>();
function commerceType(event: string): string {
  let t = typeNames.get(event);
  if (t === undefined) {
    t = `commerce.${snakeCase(event)}`;
    if (typeNames.size > 10_000) typeNames.clear();
    typeNames.set(event, t);
  }
  return t;
}

const bad = (message: string, pointer: string) => new AppError('PW_SEGMENT_INVALID', message, { pointer });

/** Messages of one batch share timestamps (the batch's `sentAt`, often `timestamp`): parse each string once. */
const parsedTimes = new Map<string, number>();

function time(v: unknown, pointer: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  let ms: number;
  if (typeof v === 'string') {
    let cached = parsedTimes.get(v);
    if (cached === undefined) {
      cached = Date.parse(v);
      if (parsedTimes.size > 256) parsedTimes.clear();
      parsedTimes.set(v, cached);
    }
    ms = cached;
  } else ms = typeof v === 'number' ? v : Number.NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) throw bad(`${pointer.slice(1)} must be an ISO 8601 timestamp`, pointer);
  return ms;
}

function optString(m: Record<string, unknown>, k: string): string | undefined {
  const v = m[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw bad(`${k} must be a string`, `/${k}`);
  return v;
}

function optObject(m: Record<string, unknown>, k: string): Record<string, unknown> | undefined {
  const v = m[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${k} must be an object`, `/${k}`);
  return v as Record<string, unknown>;
}

/** One Segment message → one CloudEvent; throws AppError with a JSON pointer when it cannot. */
export function segmentToEvent(msg: unknown, opts: SegmentOptions): CloudEvent {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw bad('a Segment message must be a JSON object', '');
  const m = msg as Record<string, unknown>;
  const call = (optString(m, 'type') ?? opts.call) as SegmentCall | undefined;
  if (!call) throw bad('type is required (track, identify, page or alias)', '/type');
  const userId = optString(m, 'userId');
  const anonymousId = optString(m, 'anonymousId');
  if (!userId && !anonymousId) throw bad('userId or anonymousId is required', '/userId');
  const context = optObject(m, 'context');
  const properties = optObject(m, 'properties');

  let type: string;
  let data: Record<string, unknown>;
  switch (call) {
    case 'track': {
      const event = optString(m, 'event');
      if (!event || commerceType(event) === 'commerce.') throw bad('event is required for a track call', '/event');
      type = commerceType(event);
      data = { event, properties: properties ?? {} };
      if (context) data.context = context;
      break;
    }
    case 'identify':
      type = 'customer.identified';
      data = { traits: optObject(m, 'traits') ?? {}, ...(context ? { context } : {}) };
      break;
    case 'alias': {
      const previousId = optString(m, 'previousId');
      if (!previousId) throw bad('previousId is required for an alias call', '/previousId');
      if (!userId) throw bad('userId is required for an alias call', '/userId');
      type = 'customer.aliased';
      data = { previousId, ...(context ? { context } : {}) };
      break;
    }
    case 'page': {
      type = 'storefront.page_viewed';
      const name = optString(m, 'name');
      const category = optString(m, 'category');
      data = {
        ...(name ? { name } : {}),
        ...(category ? { category } : {}),
        properties: properties ?? {},
        ...(context ? { context } : {}),
      };
      break;
    }
    default:
      throw new AppError('PW_SEGMENT_UNSUPPORTED_CALL', `Segment "${call}" calls are not supported; use track, identify, page or alias`, {
        pointer: '/type',
      });
  }

  const original = time(m.timestamp, '/timestamp') ?? time(m.originalTimestamp, '/originalTimestamp');
  const sentAt = time(m.sentAt, '/sentAt') ?? time(opts.batchSentAt, '/sentAt');
  let at = original ?? opts.receivedAt;
  if (!opts.history && original !== undefined && sentAt !== undefined) at = opts.receivedAt - (sentAt - original);
  if (Math.abs(at) > MAX_EPOCH_MS) throw bad('sentAt is so far from the timestamp that the corrected time is out of range', '/sentAt');

  const messageId = optString(m, 'messageId') ?? deterministicId('segment', JSON.stringify(m));
  const store = (typeof context?.store === 'string' ? context.store : undefined) ?? opts.store;
  const event: CloudEvent = {
    specversion: '1.0',
    id: messageId,
    source: opts.source,
    type,
    time: formatTime(at),
    subject: userId ?? anonymousId,
    datacontenttype: 'application/json',
    data,
  };
  if (userId) event.userid = userId;
  if (anonymousId) event.anonymousid = anonymousId;
  if (store) event.store = store;
  if (opts.history) event.pitwallhistory = true;
  return event;
}
