/** Writing the vehicles projection's rows: multi-row upserts, one statement per table and chunk. */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';

export type VehicleRow = Selectable<Database['vehicles']>;
export type DeviceRow = Selectable<Database['vehicle_devices']>;
export type SignalRow = Selectable<Database['vehicle_signals']>;
export type PointRow = Selectable<Database['vehicle_points']>;
export type PartRow = Selectable<Database['vehicle_parts']>;
export type ServiceRow = Selectable<Database['vehicle_service']>;

const CHUNK = 300;

export function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

export async function writeVehicleRows(
  db: Db,
  rows: { vehicles: VehicleRow[]; devices: DeviceRow[]; signals: SignalRow[]; points: PointRow[]; parts: PartRow[] },
): Promise<void> {
  for (const part of chunks(rows.vehicles))
    await db
      .insertInto('vehicles')
      .values(part)
      .onConflict((oc) =>
        oc.column('vehicle_id').doUpdateSet((eb) => ({
          vin: eb.ref('excluded.vin'),
          customer_id: eb.ref('excluded.customer_id'),
          customer_ms: eb.ref('excluded.customer_ms'),
          first_ms: eb.ref('excluded.first_ms'),
          last_ms: eb.ref('excluded.last_ms'),
          updated_seq: eb.ref('excluded.updated_seq'),
        })),
      )
      .execute();
  for (const part of chunks(rows.devices))
    await db
      .insertInto('vehicle_devices')
      .values(part)
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet((eb) => ({
          vehicle_id: eb.ref('excluded.vehicle_id'),
          kind: eb.ref('excluded.kind'),
          customer_id: eb.ref('excluded.customer_id'),
          part_sku: eb.ref('excluded.part_sku'),
          part_serial: eb.ref('excluded.part_serial'),
          firmware: eb.ref('excluded.firmware'),
          registered_ms: eb.ref('excluded.registered_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();
  for (const part of chunks(rows.signals))
    await db
      .insertInto('vehicle_signals')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['vehicle_id', 'signal']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          unit: eb.ref('excluded.unit'),
          time_ms: eb.ref('excluded.time_ms'),
          event_id: eb.ref('excluded.event_id'),
          device_id: eb.ref('excluded.device_id'),
        })),
      )
      .execute();
  for (const part of chunks(rows.points))
    await db
      .insertInto('vehicle_points')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['vehicle_id', 'signal', 'bucket_ms']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          time_ms: eb.ref('excluded.time_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();
  for (const part of chunks(rows.parts))
    await db
      .insertInto('vehicle_parts')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['vehicle_id', 'part_type']).doUpdateSet((eb) => ({
          part_sku: eb.ref('excluded.part_sku'),
          part_serial: eb.ref('excluded.part_serial'),
          device_id: eb.ref('excluded.device_id'),
          installed_ms: eb.ref('excluded.installed_ms'),
          registered_ms: eb.ref('excluded.registered_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();
}
