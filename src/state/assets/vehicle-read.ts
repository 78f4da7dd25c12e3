/** Reading the vehicles projection: a vehicle with its signals, devices, parts, wear trends and due services. */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import { DEFAULT_SETTINGS, type Direction, type Measure, ODOMETER_SIGNAL } from './settings.ts';
import { type WearPoint, type WearTrend, wearTrend } from './trend.ts';

type VehicleRow = Selectable<Database['vehicles']>;
type SignalRow = Selectable<Database['vehicle_signals']>;
type PartRow = Selectable<Database['vehicle_parts']>;
type ServiceRow = Selectable<Database['vehicle_service']>;
type PointRow = Selectable<Database['vehicle_points']>;

export interface VehicleSignalValue {
  signal: string;
  value: number | string | boolean;
  unit: string | undefined;
  /** Event time of the reading, epoch ms. */
  at: number;
  deviceId: string | undefined;
}

export interface VehicleDevice {
  deviceId: string;
  kind: string | undefined;
  customerId: string | undefined;
  partSku: string | undefined;
  partSerial: string | undefined;
  firmware: string | undefined;
  registeredAt: number;
}

/** One watched signal of a vehicle: the part it wears, its measure against the rule, its trend. */
export interface PartStatus {
  partType: string;
  signal: string;
  partSku: string | undefined;
  partSerial: string | undefined;
  installedAt: number | undefined;
  measure: Measure;
  direction: Direction;
  threshold: number;
  clear: number;
  limit: number | undefined;
  /** The latest reading since installation (raw signal value). */
  reading: number | undefined;
  readingAt: number | undefined;
  /** The measure compared with the threshold (the reading, or its increase since installation). */
  value: number | undefined;
  due: boolean;
  dueSince: number | undefined;
  /** Due episodes raised so far. */
  dueEpisodes: number;
  trend: WearTrend | undefined;
}

export interface Vehicle {
  /** The VIN, or `device:<id>` for a device registered to no vehicle. */
  vehicleId: string;
  vin: string | undefined;
  customerId: string | undefined;
  firstSeenAt: number;
  lastSeenAt: number;
  signals: VehicleSignalValue[];
  devices: VehicleDevice[];
  parts: PartStatus[];
  /** The parts that are due now (a subset of `parts`). */
  dueServices: PartStatus[];
}

export interface VehicleReadOptions {
  /** History points a trend needs (default 3, as `service_due.min_points`). */
  minPoints?: number;
}

/** The current measure of a watched signal: undefined without a numeric reading since installation (or a baseline). */
export function currentMeasure(
  svc: Pick<ServiceRow, 'measure' | 'baseline_value'>,
  part: Pick<PartRow, 'installed_ms'> | undefined,
  sig: Pick<SignalRow, 'value' | 'time_ms'> | undefined,
): { reading: number; readingAt: number; value: number } | undefined {
  if (!sig) return undefined;
  const reading: unknown = JSON.parse(sig.value);
  if (typeof reading !== 'number') return undefined;
  const readingAt = Number(sig.time_ms);
  if (part && readingAt < Number(part.installed_ms)) return undefined;
  if (svc.measure !== 'since_install') return { reading, readingAt, value: reading };
  if (svc.baseline_value === null) return undefined;
  return { reading, readingAt, value: Math.round((reading - svc.baseline_value) * 1e6) / 1e6 };
}

/** The wear trend of one watched signal from its history since installation. */
export function partTrend(
  svc: ServiceRow,
  part: PartRow | undefined,
  points: readonly PointRow[],
  odometer: ReadonlyMap<number, number>,
  minPoints: number,
): WearTrend | undefined {
  const installed = part ? Number(part.installed_ms) : Number.NEGATIVE_INFINITY;
  const series: WearPoint[] = [];
  for (const p of points) {
    if (p.signal !== svc.signal || Number(p.time_ms) < installed) continue;
    if (svc.measure === 'since_install' && svc.baseline_value === null) continue;
    const y = svc.measure === 'since_install' ? p.value - (svc.baseline_value as number) : p.value;
    series.push({ t: Number(p.time_ms), y, km: odometer.get(Number(p.bucket_ms)) });
  }
  return wearTrend(
    series,
    { direction: svc.direction as Direction, threshold: svc.threshold, limit: svc.limit_level ?? undefined },
    minPoints,
  );
}

