/**
 * What a device event says, in device words: which device sent it, the reading it carries
 * (SenML `sensor.reading` or VSS `vehicle.signal`), and whether that reading is a battery
 * level, a battery voltage or a firmware version. Pure functions.
 */
import { dataOf } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { lastSegment } from './settings.ts';

/** Derived events come from Pitwall itself: they are never messages from a device. */
const DETECTOR_SOURCE = 'pitwall:detector/';

export interface Reading {
  /** Full SenML name (`bn` + `n`) or VSS path. */
  signal: string;
  unit: string | undefined;
  /** Numeric value (SenML `v`, else `s`; a numeric VSS value). */
  value: number | undefined;
  /** String or boolean value, as text. */
  text: string | undefined;
}

/** The device an event comes from: its `deviceid` extension, unless Pitwall derived it. */
export function messageDevice(e: CloudEvent): string | undefined {
  if (typeof e.deviceid !== 'string' || e.deviceid === '' || e.source.startsWith(DETECTOR_SOURCE)) return undefined;
  return e.deviceid;
}

/** The device a `device.registered` event registers. */
export function registeredDevice(e: CloudEvent): string | undefined {
  if (e.type !== 'device.registered') return undefined;
  const id = dataOf(e).device_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The reading a `sensor.reading` or `vehicle.signal` carries. */
export function readingOf(e: CloudEvent): Reading | undefined {
  const d = dataOf(e);
  if (e.type === 'sensor.reading') {
    const signal = str(d.n);
    if (signal === undefined) return undefined;
    const value = finite(d.v) ?? (d.vs === undefined && d.vb === undefined && d.vd === undefined ? finite(d.s) : undefined);
    const text = typeof d.vs === 'string' ? d.vs : typeof d.vb === 'boolean' ? String(d.vb) : undefined;
    return { signal, unit: str(d.u), value, text };
  }
  if (e.type === 'vehicle.signal') {
    const signal = str(d.signal);
    if (signal === undefined) return undefined;
    const v = d.value;
    return { signal, unit: str(d.unit), value: finite(v), text: typeof v === 'string' || typeof v === 'boolean' ? String(v) : undefined };
  }
  return undefined;
}

const BATTERY_SEGMENT = /(^|[_-])bat(t|tery)?($|[_-])/i;
const FIRMWARE_SEGMENT = /^(firmware|fw)([_-]?(version|ver|rev))?$/i;
const VSS_BATTERY_PCT = new Set([
  'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
  'Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed',
]);
const VSS_BATTERY_V = new Set(['Vehicle.LowVoltageBattery.CurrentVoltage']);

/**
 * Battery level (%) or voltage (V) from a reading:
 * - level: SenML unit `%EL` (any name), a battery-named reading in `%`, or VSS traction battery state of charge;
 * - voltage: a battery-named reading in `V`, or VSS `Vehicle.LowVoltageBattery.CurrentVoltage`.
 * Battery-named: the last name segment contains `bat`, `batt` or `battery` as a word (`battery_level`, `bat_v`).
 */
export function batteryOf(r: Reading): { pct: number } | { volts: number } | undefined {
  if (r.value === undefined) return undefined;
  const named = BATTERY_SEGMENT.test(lastSegment(r.signal));
  if (r.unit === '%EL' || (named && r.unit === '%') || VSS_BATTERY_PCT.has(r.signal)) return { pct: r.value };
  if ((named && r.unit === 'V') || VSS_BATTERY_V.has(r.signal)) return { volts: r.value };
  return undefined;
}

/** A firmware version from a reading named `firmware`, `fw`, `fw_version`, … (string or number value). */
export function firmwareOf(r: Reading): string | undefined {
  if (!FIRMWARE_SEGMENT.test(lastSegment(r.signal))) return undefined;
  return r.text ?? (r.value !== undefined ? String(r.value) : undefined);
}
