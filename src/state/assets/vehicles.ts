/**
 * The vehicles projection: connected vehicles and parts, from `device.registered` and
 * `vehicle.signal` (COVESA VSS), plus the detector's `part.service_due` / `part.service_cleared`.
 *
 * Rules:
 * - **Which vehicle**: a signal's `vin`; without one, the VIN its device is registered to (as
 *   known when the signal is folded); a device with no VIN is an asset of its own,
 *   `device:<device_id>` (signals folded before their device's registration stay there).
 * - **Devices**: the latest registration of a device by event time wins (ties: larger event id).
 *   The vehicle's **owner** is the customer of the latest registration naming one.
 * - **Signals**: latest value per vehicle × signal by event time (ties: larger event id); an
 *   older reading arriving late or a duplicate changes nothing.
 * - **History** (for trends): numeric values of watched signals (every part type's signals
 *   and the odometer), the latest per bucket (`bucket_hours`), kept for `trend_days`.
 * - **Parts**: a registration whose device kind or part SKU fits a part type fits that part. Its
 *   identity is the serial (else SKU, else device): the same part registered again keeps its
 *   first `installed_ms`; a different part registered later than the current one replaces it
 *   (`installed_ms` = that registration's time), an older one changes nothing.
 * - **Baseline** (`since_install` measures, e.g. km since a service): the first reading at or
 *   after installation (ties: the smaller value; the first reading ever without a registered part). When the part
 *   registration is folded after its readings, the earliest stored history point after
 *   installation stands in.
 * - **Due episodes**: `part.service_due` / `part.service_cleared` fold into `due_raised` /
 *   `due_cleared` (max of the episode numbers): due while raised > cleared.
 * - History-mode events build state like any other.
 */
import type { Db, Projection } from '../../detect/index.ts';
import type { LoggedEvent } from '../../log/index.ts';
import { type PartType, partTypeOfSignal, partTypesOfRegistration, type ServiceDueSettings } from './settings.ts';
import { newer, text } from './stock-inputs.ts';
import {
  isWatched,
  PART_SERVICE_CLEARED,
  PART_SERVICE_DUE,
  partIdentity,
  registrationOf,
  serviceKeyOf,
  signalOf,
  VIN_PATTERN,
  vehicleIdOfRegistration,
  vehicleIdOfSignal,
} from './vehicle-inputs.ts';
import {
  chunks,
  type DeviceRow,
  type PartRow,
  type PointRow,
  type ServiceRow,
  type SignalRow,
  type VehicleRow,
  writeVehicleRows,
} from './vehicle-rows.ts';

export const VEHICLE_TABLES = [
  'vehicles',
  'vehicle_devices',
  'vehicle_signals',
  'vehicle_points',
  'vehicle_parts',
  'vehicle_service',
] as const;

const k2 = (a: string, b: string) => `${a}\u0000${b}`;
const k3 = (a: string, b: string, c: number) => `${a}\u0000${b}\u0000${c}`;

export function createVehiclesProjection(s: ServiceDueSettings): Projection {
  return {
    name: 'vehicles',
    tables: VEHICLE_TABLES,
    handles: (e) =>
      e.type === 'device.registered' || e.type === 'vehicle.signal' || e.type === PART_SERVICE_DUE || e.type === PART_SERVICE_CLEARED,
    apply: (db, events) => foldVehicles(db, events, s),
  };
}

