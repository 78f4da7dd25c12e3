/**
 * The `part.service_due` detector. After the vehicles projection folded a batch, for every watched
 * signal a live (non-history) reading or registration touched, it compares the measure (the
 * reading, or its increase since installation) with the part type's rule:
 * - not due and past the threshold (`below`: < threshold; `above`: > threshold) →
 *   `part.service_due` for episode `due_raised + 1`, with the wear trend and projected date / km;
 * - due and a new part fitted (installed after the episode began, or after the latest reading) →
 *   `part.service_cleared` with reason `replaced`;
 * - due and the measure back at the clear level (`below`: ≥ clear; `above`: ≤ clear) →
 *   `part.service_cleared` with reason `recovered`.
 * Between threshold and clear level nothing happens (hysteresis: a noisy series oscillating
 * around the threshold fires once). Ids are `deterministicId(type, vehicle, signal, episode)`,
 * so re-evaluations before the projection folds the event dedupe in the log. No timers: wear
 * only moves with readings.
 */
import type { Selectable } from 'kysely';
import { deterministicId } from '../../core/index.ts';
import { type ConditionRule, type DecideContext, type Detector, derivedEvent, detectorSource, emit } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { Database } from '../../store/index.ts';
import { ODOMETER_SIGNAL, type ServiceDueSettings } from './settings.ts';
import { text } from './stock-inputs.ts';
import {
  PART_SERVICE_CLEARED,
  PART_SERVICE_DUE,
  registrationOf,
  signalOf,
  vehicleIdOfRegistration,
  vehicleIdOfSignal,
} from './vehicle-inputs.ts';
import { currentMeasure, partTrend } from './vehicle-read.ts';

type ServiceRow = Selectable<Database['vehicle_service']>;
type PartRow = Selectable<Database['vehicle_parts']>;
type SignalRow = Selectable<Database['vehicle_signals']>;

export const SERVICE_DUE_DETECTOR = 'part-service-due';

const serviceKey = (e: CloudEvent): string | undefined => {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const vehicle = text(d.vehicle_id);
  const signal = text(d.signal);
  return vehicle !== undefined && signal !== undefined ? `${vehicle}|${signal}` : undefined;
};

export const SERVICE_DUE_CONDITIONS: readonly ConditionRule[] = [
  {
    type: PART_SERVICE_DUE,
    action: 'raise',
    kind: PART_SERVICE_DUE,
    key: serviceKey,
    severity: (e) => ((e.data as Record<string, unknown>).past_limit === true ? 'critical' : 'warning'),
    summary: (e) => {
      const d = e.data as Record<string, unknown>;
      return `${text(d.part_type)} due on ${text(d.vehicle_id)}: ${text(d.reason)}`;
    },
  },
  { type: PART_SERVICE_CLEARED, action: 'clear', kind: PART_SERVICE_DUE, key: serviceKey },
];

const k2 = (a: string, b: string) => `${a}\u0000${b}`;

