/**
 * The device-state projection: one row per device in `device_state`, one per device × signal
 * in `device_signals`, folded from every event that names a device.
 *
 * Rules:
 * - **Which device**: a **message** is any event whose `deviceid` extension names the device
 *   (MQTT doors, `POST /v1/senml?device=`, CloudEvents senders), except Pitwall's own derived
 *   events. `device.registered` names one in `data.device_id`; it is not a message (it says
 *   nothing about the device being alive), but it gives kind, firmware and registration time.
 *   `device.silent` / `device.back` from the silence detector move the silent flag.
 * - **Event time, not arrival**: `first_seen` / `last_seen` are the min / max event time of
 *   messages; `last_event_id` is the message that set `last_seen`. `last_contact` is the max of
 *   min(event time, received time) — the silence timer counts from it, so a device clock running
 *   ahead cannot postpone silence. `last_received` is the max arrival time. Kind, firmware, store,
 *   battery level and voltage, and each signal's latest value are **latest by event time**: an
 *   older event never replaces a newer value (on equal times the later in the log wins).
 * - **Counts and aggregates** (`message_count`, per-signal `count`, min, max, sum/mean) are
 *   running totals over every message folded: order-independent.
 * - **Duplicates**: the log dedupes resends; `updated_seq` (the highest position applied to the
 *   device, signals included: they are written in the same transaction) skips replays.
 * - **Silence**: only derived events move it. `device.silent` marks the device silent since
 *   `last_contact_at` (the contact the detector counted from). A later non-history message with a
 *   newer contact owes a `device.back` (`back_owed_by`); so does a `device.silent` folded after a
 *   newer message had already been folded (the detector raced it). The detector emits what is
 *   owed; folding `device.back` clears the flag. The same log gives the same flags on rebuild.
 * - History-mode events build state like any other (they never owe a `device.back`).
 */
import { type Db, dataOf, detectorSource, eventTimeMs, type Projection } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { LoggedEvent } from '../../log/index.ts';
import { deviceFromRow, deviceToRow, signalFromRow, signalToRow, upsertDevices, upsertSignals } from './device-rows.ts';
import { batteryOf, firmwareOf, messageDevice, readingOf, registeredDevice } from './readings.ts';

export const SILENCE_DETECTOR = 'device-silence';
export const SILENCE_SOURCE = detectorSource(SILENCE_DETECTOR);

export interface DeviceState {
  deviceId: string;
  kind: string | undefined;
  kindMs: number | undefined;
  registeredMs: number | undefined;
  firmware: string | undefined;
  firmwareMs: number | undefined;
  store: string | undefined;
  storeMs: number | undefined;
  /** Battery level in percent, and the event time it was read. */
  batteryPct: number | undefined;
  batteryPctMs: number | undefined;
  batteryVolts: number | undefined;
  batteryVoltsMs: number | undefined;
  firstSeenMs: number | undefined;
  lastSeenMs: number | undefined;
  lastEventId: string | undefined;
  lastContactMs: number | undefined;
  lastReceivedMs: number | undefined;
  messageCount: number;
  silent: boolean;
  /** The last contact the silence counted from. */
  silentSinceMs: number | undefined;
  /** When it was declared silent (the `device.silent` event time). */
  silentAtMs: number | undefined;
  silentEventId: string | undefined;
  backOwedBy: string | undefined;
  updatedSeq: number;
}

export interface SignalSummary {
  deviceId: string;
  signal: string;
  unit: string | undefined;
  lastValue: number | undefined;
  lastText: string | undefined;
  lastMs: number;
  count: number;
  /** Readings with a numeric value (min, max and mean are over these). */
  numCount: number;
  min: number | undefined;
  max: number | undefined;
  sum: number;
}

/** Rows per `IN (...)` query and per multi-row upsert. */
const CHUNK = 400;

const isSilenceEvent = (e: CloudEvent) => (e.type === 'device.silent' || e.type === 'device.back') && e.source === SILENCE_SOURCE;

