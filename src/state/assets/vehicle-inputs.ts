/**
 * What vehicle events say, and which vehicle they are about. Pure.
 *
 * - `device.registered`: the device's VIN, owner, part SKU / serial (→ a part type by settings).
 * - `vehicle.signal`: a VSS path and value; its vehicle is `vin`, else the VIN its device is
 *   registered to, else `device:<device_id>`.
 * - `part.service_due` / `part.service_cleared`: the detector's decisions (vehicle, signal, episode).
 */
import type { CloudEvent } from '../../events/index.ts';
import { ODOMETER_SIGNAL, partTypeOfSignal, type ServiceDueSettings } from './settings.ts';
import { num, text } from './stock-inputs.ts';

export const PART_SERVICE_DUE = 'part.service_due';
export const PART_SERVICE_CLEARED = 'part.service_cleared';

/** ISO 3779 VIN. */
export const VIN_PATTERN = /^[A-HJ-NPR-Z0-9]{17}$/;

export interface Registration {
  deviceId: string;
  vin: string | undefined;
  kind: string | undefined;
  customerId: string | undefined;
  partSku: string | undefined;
  partSerial: string | undefined;
  firmware: string | undefined;
}

export interface Signal {
  signal: string;
  value: number | string | boolean;
  unit: string | undefined;
  vin: string | undefined;
  deviceId: string | undefined;
}

function dataOf(e: CloudEvent): Record<string, unknown> {
  const d = e.data;
  return d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
}

export function registrationOf(e: CloudEvent): Registration | undefined {
  if (e.type !== 'device.registered') return undefined;
  const d = dataOf(e);
  const deviceId = text(d.device_id);
  if (deviceId === undefined) return undefined;
  return {
    deviceId,
    vin: text(d.vin),
    kind: text(d.kind),
    customerId: text(d.customer_id),
    partSku: text(d.part_sku),
    partSerial: text(d.part_serial),
    firmware: text(d.firmware),
  };
}

export function signalOf(e: CloudEvent): Signal | undefined {
  if (e.type !== 'vehicle.signal') return undefined;
  const d = dataOf(e);
  const signal = text(d.signal);
  const value = d.value;
  if (signal === undefined || (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean')) return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  return { signal, value, unit: text(d.unit), vin: text(d.vin), deviceId: text(d.device_id) ?? text(e.deviceid) };
}

/** `vehicle_id` and `signal` of a `part.service_due` / `part.service_cleared`. */
export function serviceKeyOf(e: CloudEvent): { vehicleId: string; signal: string; episode: number } | undefined {
  if (e.type !== PART_SERVICE_DUE && e.type !== PART_SERVICE_CLEARED) return undefined;
  const d = dataOf(e);
  const vehicleId = text(d.vehicle_id);
  const signal = text(d.signal);
  const episode = num(d.episode);
  return vehicleId !== undefined && signal !== undefined && episode !== undefined ? { vehicleId, signal, episode } : undefined;
}

export function deviceVehicleId(deviceId: string): string {
  return `device:${deviceId}`;
}

export function vehicleIdOfRegistration(r: Registration): string {
  return r.vin ?? deviceVehicleId(r.deviceId);
}

/** The vehicle a signal belongs to, given its device's registration (if any). */
export function vehicleIdOfSignal(s: Signal, device: { vehicle_id: string | null } | undefined): string | undefined {
  if (s.vin !== undefined) return s.vin;
  if (s.deviceId === undefined) return undefined;
  return device?.vehicle_id ?? deviceVehicleId(s.deviceId);
}

/** A part's identity: serial, else SKU, else the device that reports it. */
export function partIdentity(p: { part_serial: string | null; part_sku: string | null; device_id: string | null }): string {
  if (p.part_serial !== null) return `serial:${p.part_serial}`;
  return p.part_sku !== null ? `sku:${p.part_sku}` : `device:${p.device_id ?? ''}`;
}

export function isWatched(s: ServiceDueSettings, signal: string): boolean {
  return signal === ODOMETER_SIGNAL || partTypeOfSignal(s.parts, signal) !== undefined;
}