async function foldVehicles(db: Db, events: readonly LoggedEvent[], s: ServiceDueSettings): Promise<void> {
  // Devices first: a signal's vehicle depends on its device's registration.
  const deviceIds = new Set<string>();
  for (const { event: e } of events) {
    const r = registrationOf(e);
    if (r) deviceIds.add(r.deviceId);
    const sig = signalOf(e);
    if (sig?.deviceId !== undefined && sig.vin === undefined) deviceIds.add(sig.deviceId);
  }
  const devices = new Map<string, DeviceRow>();
  for (const part of chunks([...deviceIds]))
    for (const r of await db.selectFrom('vehicle_devices').selectAll().where('device_id', 'in', part).execute())
      devices.set(r.device_id, r);

  // Vehicles the batch may touch (resolved with the devices as loaded; registrations in the batch add theirs).
  const vehicleIds = new Set<string>();
  for (const { event: e } of events) {
    const r = registrationOf(e);
    if (r) {
      vehicleIds.add(vehicleIdOfRegistration(r));
      const before = devices.get(r.deviceId)?.vehicle_id;
      if (before) vehicleIds.add(before);
    }
    const sig = signalOf(e);
    if (sig) {
      const id = vehicleIdOfSignal(sig, devices.get(sig.deviceId ?? ''));
      if (id !== undefined) vehicleIds.add(id);
      if (sig.vin === undefined && sig.deviceId !== undefined) {
        for (const { event: other } of events) {
          const reg = registrationOf(other);
          if (reg?.deviceId === sig.deviceId) vehicleIds.add(vehicleIdOfRegistration(reg));
        }
      }
    }
    const svc = serviceKeyOf(e);
    if (svc) vehicleIds.add(svc.vehicleId);
  }
  const vehicles = new Map<string, VehicleRow>();
  const signals = new Map<string, SignalRow>();
  const parts = new Map<string, PartRow>();
  const services = new Map<string, ServiceRow>();
  for (const part of chunks([...vehicleIds])) {
    for (const r of await db.selectFrom('vehicles').selectAll().where('vehicle_id', 'in', part).execute()) vehicles.set(r.vehicle_id, r);
    for (const r of await db.selectFrom('vehicle_signals').selectAll().where('vehicle_id', 'in', part).execute())
      signals.set(k2(r.vehicle_id, r.signal), r);
    for (const r of await db.selectFrom('vehicle_parts').selectAll().where('vehicle_id', 'in', part).execute())
      parts.set(k2(r.vehicle_id, r.part_type), r);
    for (const r of await db.selectFrom('vehicle_service').selectAll().where('vehicle_id', 'in', part).execute())
      services.set(k2(r.vehicle_id, r.signal), r);
  }
  const points = new Map<string, PointRow>();
  const bucketOf = (ms: number) => Math.floor(ms / s.pointBucketMs) * s.pointBucketMs;
  const bucketSet = new Set<number>();
  for (const { event: e } of events) if (e.type === 'vehicle.signal') bucketSet.add(bucketOf(Date.parse(e.time)));
  if (bucketSet.size > 0)
    for (const part of chunks([...vehicleIds]))
      for (const bpart of chunks([...bucketSet]))
        for (const r of await db
          .selectFrom('vehicle_points')
          .selectAll()
          .where('vehicle_id', 'in', part)
          .where('bucket_ms', 'in', bpart)
          .execute())
          points.set(k3(r.vehicle_id, r.signal, Number(r.bucket_ms)), r);

  const dirty = { vehicles: new Set<string>(), devices: new Set<string>(), signals: new Set<string>(), points: new Set<string>() };
  const dirtyParts = new Set<string>();
  const dirtyServices = new Set<string>();
  /** (vehicle, part type) whose part changed: baselines are recomputed from history after the writes. */
  const rebaseline = new Set<string>();

  const vehicle = (id: string, at: number, seq: number): VehicleRow => {
    const cur = vehicles.get(id);
    const row: VehicleRow = cur
      ? {
          ...cur,
          first_ms: Math.min(Number(cur.first_ms), at),
          last_ms: Math.max(Number(cur.last_ms), at),
          updated_seq: Math.max(seq, Number(cur.updated_seq)),
        }
      : {
          vehicle_id: id,
          vin: VIN_PATTERN.test(id) ? id : null,
          customer_id: null,
          customer_ms: null,
          first_ms: at,
          last_ms: at,
          updated_seq: seq,
        };
    vehicles.set(id, row);
    dirty.vehicles.add(id);
    return row;
  };
  const service = (vehicleId: string, signal: string, type: PartType, seq: number): ServiceRow => {
    const key = k2(vehicleId, signal);
    const cur = services.get(key);
    const row: ServiceRow = {
      vehicle_id: vehicleId,
      signal,
      part_type: type.name,
      measure: type.measure,
      direction: type.direction,
      threshold: type.threshold,
      clear_level: type.clear,
      limit_level: type.limit ?? null,
      baseline_ms: cur?.baseline_ms ?? null,
      baseline_value: cur?.baseline_value ?? null,
      due_raised: cur?.due_raised ?? 0,
      due_cleared: cur?.due_cleared ?? 0,
      due_since_ms: cur?.due_since_ms ?? null,
      updated_seq: Math.max(seq, cur ? Number(cur.updated_seq) : 0),
    };
    services.set(key, row);
    dirtyServices.add(key);
    return row;
  };

  for (const le of events) {
    const e = le.event;
    const at = Date.parse(e.time);
    const version = { timeMs: at, eventId: e.id };

    const reg = registrationOf(e);
    if (reg) {
      const vehicleId = vehicleIdOfRegistration(reg);
      const cur = devices.get(reg.deviceId);
      if (newer(version, cur && { timeMs: Number(cur.registered_ms), eventId: cur.event_id })) {
        devices.set(reg.deviceId, {
          device_id: reg.deviceId,
          vehicle_id: vehicleId,
          kind: reg.kind ?? null,
          customer_id: reg.customerId ?? null,
          part_sku: reg.partSku ?? null,
          part_serial: reg.partSerial ?? null,
          firmware: reg.firmware ?? null,
          registered_ms: at,
          event_id: e.id,
        });
        dirty.devices.add(reg.deviceId);
      }
      const v = vehicle(vehicleId, at, le.seq);
      if (reg.customerId !== undefined && (v.customer_ms === null || at >= Number(v.customer_ms))) {
        v.customer_id = reg.customerId;
        v.customer_ms = at;
      }
      for (const type of partTypesOfRegistration(s.parts, reg.kind, reg.partSku)) {
        const key = k2(vehicleId, type.name);
        const curPart = parts.get(key);
        const candidate: PartRow = {
          vehicle_id: vehicleId,
          part_type: type.name,
          part_sku: reg.partSku ?? null,
          part_serial: reg.partSerial ?? null,
          device_id: reg.deviceId,
          installed_ms: at,
          registered_ms: at,
          event_id: e.id,
        };
        if (curPart && partIdentity(curPart) === partIdentity(candidate)) {
          const installed = Math.min(Number(curPart.installed_ms), at);
          if (installed !== Number(curPart.installed_ms)) rebaseline.add(key);
          parts.set(key, { ...curPart, installed_ms: installed, registered_ms: Math.max(Number(curPart.registered_ms), at) });
        } else if (!curPart || at > Number(curPart.registered_ms)) {
          parts.set(key, candidate);
          rebaseline.add(key);
        } else continue;
        dirtyParts.add(key);
      }
      continue;
    }

    const sig = signalOf(e);
    if (sig) {
      const vehicleId = vehicleIdOfSignal(sig, devices.get(sig.deviceId ?? ''));
      if (vehicleId === undefined) continue;
      vehicle(vehicleId, at, le.seq);
      const key = k2(vehicleId, sig.signal);
      const cur = signals.get(key);
      if (newer(version, cur && { timeMs: Number(cur.time_ms), eventId: cur.event_id })) {
        signals.set(key, {
          vehicle_id: vehicleId,
          signal: sig.signal,
          value: JSON.stringify(sig.value),
          unit: sig.unit ?? null,
          time_ms: at,
          event_id: e.id,
          device_id: sig.deviceId ?? null,
        });
        dirty.signals.add(key);
      }
      if (typeof sig.value !== 'number' || !isWatched(s, sig.signal)) continue;
      const bucket = bucketOf(at);
      const pk = k3(vehicleId, sig.signal, bucket);
      const curPoint = points.get(pk);
      if (newer(version, curPoint && { timeMs: Number(curPoint.time_ms), eventId: curPoint.event_id })) {
        points.set(pk, { vehicle_id: vehicleId, signal: sig.signal, bucket_ms: bucket, value: sig.value, time_ms: at, event_id: e.id });
        dirty.points.add(pk);
      }
      const type = partTypeOfSignal(s.parts, sig.signal);
      if (!type) continue;
      const row = service(vehicleId, sig.signal, type, le.seq);
      if (type.measure === 'since_install') {
        const installed = parts.get(k2(vehicleId, type.name))?.installed_ms;
        const after = installed === undefined || at >= Number(installed);
        const earlier =
          row.baseline_ms === null ||
          at < Number(row.baseline_ms) ||
          (at === Number(row.baseline_ms) && sig.value < (row.baseline_value ?? Number.POSITIVE_INFINITY));
        if (after && earlier) {
          row.baseline_ms = at;
          row.baseline_value = sig.value;
        }
      }
      continue;
    }

    const svc = serviceKeyOf(e);
    if (svc) {
      const cur = services.get(k2(svc.vehicleId, svc.signal));
      const type =
        s.parts.find((p) => p.name === text((e.data as Record<string, unknown>).part_type)) ?? partTypeOfSignal(s.parts, svc.signal);
      if (!cur && !type) continue;
      const row = type ? service(svc.vehicleId, svc.signal, type, le.seq) : (cur as ServiceRow);
      if (e.type === PART_SERVICE_DUE) {
        if (svc.episode > row.due_raised) {
          row.due_raised = svc.episode;
          row.due_since_ms = at;
        }
      } else row.due_cleared = Math.max(row.due_cleared, svc.episode);
      row.updated_seq = Math.max(Number(row.updated_seq), le.seq);
      services.set(k2(svc.vehicleId, svc.signal), row);
      dirtyServices.add(k2(svc.vehicleId, svc.signal));
    }
  }

  await writeVehicleRows(db, {
    vehicles: [...dirty.vehicles].map((k) => vehicles.get(k) as VehicleRow),
    devices: [...dirty.devices].map((k) => devices.get(k) as DeviceRow),
    signals: [...dirty.signals].map((k) => signals.get(k) as SignalRow),
    points: [...dirty.points].map((k) => points.get(k) as PointRow),
    parts: [...dirtyParts].map((k) => parts.get(k) as PartRow),
  });

  // A part fitted (or found fitted earlier): since-install baselines restart at the first stored point after it.
  for (const key of rebaseline) {
    const p = parts.get(key) as PartRow;
    const type = s.parts.find((t) => t.name === p.part_type);
    if (type?.measure !== 'since_install') continue;
    // Every service row of the vehicle was loaded above (the registration names the vehicle).
    for (const r of [...services.values()].filter((x) => x.vehicle_id === p.vehicle_id && x.part_type === type.name)) {
      const first = await db
        .selectFrom('vehicle_points')
        .selectAll()
        .where('vehicle_id', '=', r.vehicle_id)
        .where('signal', '=', r.signal)
        .where('time_ms', '>=', Number(p.installed_ms))
        .orderBy('time_ms')
        .limit(1)
        .executeTakeFirst();
      const keep =
        r.baseline_ms !== null &&
        Number(r.baseline_ms) >= Number(p.installed_ms) &&
        (!first || Number(r.baseline_ms) <= Number(first.time_ms));
      if (!keep) {
        r.baseline_ms = first ? Number(first.time_ms) : null;
        r.baseline_value = first ? first.value : null;
      }
      dirtyServices.add(k2(r.vehicle_id, r.signal));
    }
  }
  const serviceRows = [...dirtyServices].map((k) => services.get(k) as ServiceRow);
  for (const part of chunks(serviceRows))
    await db
      .insertInto('vehicle_service')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['vehicle_id', 'signal']).doUpdateSet((eb) => ({
          part_type: eb.ref('excluded.part_type'),
          measure: eb.ref('excluded.measure'),
          direction: eb.ref('excluded.direction'),
          threshold: eb.ref('excluded.threshold'),
          clear_level: eb.ref('excluded.clear_level'),
          limit_level: eb.ref('excluded.limit_level'),
          baseline_ms: eb.ref('excluded.baseline_ms'),
          baseline_value: eb.ref('excluded.baseline_value'),
          due_raised: eb.ref('excluded.due_raised'),
          due_cleared: eb.ref('excluded.due_cleared'),
          due_since_ms: eb.ref('excluded.due_since_ms'),
          updated_seq: eb.ref('excluded.updated_seq'),
        })),
      )
      .execute();

  // History older than the trend window (from each series' newest reading) is no longer needed.
  const series = [...dirty.signals].map((k) => signals.get(k) as SignalRow).filter((r) => isWatched(s, r.signal));
  for (const part of chunks(series))
    await db
      .deleteFrom('vehicle_points')
      .where((eb) =>
        eb.or(
          part.map((r) =>
            eb.and([
              eb('vehicle_id', '=', r.vehicle_id),
              eb('signal', '=', r.signal),
              eb('bucket_ms', '<', Number(r.time_ms) - s.trendMs - s.pointBucketMs),
            ]),
          ),
        ),
      )
      .execute();
}
