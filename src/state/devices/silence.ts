/**
 * The `device.silent` / `device.back` detector, on the device-state projection and durable timers.
 *
 * - `onEvents(batch)`: for each device a non-history message touched, once the batch is folded:
 *   - a silent device that owes a `device.back` (a newer message came) → appends `device.back`
 *     (id from the `device.silent` it ends: one back per silence);
 *   - if this batch moved `last_contact` → schedules `device.silent:<id>` at last contact + the
 *     device's threshold (scheduling replaces: reset on activity). A late older message does not
 *     move `last_contact`, so it leaves the timer alone; a threshold of 0 cancels it.
 *   Folded `device.silent` events are looked at too: one folded after a newer message owes a
 *   back at once. History-mode messages start no timers and emit nothing.
 * - `fire(timer)`: re-reads the device; still silent by the clock (now ≥ last contact +
 *   threshold) → appends `device.silent` with id `deterministicId(device, last contact)`, so a
 *   retried or duplicate firing dedupes in the log. Activity since → nothing (its own timer
 *   follows); a threshold changed since → the timer moves to the new due time.
 */
import { deterministicId, isoTime } from '../../core/index.ts';
import {
  type ConditionRule,
  type DecideContext,
  type Detector,
  dataOf,
  derivedEvent,
  emit,
  eventTimeMs,
  type NewTimer,
} from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type DeviceState, SILENCE_DETECTOR, SILENCE_SOURCE } from './device-state.ts';
import { getDevice, getDevices } from './read.ts';
import { messageDevice } from './readings.ts';
import { type DevicesSettings, silentMsFor } from './settings.ts';

export const SILENCE_TIMER_PREFIX = 'device.silent:';

export function silenceTimerKey(deviceId: string): string {
  return `${SILENCE_TIMER_PREFIX}${deviceId}`;
}

const deviceKey = (e: CloudEvent): string | undefined => {
  const id = dataOf(e).device_id;
  return e.source === SILENCE_SOURCE && typeof id === 'string' ? id : undefined;
};

export const SILENCE_CONDITIONS: readonly ConditionRule[] = [
  {
    type: 'device.silent',
    action: 'raise',
    kind: 'device.silent',
    key: deviceKey,
    severity: 'warning',
    summary: (e) => `device ${String(dataOf(e).device_id)} silent for ${String(dataOf(e).silent_minutes)} min`,
  },
  { type: 'device.back', action: 'clear', kind: 'device.silent', key: deviceKey },
];

export function createSilenceDetector(ctx: DecideContext, settings: DevicesSettings): Detector {
  const { log, store, timers, clock } = ctx;

  const back = (d: DeviceState): CloudEvent =>
    derivedEvent(clock, {
      type: 'device.back',
      id: deterministicId('pitwall.device.back', d.deviceId, d.silentEventId),
      source: SILENCE_SOURCE,
      subject: d.deviceId,
      data: {
        device_id: d.deviceId,
        silent_event_id: d.silentEventId,
        ...(d.silentSinceMs !== undefined ? { silent_since: isoTime(d.silentSinceMs) } : {}),
      },
      causedBy: d.backOwedBy !== undefined ? [d.backOwedBy] : [],
    });

  const silent = (d: DeviceState, lastContactMs: number, dueMs: number): CloudEvent =>
    derivedEvent(clock, {
      type: 'device.silent',
      id: deterministicId('pitwall.device.silent', d.deviceId, lastContactMs),
      source: SILENCE_SOURCE,
      subject: d.deviceId,
      timeMs: dueMs,
      data: {
        device_id: d.deviceId,
        silent_minutes: Math.round((dueMs - lastContactMs) / 60_000),
        last_contact_at: isoTime(lastContactMs),
        ...(d.lastSeenMs !== undefined ? { last_seen_at: isoTime(d.lastSeenMs) } : {}),
        ...(d.kind !== undefined ? { kind: d.kind } : {}),
        ...(d.store !== undefined ? { store: d.store } : {}),
      },
      causedBy: d.lastEventId !== undefined ? [d.lastEventId] : [],
    });

  return {
    name: SILENCE_DETECTOR,
    timerPrefix: SILENCE_TIMER_PREFIX,
    conditions: SILENCE_CONDITIONS,

    async onEvents(batch) {
      const contacts = new Map<string, Set<number>>();
      for (const le of batch) {
        if (le.history) continue;
        const id = messageDevice(le.event);
        if (id !== undefined) {
          const set = contacts.get(id) ?? new Set<number>();
          set.add(Math.min(eventTimeMs(le.event), le.receivedAt));
          contacts.set(id, set);
        } else if (le.event.type === 'device.silent') {
          const silentId = deviceKey(le.event);
          if (silentId !== undefined && !contacts.has(silentId)) contacts.set(silentId, new Set());
        }
      }
      if (contacts.size === 0) return;
      const devices = await getDevices(store.db, [...contacts.keys()]);
      const out: CloudEvent[] = [];
      const due: NewTimer[] = [];
      for (const [id, seen] of contacts) {
        const d = devices.get(id);
        if (!d) continue;
        if (d.silent && d.backOwedBy !== undefined) out.push(back(d));
        if (d.lastContactMs === undefined || !seen.has(d.lastContactMs)) continue;
        const ms = silentMsFor(settings, d);
        if (ms === 0) await timers.cancel(silenceTimerKey(id));
        else due.push({ key: silenceTimerKey(id), dueAt: d.lastContactMs + ms, payload: { device_id: id } });
      }
      // Covered by the consumer's fsynced ack that follows; a crash before it replays the batch (ADR 0011).
      if (due.length > 0) await timers.scheduleMany(due, { deferSync: true });
      await emit(log, clock, out);
    },

    async fire(timer) {
      const id = timer.key.slice(SILENCE_TIMER_PREFIX.length);
      const d = await getDevice(store.db, id);
      if (!d || d.lastContactMs === undefined) return;
      const out: CloudEvent[] = [];
      if (d.silent) {
        if (d.backOwedBy === undefined) return; // already silent: the next message ends it
        out.push(back(d)); // back, not yet folded: keep the order back → silent
      }
      const ms = silentMsFor(settings, d);
      const due = d.lastContactMs + ms;
      if (ms > 0 && clock.now() < due) await timers.schedule(timer.key, due, { device_id: id });
      else if (ms > 0) out.push(silent(d, d.lastContactMs, due));
      await emit(log, clock, out);
    },
  };
}