/** A vehicle (by VIN, or `device:<id>`), or undefined when nothing is known about it. */
export async function getVehicle(db: Db, vin: string, opts: VehicleReadOptions = {}): Promise<Vehicle | undefined> {
  const row = await db.selectFrom('vehicles').selectAll().where('vehicle_id', '=', vin).executeTakeFirst();
  return row ? (await assemble(db, [row], opts))[0] : undefined;
}

/** The vehicles (and unattached devices) whose owner is `customerId`, by vehicle id. */
export async function vehiclesOfCustomer(db: Db, customerId: string, opts: VehicleReadOptions = {}): Promise<Vehicle[]> {
  const rows = await db.selectFrom('vehicles').selectAll().where('customer_id', '=', customerId).orderBy('vehicle_id').execute();
  return assemble(db, rows, opts);
}

async function assemble(db: Db, rows: readonly VehicleRow[], opts: VehicleReadOptions): Promise<Vehicle[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.vehicle_id);
  const minPoints = opts.minPoints ?? DEFAULT_SETTINGS.serviceDue.minPoints;
  const signals = await db.selectFrom('vehicle_signals').selectAll().where('vehicle_id', 'in', ids).orderBy('signal').execute();
  const devices = await db.selectFrom('vehicle_devices').selectAll().where('vehicle_id', 'in', ids).orderBy('device_id').execute();
  const parts = await db.selectFrom('vehicle_parts').selectAll().where('vehicle_id', 'in', ids).execute();
  const services = await db
    .selectFrom('vehicle_service')
    .selectAll()
    .where('vehicle_id', 'in', ids)
    .orderBy('part_type')
    .orderBy('signal')
    .execute();
  const points = await db.selectFrom('vehicle_points').selectAll().where('vehicle_id', 'in', ids).execute();
  return rows.map((v) => {
    const mine = <R extends { vehicle_id: string | null }>(xs: readonly R[]) => xs.filter((x) => x.vehicle_id === v.vehicle_id);
    const myPoints = mine(points);
    const odometer = new Map(myPoints.filter((p) => p.signal === ODOMETER_SIGNAL).map((p) => [Number(p.bucket_ms), p.value]));
    const mySignals = mine(signals);
    const partStatuses = mine(services).map((svc): PartStatus => {
      const part = parts.find((p) => p.vehicle_id === v.vehicle_id && p.part_type === svc.part_type);
      const now = currentMeasure(
        svc,
        part,
        mySignals.find((s) => s.signal === svc.signal),
      );
      const due = svc.due_raised > svc.due_cleared;
      return {
        partType: svc.part_type,
        signal: svc.signal,
        partSku: part?.part_sku ?? undefined,
        partSerial: part?.part_serial ?? undefined,
        installedAt: part ? Number(part.installed_ms) : undefined,
        measure: svc.measure as Measure,
        direction: svc.direction as Direction,
        threshold: svc.threshold,
        clear: svc.clear_level,
        limit: svc.limit_level ?? undefined,
        reading: now?.reading,
        readingAt: now?.readingAt,
        value: now?.value,
        due,
        dueSince: due && svc.due_since_ms !== null ? Number(svc.due_since_ms) : undefined,
        dueEpisodes: svc.due_raised,
        trend: partTrend(svc, part, myPoints, odometer, minPoints),
      };
    });
    return {
      vehicleId: v.vehicle_id,
      vin: v.vin ?? undefined,
      customerId: v.customer_id ?? undefined,
      firstSeenAt: Number(v.first_ms),
      lastSeenAt: Number(v.last_ms),
      signals: mySignals.map((s) => ({
        signal: s.signal,
        value: JSON.parse(s.value) as number | string | boolean,
        unit: s.unit ?? undefined,
        at: Number(s.time_ms),
        deviceId: s.device_id ?? undefined,
      })),
      devices: mine(devices).map((d) => ({
        deviceId: d.device_id,
        kind: d.kind ?? undefined,
        customerId: d.customer_id ?? undefined,
        partSku: d.part_sku ?? undefined,
        partSerial: d.part_serial ?? undefined,
        firmware: d.firmware ?? undefined,
        registeredAt: Number(d.registered_ms),
      })),
      parts: partStatuses,
      dueServices: partStatuses.filter((p) => p.due),
    };
  });
}