export function createServiceDueDetector(ctx: DecideContext, s: ServiceDueSettings): Detector {
  const db = ctx.store.db;

  return {
    name: SERVICE_DUE_DETECTOR,
    conditions: SERVICE_DUE_CONDITIONS,
    async onEvents(batch) {
      // What the live events touched: a vehicle × signal (readings) or a whole vehicle (registrations).
      const signalCauses = new Map<string, string>();
      const vehicleCauses = new Map<string, string>();
      const unresolved: { deviceId: string; signal: string; eventId: string }[] = [];
      for (const { event: e, history } of batch) {
        if (history) continue;
        const reg = registrationOf(e);
        if (reg) vehicleCauses.set(vehicleIdOfRegistration(reg), e.id);
        const sig = signalOf(e);
        if (sig && typeof sig.value === 'number') {
          if (sig.vin !== undefined) signalCauses.set(k2(sig.vin, sig.signal), e.id);
          else if (sig.deviceId !== undefined) unresolved.push({ deviceId: sig.deviceId, signal: sig.signal, eventId: e.id });
        }
      }
      if (unresolved.length > 0) {
        const devices = await db
          .selectFrom('vehicle_devices')
          .selectAll()
          .where('device_id', 'in', [...new Set(unresolved.map((u) => u.deviceId))])
          .execute();
        for (const u of unresolved) {
          const id = vehicleIdOfSignal(
            { signal: u.signal, value: 0, unit: undefined, vin: undefined, deviceId: u.deviceId },
            devices.find((d) => d.device_id === u.deviceId),
          );
          if (id !== undefined) signalCauses.set(k2(id, u.signal), u.eventId);
        }
      }
      const vehicleIds = [...new Set([...vehicleCauses.keys(), ...[...signalCauses.keys()].map((k) => k.split('\u0000')[0] as string)])];
      if (vehicleIds.length === 0) return;

      const services = await db.selectFrom('vehicle_service').selectAll().where('vehicle_id', 'in', vehicleIds).execute();
      const parts = await db.selectFrom('vehicle_parts').selectAll().where('vehicle_id', 'in', vehicleIds).execute();
      const signals = await db.selectFrom('vehicle_signals').selectAll().where('vehicle_id', 'in', vehicleIds).execute();
      const owners = new Map(
        (await db.selectFrom('vehicles').select(['vehicle_id', 'customer_id']).where('vehicle_id', 'in', vehicleIds).execute()).map((v) => [
          v.vehicle_id,
          v.customer_id,
        ]),
      );
      const out: CloudEvent[] = [];
      for (const row of services) {
        const cause = signalCauses.get(k2(row.vehicle_id, row.signal)) ?? vehicleCauses.get(row.vehicle_id);
        if (cause === undefined) continue;
        const event = await judge(
          row,
          parts.find((p) => p.vehicle_id === row.vehicle_id && p.part_type === row.part_type),
          signals.find((x) => x.vehicle_id === row.vehicle_id && x.signal === row.signal),
          cause,
          owners.get(row.vehicle_id) ?? undefined,
        );
        if (event) out.push(event);
      }
      await emit(ctx.log, ctx.clock, out);
    },
  };

  async function judge(
    row: ServiceRow,
    part: PartRow | undefined,
    sig: SignalRow | undefined,
    cause: string,
    customerId: string | undefined,
  ): Promise<CloudEvent | undefined> {
    const event = (type: string, episode: number, extra: Record<string, unknown>) =>
      derived(type, row, part, sig, episode, cause, { ...(customerId !== undefined ? { customer_id: customerId } : {}), ...extra });
    const type = s.parts.find((p) => p.name === row.part_type);
    if (!type) return undefined; // a part type no longer configured
    const now = currentMeasure(row, part, sig);
    const open = row.due_raised > row.due_cleared;
    const past = (v: number, level: number) => (type.direction === 'below' ? v < level : v > level);
    if (!open) {
      if (!now || !past(now.value, type.threshold)) return undefined;
      const points = await db
        .selectFrom('vehicle_points')
        .selectAll()
        .where('vehicle_id', '=', row.vehicle_id)
        .where('signal', 'in', [row.signal, ODOMETER_SIGNAL])
        .execute();
      const odometer = new Map(points.filter((p) => p.signal === ODOMETER_SIGNAL).map((p) => [Number(p.bucket_ms), p.value]));
      const trend = partTrend(row, part, points, odometer, s.minPoints);
      const word = type.direction === 'below' ? 'below' : 'above';
      return event(PART_SERVICE_DUE, row.due_raised + 1, {
        value: now.value,
        reading: now.reading,
        threshold: type.threshold,
        direction: type.direction,
        reason: `${row.signal} ${type.measure === 'since_install' ? 'since installation ' : ''}${now.value} ${word} ${type.threshold}`,
        ...(type.limit !== undefined ? { limit: type.limit, past_limit: past(now.value, type.limit) } : {}),
        ...(trend
          ? {
              slope_per_30_days: trend.slopePer30Days,
              ...(trend.slopePer1000Km !== null ? { slope_per_1000_km: trend.slopePer1000Km } : {}),
              ...(trend.projectedAt !== null ? { projected_at: new Date(trend.projectedAt).toISOString() } : {}),
              ...(trend.projectedKm !== null ? { projected_km: trend.projectedKm } : {}),
            }
          : {}),
      });
    }
    const installed = part ? Number(part.installed_ms) : undefined;
    const replaced =
      installed !== undefined &&
      (installed > Number(row.due_since_ms ?? Number.POSITIVE_INFINITY) || !sig || Number(sig.time_ms) < installed);
    if (replaced) return event(PART_SERVICE_CLEARED, row.due_raised, { reason: 'replaced' });
    if (now && recovered(type.direction, now.value, type.clear))
      return event(PART_SERVICE_CLEARED, row.due_raised, { reason: 'recovered', value: now.value });
    return undefined;
  }

  function derived(
    type: string,
    row: ServiceRow,
    part: PartRow | undefined,
    sig: SignalRow | undefined,
    episode: number,
    cause: string,
    extra: Record<string, unknown>,
  ): CloudEvent {
    const vin = /^[A-HJ-NPR-Z0-9]{17}$/.test(row.vehicle_id) ? row.vehicle_id : undefined;
    const deviceId = sig?.device_id ?? part?.device_id ?? undefined;
    return derivedEvent(ctx.clock, {
      type,
      id: deterministicId(`pitwall.${type}`, row.vehicle_id, row.signal, episode),
      source: detectorSource(SERVICE_DUE_DETECTOR),
      subject: row.vehicle_id,
      data: {
        part: part?.part_sku ?? row.part_type,
        part_type: row.part_type,
        vehicle_id: row.vehicle_id,
        ...(vin !== undefined ? { vin } : {}),
        ...(deviceId !== undefined && deviceId !== null ? { device_id: deviceId } : {}),
        ...(part?.part_serial ? { part_serial: part.part_serial } : {}),
        signal: row.signal,
        episode,
        ...extra,
      },
      causedBy: [cause],
    });
  }
}

function recovered(direction: string, value: number, clear: number): boolean {
  return direction === 'below' ? value >= clear : value <= clear;
}
