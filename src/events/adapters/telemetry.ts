/**
 * Vehicle telemetry (COVESA VSS signal paths) from MQTT `pitwall/devices/{deviceId}/telemetry`
 * → canonical `vehicle.signal` CloudEvents. Pure functions, no I/O.
 *
 * Two payload shapes:
 * - a map: `{ "vin"?: "…", "ts"?: ISO | epoch ms, "signals": { "Vehicle.…": value, … } }`
 * - a list: `[{ "path": "Vehicle.…", "value": …, "ts"?: ISO | epoch ms, "unit"?: "…" }, …]`
 */
import { AppError, deterministicId } from '../../core/index.ts';
import type { CloudEvent } from '../envelope.ts';
import { isPlainObject, pointerToken as token } from '../json.ts';

export interface TelemetryEventOptions {
  /** Used for signals without a `ts`, in epoch milliseconds. */
  nowMs: number;
  source: string;
  /** From the MQTT topic; becomes `device_id`, the `deviceid` extension and (without a VIN) `subject`. */
  deviceId: string;
  /** A backfill: keeps its timestamps, builds state, starts no timers. */
  history?: boolean;
}

/** A COVESA VSS signal path: `Vehicle.` followed by dotted branch/leaf names. */
export const VSS_SIGNAL_PATTERN = /^Vehicle(\.[A-Za-z0-9_]+)+$/;

/** The range of a JavaScript Date, in epoch milliseconds. */
const MAX_EPOCH_MS = 8.64e15;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Parse an RFC 3339 date-time (`2026-01-05T09:00:00Z`, `…T10:00:00.5+01:00`) to epoch ms.
 * Stricter than `Date.parse`, which accepts `2026-02-30` and `24:00`. Returns undefined if invalid.
 * Leap seconds (`:60`) are not accepted.
 */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function invalid(message: string, pointer: string): AppError {
  return new AppError('PW_TELEMETRY_INVALID', message, { status: 400, pointer });
}

/** `ts`: an RFC 3339 string or epoch milliseconds; absent → `nowMs`. */
function readTime(ts: unknown, nowMs: number, pointer: string): number {
  if (ts === undefined) return nowMs;
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts) || ts < 0 || ts > MAX_EPOCH_MS) {
      throw invalid('"ts" must be epoch milliseconds (a non-negative number) or an RFC 3339 date-time', pointer);
    }
    return ts;
  }
  const ms = parseRfc3339(ts);
  if (ms === undefined) throw invalid('"ts" must be an RFC 3339 date-time (e.g. 2026-01-05T09:00:00Z) or epoch milliseconds', pointer);
  return ms;
}

function checkSignal(signal: unknown, pointer: string): string {
  if (typeof signal !== 'string' || !VSS_SIGNAL_PATTERN.test(signal)) {
    throw invalid('a signal must be a COVESA VSS path such as Vehicle.Powertrain.TractionBattery.StateOfHealth', pointer);
  }
  return signal;
}

function checkValue(value: unknown, pointer: string): number | string | boolean {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw invalid('a signal value must be a finite number, a string or a boolean', pointer);
}

interface Reading {
  signal: string;
  value: number | string | boolean;
  timeMs: number;
  unit?: string;
}

function readList(payload: readonly unknown[], nowMs: number): Reading[] {
  if (payload.length === 0) throw invalid('telemetry must contain at least one signal', '');
  return payload.map((item, i) => {
    const at = `/${i}`;
    if (!isPlainObject(item)) throw invalid(`telemetry item ${i} must be an object with "path" and "value"`, at);
    const reading: Reading = {
      signal: checkSignal(item.path, `${at}/path`),
      value: checkValue(item.value, `${at}/value`),
      timeMs: readTime(item.ts, nowMs, `${at}/ts`),
    };
    if (item.unit !== undefined) {
      if (typeof item.unit !== 'string') throw invalid('"unit" must be a string', `${at}/unit`);
      if (item.unit !== '') reading.unit = item.unit;
    }
    return reading;
  });
}

function readMap(payload: Record<string, unknown>, nowMs: number): { vin?: string; readings: Reading[] } {
  let vin: string | undefined;
  if (payload.vin !== undefined) {
    if (typeof payload.vin !== 'string' || payload.vin === '') throw invalid('"vin" must be a non-empty string', '/vin');
    vin = payload.vin;
  }
  const timeMs = readTime(payload.ts, nowMs, '/ts');
  const signals = payload.signals;
  if (!isPlainObject(signals)) throw invalid('"signals" must be an object of VSS path → value', '/signals');
  const entries = Object.entries(signals).filter(([, value]) => value !== undefined);
  if (entries.length === 0) throw invalid('"signals" must contain at least one signal', '/signals');
  const readings = entries.map(([signal, value]) => {
    const pointer = `/signals/${token(signal)}`;
    return { signal: checkSignal(signal, pointer), value: checkValue(value, pointer), timeMs };
  });
  return vin === undefined ? { readings } : { vin, readings };
}

/**
 * One `vehicle.signal` CloudEvent per signal. Id: `deterministicId(deviceId, signal, timeMs,
 * String(value))`, so a redelivery dedupes. Throws `PW_TELEMETRY_INVALID` (400) with the RFC 6901
 * pointer of the offending field in the payload.
 */
export function telemetryToEvents(payload: unknown, opts: TelemetryEventOptions): CloudEvent[] {
  if (typeof opts.deviceId !== 'string' || opts.deviceId === '') {
    throw new AppError('PW_TELEMETRY_INVALID', 'telemetry needs the device id from its topic', { status: 400 });
  }
  let vin: string | undefined;
  let readings: Reading[];
  if (Array.isArray(payload)) {
    readings = readList(payload, opts.nowMs);
  } else if (isPlainObject(payload)) {
    ({ vin, readings } = readMap(payload, opts.nowMs));
  } else {
    throw invalid('telemetry must be an object with "signals" or an array of { path, value } items', '');
  }

  return readings.map((r) => {
    const data: Record<string, unknown> = { signal: r.signal, value: r.value };
    if (r.unit !== undefined) data.unit = r.unit;
    if (vin !== undefined) data.vin = vin;
    data.device_id = opts.deviceId;
    const event: CloudEvent = {
      specversion: '1.0',
      id: deterministicId(opts.deviceId, r.signal, r.timeMs, String(r.value)),
      source: opts.source,
      type: 'vehicle.signal',
      time: new Date(r.timeMs).toISOString(),
      subject: vin ?? opts.deviceId,
      datacontenttype: 'application/json',
      data,
      deviceid: opts.deviceId,
    };
    if (opts.history) event.pitwallhistory = true;
    return event;
  });
}