function silenceDevice(e: CloudEvent): string | undefined {
  if (!isSilenceEvent(e)) return undefined;
  const id = dataOf(e).device_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The devices an event is about (a registration sent by the device itself names it twice). */
export function devicesOf(e: CloudEvent): string[] {
  const ids = [messageDevice(e), registeredDevice(e), silenceDevice(e)].filter((x): x is string => x !== undefined);
  return [...new Set(ids)];
}

export const deviceStateProjection: Projection = {
  name: 'device-state',
  tables: ['device_state', 'device_signals'],
  handles: (e) => messageDevice(e) !== undefined || registeredDevice(e) !== undefined || silenceDevice(e) !== undefined,
  apply: (db, events) => foldDevices(db, events),
};

export function newDevice(deviceId: string): DeviceState {
  return {
    deviceId,
    kind: undefined,
    kindMs: undefined,
    registeredMs: undefined,
    firmware: undefined,
    firmwareMs: undefined,
    store: undefined,
    storeMs: undefined,
    batteryPct: undefined,
    batteryPctMs: undefined,
    batteryVolts: undefined,
    batteryVoltsMs: undefined,
    firstSeenMs: undefined,
    lastSeenMs: undefined,
    lastEventId: undefined,
    lastContactMs: undefined,
    lastReceivedMs: undefined,
    messageCount: 0,
    silent: false,
    silentSinceMs: undefined,
    silentAtMs: undefined,
    silentEventId: undefined,
    backOwedBy: undefined,
    updatedSeq: 0,
  };
}

async function foldDevices(db: Db, events: readonly LoggedEvent[]): Promise<void> {
  const ids = new Set<string>();
  const withReadings = new Set<string>();
  for (const { event } of events) {
    for (const id of devicesOf(event)) ids.add(id);
    const m = messageDevice(event);
    if (m !== undefined && readingOf(event)) withReadings.add(m);
  }
  const devices = new Map<string, DeviceState>();
  const signals = new Map<string, SignalSummary>();
  for (const chunk of chunks([...ids])) {
    for (const r of await db.selectFrom('device_state').selectAll().where('device_id', 'in', chunk).execute())
      devices.set(r.device_id, deviceFromRow(r));
  }
  for (const chunk of chunks([...withReadings])) {
    for (const r of await db.selectFrom('device_signals').selectAll().where('device_id', 'in', chunk).execute()) {
      const s = signalFromRow(r);
      signals.set(signalKey(s.deviceId, s.signal), s);
    }
  }

  const changedDevices = new Set<string>();
  const changedSignals = new Set<string>();
  for (const le of events) {
    for (const id of devicesOf(le.event)) {
      const d = devices.get(id) ?? newDevice(id);
      if (le.seq <= d.updatedSeq) continue;
      const touched = foldDeviceEvent(d, le, (signal) => {
        const key = signalKey(id, signal);
        changedSignals.add(key);
        return { get: () => signals.get(key), set: (s: SignalSummary) => signals.set(key, s) };
      });
      if (!touched) continue;
      d.updatedSeq = le.seq;
      devices.set(id, d);
      changedDevices.add(id);
    }
  }

  const deviceRows = [...changedDevices].map((id) => deviceToRow(devices.get(id) as DeviceState));
  for (const chunk of chunks(deviceRows)) await upsertDevices(db, chunk);
  const signalRows = [...changedSignals].map((k) => signals.get(k)).filter((s): s is SignalSummary => s !== undefined);
  for (const chunk of chunks(signalRows.map(signalToRow))) await upsertSignals(db, chunk);
}

interface SignalSlot {
  get(): SignalSummary | undefined;
  set(s: SignalSummary): void;
}

/** One event applied to device `d` (mutated); false when the event says nothing about it. */
export function foldDeviceEvent(d: DeviceState, le: LoggedEvent, slot: (signal: string) => SignalSlot): boolean {
  const e = le.event;
  const at = eventTimeMs(e);
  let touched = false;
  const later = (ms: number | undefined) => ms === undefined || at >= ms;

  if (registeredDevice(e) === d.deviceId) {
    touched = true;
    const data = dataOf(e);
    d.registeredMs = Math.max(d.registeredMs ?? at, at);
    if (typeof data.kind === 'string' && data.kind !== '' && later(d.kindMs)) {
      d.kind = data.kind;
      d.kindMs = at;
    }
    if (typeof data.firmware === 'string' && data.firmware !== '' && later(d.firmwareMs)) {
      d.firmware = data.firmware;
      d.firmwareMs = at;
    }
  }

  if (messageDevice(e) === d.deviceId) {
    touched = true;
    const contact = Math.min(at, le.receivedAt);
    d.firstSeenMs = Math.min(d.firstSeenMs ?? at, at);
    if (later(d.lastSeenMs)) {
      d.lastSeenMs = at;
      d.lastEventId = e.id;
    }
    if (!le.history && d.silent && d.silentSinceMs !== undefined && contact > d.silentSinceMs) d.backOwedBy ??= e.id;
    d.lastContactMs = Math.max(d.lastContactMs ?? contact, contact);
    d.lastReceivedMs = Math.max(d.lastReceivedMs ?? le.receivedAt, le.receivedAt);
    d.messageCount += 1;
    const r = readingOf(e);
    if (r) {
      const s = slot(r.signal);
      s.set(foldSignal(s.get(), d.deviceId, r, at));
      const battery = batteryOf(r);
      if (battery && 'pct' in battery && later(d.batteryPctMs)) {
        d.batteryPct = battery.pct;
        d.batteryPctMs = at;
      } else if (battery && 'volts' in battery && later(d.batteryVoltsMs)) {
        d.batteryVolts = battery.volts;
        d.batteryVoltsMs = at;
      }
      const fw = firmwareOf(r);
      if (fw !== undefined && later(d.firmwareMs)) {
        d.firmware = fw;
        d.firmwareMs = at;
      }
    }
  }

  if ((messageDevice(e) === d.deviceId || registeredDevice(e) === d.deviceId) && typeof e.store === 'string' && e.store !== '') {
    if (later(d.storeMs)) {
      d.store = e.store;
      d.storeMs = at;
    }
  }

  if (silenceDevice(e) === d.deviceId) {
    touched = true;
    const data = dataOf(e);
    if (e.type === 'device.silent') {
      const since = typeof data.last_contact_at === 'string' ? Date.parse(data.last_contact_at) : Number.NaN;
      if (Number.isFinite(since)) {
        d.silent = true;
        d.silentSinceMs = since;
        d.silentAtMs = at;
        d.silentEventId = e.id;
        // A newer message was folded before this event: the device is already back.
        d.backOwedBy = d.lastContactMs !== undefined && d.lastContactMs > since ? (d.lastEventId ?? e.id) : undefined;
      }
    } else if (d.silent && data.silent_event_id === d.silentEventId) {
      d.silent = false;
      d.silentSinceMs = undefined;
      d.silentAtMs = undefined;
      d.silentEventId = undefined;
      d.backOwedBy = undefined;
    }
  }
  return touched;
}

function foldSignal(
  before: SignalSummary | undefined,
  deviceId: string,
  r: { signal: string; unit: string | undefined; value: number | undefined; text: string | undefined },
  at: number,
): SignalSummary {
  const s: SignalSummary = before
    ? { ...before }
    : {
        deviceId,
        signal: r.signal,
        unit: r.unit,
        lastValue: r.value,
        lastText: r.text,
        lastMs: at,
        count: 0,
        numCount: 0,
        min: undefined,
        max: undefined,
        sum: 0,
      };
  s.count += 1;
  if (r.value !== undefined) {
    s.numCount += 1;
    s.min = Math.min(s.min ?? r.value, r.value);
    s.max = Math.max(s.max ?? r.value, r.value);
    s.sum += r.value;
  }
  if (at >= s.lastMs) {
    s.lastMs = at;
    s.lastValue = r.value;
    s.lastText = r.text;
    s.unit = r.unit ?? s.unit;
  }
  return s;
}

function signalKey(deviceId: string, signal: string): string {
  return `${deviceId}\u0000${signal}`;
}

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}
