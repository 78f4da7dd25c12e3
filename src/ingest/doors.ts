/** The doors: how each channel turns one received item into canonical events. */
import { normalise } from '../events/adapters/cloudevents-http.ts';
import { senmlToEvents, shipmentToEvents, telemetryToEvents } from '../events/adapters/index.ts';
import { type SegmentCall, segmentToEvent } from '../events/adapters/segment.ts';
import type { Door } from './ingest.ts';
import type { Channel } from './quarantine.ts';

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
    segment: {
      channel: 'segment',
      maxItemBytes: SEGMENT_EVENT_LIMIT,
      toEvents: (raw, ctx, now) => [
        segmentToEvent(raw, {
          source: need(ctx.source, 'source'),
          receivedAt: now,
          batchSentAt: ctx.batchSentAt,
          ...(ctx.call ? { call: ctx.call as SegmentCall } : {}),
          history: ctx.history === true,
          store: ctx.store,
        }),
      ],
    },
    senml: { channel: 'senml', toEvents: senml },
    'mqtt-senml': { channel: 'mqtt-senml', toEvents: senml },
    'mqtt-telemetry': {
      channel: 'mqtt-telemetry',
      toEvents: (raw, ctx, now) => {
        const deviceId = need(ctx.deviceId, 'deviceId');
        return telemetryToEvents(raw, {
          nowMs: now,
          source: ctx.source ?? deviceSource(deviceId),
          deviceId,
          history: ctx.history === true,
        });
      },
    },
    'mqtt-shipment': {
      channel: 'mqtt-shipment',
      toEvents: (raw, ctx, now) =>
        shipmentToEvents(raw, {
          nowMs: now,
          source: ctx.source ?? 'pitwall:mqtt',
          shipmentId: need(ctx.shipmentId, 'shipmentId'),
          history: ctx.history === true,
        }),
    },
  };
}
