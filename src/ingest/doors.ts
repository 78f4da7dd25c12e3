/** The doors: how each channel turns one received item into canonical events. */
import { AppError } from '../core/index.ts';
import { normalise, type SegmentCall, segmentToEvent, senmlToEvents, shipmentToEvents, telemetryToEvents } from '../events/index.ts';
import type { Door } from './ingest.ts';
import type { Channel, QuarantineContext } from './quarantine.ts';

type SegmentOptions = Parameters<typeof segmentToEvent>[1];

/** Segment's per-event limit. */
export const SEGMENT_EVENT_LIMIT = 32 * 1024;

/** Canonical source of messages from a device over MQTT. */
export function deviceSource(deviceId: string): string {
  return `pitwall:device/${deviceId}`;
}

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`ingest context lacks ${what}`);
  return v;
};

/** An MQTT payload that is not JSON reaches its door as `{ $malformed: text }` (ingest/mqtt.ts). */
function rejectMalformed(toEvents: Door['toEvents']): Door['toEvents'] {
  return (raw, ctx, now) => {
    if (typeof raw === 'object' && raw !== null && typeof (raw as { $malformed?: unknown }).$malformed === 'string') {
      throw new AppError('PW_BODY_MALFORMED', 'the MQTT payload is not valid JSON', { pointer: '' });
    }
    return toEvents(raw, ctx, now);
  };
}

/** Segment: the messages of a batch share one context, so their adapter options are built once. */
function segmentDoor(): Door['toEvents'] {
  let lastCtx: QuarantineContext | undefined;
  let lastNow = 0;
  let opts: SegmentOptions | undefined;
  return (raw, ctx, now) => {
    if (opts === undefined || ctx !== lastCtx || now !== lastNow) {
      opts = {
        source: need(ctx.source, 'source'),
        receivedAt: now,
        batchSentAt: ctx.batchSentAt,
        ...(ctx.call ? { call: ctx.call as SegmentCall } : {}),
        history: ctx.history === true,
        store: ctx.store,
      };
      lastCtx = ctx;
      lastNow = now;
    }
    return [segmentToEvent(raw, opts)];
  };
}

export function defaultDoors(): Record<Channel, Door> {
  const senml: Door['toEvents'] = (raw, ctx, now) =>
    senmlToEvents(raw, {
      nowMs: now,
      source: ctx.source ?? (ctx.deviceId ? deviceSource(ctx.deviceId) : 'pitwall:senml'),
      ...(ctx.deviceId ? { deviceId: ctx.deviceId } : {}),
      history: ctx.history === true,
    });
  return {
    cloudevents: { channel: 'cloudevents', toEvents: (raw, ctx, now) => [normalise(raw, now, ctx.history === true)] },
    segment: { channel: 'segment', maxItemBytes: SEGMENT_EVENT_LIMIT, toEvents: segmentDoor() },
    senml: { channel: 'senml', toEvents: senml },
    'mqtt-senml': { channel: 'mqtt-senml', toEvents: rejectMalformed(senml) },
    'mqtt-telemetry': {
      channel: 'mqtt-telemetry',
      toEvents: rejectMalformed((raw, ctx, now) => {
        const deviceId = need(ctx.deviceId, 'deviceId');
        return telemetryToEvents(raw, {
          nowMs: now,
          source: ctx.source ?? deviceSource(deviceId),
          deviceId,
          history: ctx.history === true,
        });
      }),
    },
    'mqtt-shipment': {
      channel: 'mqtt-shipment',
      toEvents: rejectMalformed((raw, ctx, now) =>
        shipmentToEvents(raw, {
          nowMs: now,
          source: ctx.source ?? 'pitwall:mqtt',
          shipmentId: need(ctx.shipmentId, 'shipmentId'),
          history: ctx.history === true,
        }),
      ),
    },
  };
}
