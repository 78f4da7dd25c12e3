/**
 * From log events to monitor observations (the mapping table in docs/decide/quality.md).
 * Pure: no I/O, no clock.
 */
import type { CloudEvent } from '../events/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import type { Observation } from './monitor.ts';

/** The event types whose readings the quality monitor watches. */
export const OBSERVED_TYPES = ['sensor.reading', 'vehicle.signal', 'shipment.position'] as const;
const OBSERVED = new Set<string>(OBSERVED_TYPES);

export const QUALITY_DEGRADED = 'quality.degraded';
export const QUALITY_RECOVERED = 'quality.recovered';

export function isObservedEvent(e: CloudEvent): boolean {
  return OBSERVED.has(e.type);
}

/**
 * The quality source of an event: its `deviceid` extension when there is one, else its `source`.
 * Callers of `isSourceTrusted` should ask with this, so they name sources the way the monitor does.
 */
export function qualitySourceOf(e: CloudEvent): string {
  return typeof e.deviceid === 'string' && e.deviceid !== '' ? e.deviceid : e.source;
}

/** The readings one logged event contributes (none for types the monitor does not watch). */
export function observationsOf(le: LoggedEvent): Observation[] {
  const e = le.event;
  const d = e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data) ? (e.data as Record<string, unknown>) : {};
  const source = qualitySourceOf(e);
  const at = Date.parse(e.time);
  const base = { source, eventTime: at, receivedAt: le.receivedAt };
  switch (e.type) {
    case 'sensor.reading': {
      const value = scalar(d.v) ?? scalar(d.vs) ?? scalar(d.vb) ?? scalar(d.s) ?? scalar(d.vd);
      if (typeof d.n !== 'string' || value === undefined) return [];
      const t = typeof d.t === 'number' && Number.isFinite(d.t) ? d.t * 1000 : at;
      return [{ ...base, signal: d.n, value, eventTime: t, ...(typeof d.u === 'string' ? { unit: d.u } : {}) }];
    }
    case 'vehicle.signal': {
      const value = scalar(d.value);
      if (typeof d.signal !== 'string' || value === undefined) return [];
      return [{ ...base, signal: d.signal, value, ...(typeof d.unit === 'string' ? { unit: d.unit } : {}) }];
    }
    case 'shipment.position': {
      if (typeof d.lat !== 'number' || typeof d.lon !== 'number') return [];
      // One feed (a carrier's) may report many shipments: each is its own position.
      const prefix = typeof d.shipment_id === 'string' && d.shipment_id !== '' ? `${d.shipment_id}:` : '';
      return [
        { ...base, signal: `${prefix}lat`, value: d.lat },
        { ...base, signal: `${prefix}lon`, value: d.lon },
      ];
    }
    default:
      return [];
  }
}

function scalar(v: unknown): number | string | boolean | undefined {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : undefined;
}
