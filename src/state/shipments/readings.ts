/**
 * Condition readings (`shipment.condition`) per shipment and kind, and their breach runs. Pure.
 *
 * Rules:
 * - **Limit**: the reading's own `threshold` is an upper limit (value > threshold breaches);
 *   without one, the configured limits of its kind (`min` / `max`); a kind with neither never breaches.
 * - **Statistics** (readings, breaching readings, min, max) count every reading once, in any order.
 * - **Latest / run, by event time**: a reading newer than the latest `(time, id)` moves the latest
 *   reading and the breach run: a breaching one opens a run (or extends the open one; a gap of more
 *   than `breach_gap_minutes` since the run's last breaching reading starts a new run, so a tracker
 *   that only ever reports shocks still gives one run per shock burst); a reading within limits
 *   closes it. An older reading arriving late counts in the statistics but moves neither.
 * - The detector reports one `shipment.condition_breach` per run, identified by its first reading.
 */
import { eventTimeMs } from '../../detect/index.ts';
import type { LoggedEvent } from '../../log/index.ts';
import { dataRecord, num, text } from './fold.ts';
import type { ConditionKind, Limits } from './settings.ts';

export interface BreachRun {
  sinceMs: number;
  lastMs: number;
  /** The reading that opened the run. */
  eventId: string;
  value: number;
  limit: Limits;
  /** The limit was the reading's own `threshold` (not configuration). */
  ownThreshold: boolean;
}

export interface ReadingState {
  shipmentId: string;
  kind: string;
  readings: number;
  breachingReadings: number;
  minValue: number | undefined;
  maxValue: number | undefined;
  lastMs: number;
  lastValue: number;
  lastUnit: string | undefined;
  lastEventId: string;
  lastBreaching: boolean;
  run: BreachRun | undefined;
  updatedSeq: number;
}

export function breaches(value: number, limit: Limits | undefined): boolean {
  if (!limit) return false;
  return (limit.max !== undefined && value > limit.max) || (limit.min !== undefined && value < limit.min);
}

/** One `shipment.condition` applied; undefined when the event carries no usable kind/value. */
export function foldReading(
  before: ReadingState | undefined,
  shipmentId: string,
  le: LoggedEvent,
  limits: Partial<Record<ConditionKind, Limits>>,
  gapMs: number,
): ReadingState | undefined {
  const d = dataRecord(le);
  const kind = text(d.kind);
  const value = num(d.value);
  if (kind === undefined || value === undefined) return before;
  const t = eventTimeMs(le.event);
  const threshold = num(d.threshold);
  const limit: Limits | undefined = threshold !== undefined ? { max: threshold } : limits[kind as ConditionKind];
  const breaching = breaches(value, limit);
  const s: ReadingState = before
    ? { ...before }
    : {
        shipmentId,
        kind,
        readings: 0,
        breachingReadings: 0,
        minValue: undefined,
        maxValue: undefined,
        lastMs: Number.NEGATIVE_INFINITY,
        lastValue: value,
        lastUnit: undefined,
        lastEventId: '',
        lastBreaching: false,
        run: undefined,
        updatedSeq: le.seq,
      };
  s.readings += 1;
  if (breaching) s.breachingReadings += 1;
  s.minValue = s.minValue === undefined ? value : Math.min(s.minValue, value);
  s.maxValue = s.maxValue === undefined ? value : Math.max(s.maxValue, value);
  if (t > s.lastMs || (t === s.lastMs && le.event.id > s.lastEventId)) {
    s.lastMs = t;
    s.lastValue = value;
    s.lastUnit = text(d.unit);
    s.lastEventId = le.event.id;
    s.lastBreaching = breaching;
    if (!breaching) s.run = undefined;
    else if (s.run && t - s.run.lastMs <= gapMs) s.run = { ...s.run, lastMs: t };
    else s.run = { sinceMs: t, lastMs: t, eventId: le.event.id, value, limit: limit ?? {}, ownThreshold: threshold !== undefined };
  }
  s.updatedSeq = le.seq;
  return s;
}
