/** Rows of `device_state` / `device_signals` ↔ DeviceState / SignalSummary, and the multi-row upserts. */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import type { DeviceState, SignalSummary } from './device-state.ts';

type DeviceRow = Selectable<Database['device_state']>;
type SignalRow = Selectable<Database['device_signals']>;

const num = (v: number | bigint | null): number | undefined => (v === null ? undefined : Number(v));

export function deviceFromRow(r: DeviceRow): DeviceState {
  return {
    deviceId: r.device_id,
    kind: r.kind ?? undefined,
    kindMs: num(r.kind_ms),
    registeredMs: num(r.registered_ms),
    firmware: r.firmware ?? undefined,
    firmwareMs: num(r.firmware_ms),
    store: r.store ?? undefined,
    storeMs: num(r.store_ms),
    batteryPct: num(r.battery_pct),
    batteryPctMs: num(r.battery_pct_ms),
    batteryVolts: num(r.battery_v),
    batteryVoltsMs: num(r.battery_v_ms),
    firstSeenMs: num(r.first_seen_ms),
    lastSeenMs: num(r.last_seen_ms),
    lastEventId: r.last_event_id ?? undefined,
    lastContactMs: num(r.last_contact_ms),
    lastReceivedMs: num(r.last_received_ms),
    messageCount: r.message_count,
    silent: Number(r.silent) === 1,
    silentSinceMs: num(r.silent_since_ms),
    silentAtMs: num(r.silent_at_ms),
    silentEventId: r.silent_event_id ?? undefined,
    backOwedBy: r.back_owed_by ?? undefined,
    updatedSeq: Number(r.updated_seq),
  };
}

export function deviceToRow(d: DeviceState): DeviceRow {
  return {
    device_id: d.deviceId,
    kind: d.kind ?? null,
    kind_ms: d.kindMs ?? null,
    registered_ms: d.registeredMs ?? null,
    firmware: d.firmware ?? null,
    firmware_ms: d.firmwareMs ?? null,
    store: d.store ?? null,
    store_ms: d.storeMs ?? null,
    battery_pct: d.batteryPct ?? null,
    battery_pct_ms: d.batteryPctMs ?? null,
    battery_v: d.batteryVolts ?? null,
    battery_v_ms: d.batteryVoltsMs ?? null,
    first_seen_ms: d.firstSeenMs ?? null,
    last_seen_ms: d.lastSeenMs ?? null,
    last_event_id: d.lastEventId ?? null,
    last_contact_ms: d.lastContactMs ?? null,
    last_received_ms: d.lastReceivedMs ?? null,
    message_count: d.messageCount,
    silent: d.silent ? 1 : 0,
    silent_since_ms: d.silentSinceMs ?? null,
    silent_at_ms: d.silentAtMs ?? null,
    silent_event_id: d.silentEventId ?? null,
    back_owed_by: d.backOwedBy ?? null,
    updated_seq: d.updatedSeq,
  };
}

export function signalFromRow(r: SignalRow): SignalSummary {
  return {
    deviceId: r.device_id,
    signal: r.signal,
    unit: r.unit ?? undefined,
    lastValue: num(r.last_value),
    lastText: r.last_text ?? undefined,
    lastMs: Number(r.last_ms),
    count: r.count,
    numCount: r.num_count,
    min: num(r.min),
    max: num(r.max),
    sum: Number(r.sum),
  };
}

export function signalToRow(s: SignalSummary): SignalRow {
  return {
    device_id: s.deviceId,
    signal: s.signal,
    unit: s.unit ?? null,
    last_value: s.lastValue ?? null,
    last_text: s.lastText ?? null,
    last_ms: s.lastMs,
    count: s.count,
    num_count: s.numCount,
    min: s.min ?? null,
    max: s.max ?? null,
    sum: s.sum,
  };
}

export function upsertDevices(db: Db, rows: DeviceRow[]): Promise<unknown> {
  return db
    .insertInto('device_state')
    .values(rows)
    .onConflict((oc) =>
      oc.column('device_id').doUpdateSet((eb) => ({
        kind: eb.ref('excluded.kind'),
        kind_ms: eb.ref('excluded.kind_ms'),
        registered_ms: eb.ref('excluded.registered_ms'),
        firmware: eb.ref('excluded.firmware'),
        firmware_ms: eb.ref('excluded.firmware_ms'),
        store: eb.ref('excluded.store'),
        store_ms: eb.ref('excluded.store_ms'),
        battery_pct: eb.ref('excluded.battery_pct'),
        battery_pct_ms: eb.ref('excluded.battery_pct_ms'),
        battery_v: eb.ref('excluded.battery_v'),
        battery_v_ms: eb.ref('excluded.battery_v_ms'),
        first_seen_ms: eb.ref('excluded.first_seen_ms'),
        last_seen_ms: eb.ref('excluded.last_seen_ms'),
        last_event_id: eb.ref('excluded.last_event_id'),
        last_contact_ms: eb.ref('excluded.last_contact_ms'),
        last_received_ms: eb.ref('excluded.last_received_ms'),
        message_count: eb.ref('excluded.message_count'),
        silent: eb.ref('excluded.silent'),
        silent_since_ms: eb.ref('excluded.silent_since_ms'),
        silent_at_ms: eb.ref('excluded.silent_at_ms'),
        silent_event_id: eb.ref('excluded.silent_event_id'),
        back_owed_by: eb.ref('excluded.back_owed_by'),
        updated_seq: eb.ref('excluded.updated_seq'),
      })),
    )
    .execute();
}

export function upsertSignals(db: Db, rows: SignalRow[]): Promise<unknown> {
  return db
    .insertInto('device_signals')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['device_id', 'signal']).doUpdateSet((eb) => ({
        unit: eb.ref('excluded.unit'),
        last_value: eb.ref('excluded.last_value'),
        last_text: eb.ref('excluded.last_text'),
        last_ms: eb.ref('excluded.last_ms'),
        count: eb.ref('excluded.count'),
        num_count: eb.ref('excluded.num_count'),
        min: eb.ref('excluded.min'),
        max: eb.ref('excluded.max'),
        sum: eb.ref('excluded.sum'),
      })),
    )
    .execute();
}
