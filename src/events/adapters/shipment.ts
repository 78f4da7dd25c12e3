/**
 * Shipment tracker / carrier messages from MQTT `pitwall/shipments/{shipmentId}` → canonical
 * `shipment.<event>` CloudEvents. Pure functions, no I/O. Only the envelope structure is checked
 * here; the `data` schemas (src/events/catalogue/shipment.ts) are validated downstream.
 *
 * Payload: `{ "event": "created"|"position"|"status"|"condition"|"delivered", "time"?: RFC 3339,
 * "id"?: string, ...fields }`, or an array of such objects.
 */
import { AppError, deterministicId } from '../../core/index.ts';
import type { CloudEvent } from '../envelope.ts';
import { isPlainObject } from '../json.ts';
import { parseRfc3339 } from './telemetry.ts';

export const SHIPMENT_EVENTS = ['created', 'position', 'status', 'condition', 'delivered'] as const;
export type ShipmentEventName = (typeof SHIPMENT_EVENTS)[number];

export interface ShipmentEventOptions {
  /** Used for messages without a `time`, in epoch milliseconds. */
  nowMs: number;
  source: string;
  /** From the MQTT topic; becomes `subject` and `data.shipment_id`. */
  shipmentId: string;
  /** A backfill: keeps its timestamps, builds state, starts no timers. */
  history?: boolean;
}

/** Envelope members of the payload; everything else is `data`. */
const ENVELOPE_MEMBERS = new Set(['event', 'time', 'id', 'shipment_id']);

function invalid(message: string, pointer: string): AppError {
  return new AppError('PW_SHIPMENT_INVALID', message, { status: 400, pointer });
}

function isShipmentEvent(value: unknown): value is ShipmentEventName {
  return typeof value === 'string' && (SHIPMENT_EVENTS as readonly string[]).includes(value);
}

/** JSON with object keys sorted at every depth (array order kept): the same fields → the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

function toEvent(item: unknown, at: string, opts: ShipmentEventOptions): CloudEvent {
  if (!isPlainObject(item)) throw invalid('a shipment message must be an object with an "event"', at);

  const name = item.event;
  if (!isShipmentEvent(name)) {
    throw invalid(`"event" must be one of ${SHIPMENT_EVENTS.join(', ')}`, `${at}/event`);
  }

  let time: string;
  if (item.time === undefined) {
    time = new Date(opts.nowMs).toISOString();
  } else {
    const ms = parseRfc3339(item.time);
    if (ms === undefined) throw invalid('"time" must be an RFC 3339 date-time (e.g. 2026-01-05T09:00:00Z)', `${at}/time`);
    time = new Date(ms).toISOString();
  }

  if (item.id !== undefined && (typeof item.id !== 'string' || item.id === '')) {
    throw invalid('"id" must be a non-empty string', `${at}/id`);
  }

  if (item.shipment_id !== undefined && item.shipment_id !== opts.shipmentId) {
    throw invalid(`"shipment_id" does not match the topic's shipment ${opts.shipmentId}`, `${at}/shipment_id`);
  }

  // Object.fromEntries defines own properties, so a "__proto__" member stays plain data.
  const fields = Object.fromEntries(Object.entries(item).filter(([key]) => !ENVELOPE_MEMBERS.has(key)));
  const id = typeof item.id === 'string' ? item.id : deterministicId(opts.shipmentId, name, time, canonicalJson(fields));

  const event: CloudEvent = {
    specversion: '1.0',
    id,
    source: opts.source,
    type: `shipment.${name}`,
    time,
    subject: opts.shipmentId,
    datacontenttype: 'application/json',
    data: { shipment_id: opts.shipmentId, ...fields },
  };
  if (opts.history) event.pitwallhistory = true;
  return event;
}

/**
 * One `shipment.<event>` CloudEvent per message. `time` is normalised to UTC (`…Z`); without one
 * it is `nowMs`. Id: the message's `id`, else `deterministicId(shipmentId, event, time,
 * canonicalJson(fields))` where fields exclude event/time/id/shipment_id. Throws
 * `PW_SHIPMENT_INVALID` (400) with the RFC 6901 pointer of the offending field.
 */
export function shipmentToEvents(payload: unknown, opts: ShipmentEventOptions): CloudEvent[] {
  if (typeof opts.shipmentId !== 'string' || opts.shipmentId === '') {
    throw new AppError('PW_SHIPMENT_INVALID', 'a shipment message needs the shipment id from its topic', { status: 400 });
  }
  if (Array.isArray(payload)) {
    if (payload.length === 0) throw invalid('a shipment message array must not be empty', '');
    return payload.map((item, i) => toEvent(item, `/${i}`, opts));
  }
  if (isPlainObject(payload)) return [toEvent(payload, '', opts)];
  throw invalid('a shipment message must be an object (or an array of objects)', '');
}
