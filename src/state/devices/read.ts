/** Reads over device state and sensor-rule state, for other domains and the HTTP routes. */
import type { Db } from '../../detect/index.ts';
import { deviceFromRow, signalFromRow } from './device-rows.ts';
import type { DeviceState, SignalSummary } from './device-state.ts';

export interface DeviceDetail extends DeviceState {
  /** One per signal (SenML name or VSS path), by name. */
  signals: SignalSummary[];
}

export interface DeviceQuery {
  silent?: boolean | undefined;
  kind?: string | undefined;
  store?: string | undefined;
  /** Continue after this device id (ids ascending). */
  after?: string | undefined;
  limit: number;
}

/** A rule key that is `sustained` now. */
export interface SustainedSensor {
  rule: string;
  deviceId: string | undefined;
  n: string;
  unit: string | undefined;
  store: string | undefined;
  /** Event time of the reading that opened the episode. */
  sinceMs: number | undefined;
  /** Event time of its `sensor.sustained`. */
  sustainedAtMs: number | undefined;
  sustainedEventId: string | undefined;
  /** The latest reading evaluated, and its event time. */
  value: number;
  valueAtMs: number;
}

/** A configured sensor rule as published by the Decide process (config-file words). */
export interface PublishedRule {
  name: string;
  definition: Record<string, unknown>;
  publishedMs: number;
}

/** The device's row alone (no signals). */
export async function getDevice(db: Db, deviceId: string): Promise<DeviceState | undefined> {
  const row = await db.selectFrom('device_state').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
  return row ? deviceFromRow(row) : undefined;
}

/** Several devices' rows (no signals), by id; ids with no state are absent. */
export async function getDevices(db: Db, deviceIds: readonly string[]): Promise<Map<string, DeviceState>> {
  const out = new Map<string, DeviceState>();
  for (let i = 0; i < deviceIds.length; i += 500) {
    const rows = await db
      .selectFrom('device_state')
      .selectAll()
      .where('device_id', 'in', deviceIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.device_id, deviceFromRow(r));
  }
  return out;
}

/** A device's folded state with its signal summaries; undefined when no event has named it. */
export async function getDeviceState(db: Db, deviceId: string): Promise<DeviceDetail | undefined> {
  const device = await getDevice(db, deviceId);
  if (!device) return undefined;
  const rows = await db.selectFrom('device_signals').selectAll().where('device_id', '=', deviceId).orderBy('signal').execute();
  return { ...device, signals: rows.map(signalFromRow) };
}

/** Devices in id order, optionally only silent (or only not silent) ones, of a kind, or of a store. */
export async function listDevices(db: Db, q: DeviceQuery): Promise<DeviceState[]> {
  let query = db.selectFrom('device_state').selectAll();
  if (q.silent !== undefined) query = query.where('silent', '=', q.silent ? 1 : 0);
  if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
  if (q.store !== undefined) query = query.where('store', '=', q.store);
  if (q.after !== undefined) query = query.where('device_id', '>', q.after);
  const rows = await query.orderBy('device_id').limit(q.limit).execute();
  return rows.map(deviceFromRow);
}

/** The devices that are silent now (at most `limit`, by id). */
export function silentDevices(db: Db, limit = 1000): Promise<DeviceState[]> {
  return listDevices(db, { silent: true, limit });
}

/** Whether a device is silent now (false for a device never seen). */
export async function isDeviceSilent(db: Db, deviceId: string): Promise<boolean> {
  return (await getDevice(db, deviceId))?.silent === true;
}

/** The rule keys that are sustained now, optionally of one rule or one device. */
export async function activeSustained(db: Db, filter: { rule?: string; deviceId?: string } = {}): Promise<SustainedSensor[]> {
  let query = db.selectFrom('sensor_rule_state').selectAll().where('phase', '=', 'sustained');
  if (filter.rule !== undefined) query = query.where('rule', '=', filter.rule);
  if (filter.deviceId !== undefined) query = query.where('device_id', '=', filter.deviceId);
  const rows = await query.orderBy('rule').orderBy('device_id').orderBy('n').execute();
  const opt = (v: number | bigint | null) => (v === null ? undefined : Number(v));
  return rows.map((r) => ({
    rule: r.rule,
    deviceId: r.device_id === '' ? undefined : r.device_id,
    n: r.n,
    unit: r.unit ?? undefined,
    store: r.store ?? undefined,
    sinceMs: opt(r.started_ms),
    sustainedAtMs: opt(r.sustained_ms),
    sustainedEventId: r.sustained_event_id ?? undefined,
    value: Number(r.last_value),
    valueAtMs: Number(r.last_ms),
  }));
}

/** The sensor rules the Decide process runs with, in configuration order. */
export async function publishedRules(db: Db): Promise<PublishedRule[]> {
  const rows = await db.selectFrom('sensor_rules').selectAll().orderBy('position').execute();
  return rows.map((r) => ({
    name: r.name,
    definition: JSON.parse(r.definition) as Record<string, unknown>,
    publishedMs: Number(r.published_ms),
  }));
}
