/**
 * The `shipment.delayed` detector.
 *
 * A shipment not yet delivered (nor returned) is delayed for one of these reasons:
 * - `exception` / `carrier_delayed`: its status is `exception` / `delayed` (the carrier says so);
 * - `late_prediction`: its predicted P90 is more than `late_after_hours` (per carrier) past the promise;
 * - `stalled`: in a moving status, a trusted source's fixes have stayed within `stall_radius_m` for
 *   `stall_hours` (per carrier) — at least two fixes, judged against the clock. Positions from a
 *   source the quality gate does not trust (e.g. a frozen GPS flagged `flat_line`) are no evidence.
 *
 * Each reason has **episodes**, and each episode is reported once, by a `shipment.delayed` whose id
 * is derived from (shipment, reason, episode): an exception run by its first status time, a late
 * prediction by the promise it misses, a stall by the start of its stationary run. The projection
 * folds these events back (`delay_episodes`), so an episode already reported is not appended again,
 * and a retry, a second evaluation or a replay appends the same id, which the log dedupes.
 *
 * It evaluates a shipment after a batch with its (non-history) events, and on its durable timer
 * `shipment.check:<id>`, scheduled at the next moment the verdict can change without any event: the
 * stall deadline, the promise + margin, and otherwise every `recheck_minutes` while in flight (the
 * prediction moves as time passes). Delivery (or return) cancels it; so does 30 days past the promise.
 * The condition `shipment.delayed` (key: the shipment id) is raised by the event and cleared for
 * good by `shipment.delivered` or a terminal status (`returned`; terminal.ts).
 */
import { deterministicId, isoTime } from '../../core/index.ts';
import {
  type ClaimedTimer,
  type ConditionRule,
  type DecideContext,
  type Detector,
  dataOf,
  derivedEvent,
  detectorSource,
  emit,
} from '../../detect/index.ts';
import type { LoggedEvent } from '../../log/index.ts';
import { type DelayReason, EXCEPTION_REASONS, MOVING_STATUSES, type Shipment, shipmentIdOf } from './fold.ts';
import { type Prediction, predictShipment } from './predict.ts';
import { fromShipmentRow } from './rows.ts';
import { carrierThresholds, type ShipmentSettings } from './settings.ts';
import { endedShipment, TERMINAL_TYPES } from './terminal.ts';

export const DELAY_TIMER_PREFIX = 'shipment.check:';
export const DELAY_SOURCE = detectorSource('shipment-delay');
const GIVE_UP_AFTER_MS = 30 * 86_400_000;
const TRIGGERS = new Set(['shipment.created', 'shipment.position', 'shipment.status', 'shipment.delivered']);

export const delayTimerKey = (shipmentId: string) => `${DELAY_TIMER_PREFIX}${shipmentId}`;

export interface DelayVerdict {
  reason: DelayReason;
  /** Identifies the episode (see the header); the event's `episode_key`. */
  episodeKey: number;
  /** For a stall: the start of the stationary run (the id's part); otherwise the episode key. */
  idKey: number;
  causedBy: string[];
  details: Record<string, unknown>;
}

export interface DelayAssessment {
  prediction: Prediction;
  /** Reasons that hold now (reported or not). */
  verdicts: DelayVerdict[];
  /** When to look again; undefined: no more checks. */
  nextCheckMs: number | undefined;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : isoTime(ms));

/** What holds for the shipment at `nowMs`, and when the verdict could next change. */
export async function assessDelay(
  ctx: Pick<DecideContext, 'store'>,
  s: Shipment,
  nowMs: number,
  settings: ShipmentSettings,
): Promise<DelayAssessment> {
  const prediction = await predictShipment(ctx.store.db, s, nowMs, settings);
  if (s.deliveredMs !== undefined || s.status === 'returned') return { prediction, verdicts: [], nextCheckMs: undefined };
  const { lateAfterMs, stallMs } = carrierThresholds(settings, s.carrier);
  const verdicts: DelayVerdict[] = [];
  const exceptionReason = EXCEPTION_REASONS[s.status];
  if (exceptionReason !== undefined && s.exceptionSinceMs !== undefined) {
    verdicts.push({
      reason: exceptionReason,
      episodeKey: s.exceptionSinceMs,
      idKey: s.exceptionSinceMs,
      causedBy: s.statusEventId !== undefined ? [s.statusEventId] : [],
      details: { exception_since: iso(s.exceptionSinceMs), status_reason: s.statusReason, status_location: s.statusLocation },
    });
  }
  if (s.promisedMs !== undefined && prediction.p90Ms !== undefined && prediction.p90Ms > s.promisedMs + lateAfterMs) {
    const causes = [s.bookingEventId, s.statusEventId, prediction.stopShiftMs > 0 ? s.lastPosition?.eventId : undefined];
    verdicts.push({
      reason: 'late_prediction',
      episodeKey: s.promisedMs,
      idKey: s.promisedMs,
      causedBy: [...new Set(causes.filter((c): c is string => c !== undefined))],
      details: { late_by_hours: Math.round(((prediction.p90Ms - s.promisedMs) / 3_600_000) * 10) / 10 },
    });
  }
  const stalled = stalledSince(s, prediction, nowMs, stallMs);
  if (stalled !== undefined && s.lastPosition) {
    verdicts.push({
      reason: 'stalled',
      episodeKey: s.lastPosition.timeMs,
      idKey: stalled,
      causedBy: [s.lastPosition.eventId],
      details: {
        stationary_since: iso(stalled),
        last_fix_at: iso(s.lastPosition.timeMs),
        lat: s.lastPosition.lat,
        lon: s.lastPosition.lon,
        position_source: s.lastPosition.source,
      },
    });
  }

  const candidates = [nowMs + settings.recheckMs];
  if (s.promisedMs !== undefined) candidates.push(s.promisedMs + lateAfterMs);
  if (s.stationarySinceMs !== undefined) candidates.push(s.stationarySinceMs + stallMs);
  const next = Math.min(...candidates.filter((t) => t > nowMs));
  const horizon = (s.promisedMs ?? s.createdMs ?? s.lastPosition?.timeMs ?? nowMs) + GIVE_UP_AFTER_MS;
  const watch = s.promisedMs !== undefined || s.lastPosition !== undefined || exceptionReason !== undefined;
  return { prediction, verdicts, nextCheckMs: watch && next <= horizon ? next : undefined };
}

function stalledSince(s: Shipment, p: Prediction, nowMs: number, stallMs: number): number | undefined {
  if (p.positionsTrusted !== true || !MOVING_STATUSES.has(s.status)) return undefined;
  if (s.stationarySinceMs === undefined || s.stationaryFixes < 2) return undefined;
  return nowMs - s.stationarySinceMs >= stallMs ? s.stationarySinceMs : undefined;
}

/** True when the projection has folded a report of this episode. */
export function alreadyReported(s: Shipment, v: DelayVerdict): boolean {
  const keys = s.delayEpisodes[v.reason] ?? [];
  // A stall is the same episode as a reported one whose last fix it still includes.
  if (v.reason === 'stalled') return keys.some((k) => k >= v.idKey);
  return keys.includes(v.episodeKey);
}

export function delayedEventId(shipmentId: string, v: Pick<DelayVerdict, 'reason' | 'idKey'>): string {
  return deterministicId('pitwall.shipment.delayed', shipmentId, v.reason, v.idKey);
}

export const DELAY_CONDITIONS: readonly ConditionRule[] = [
  {
    type: 'shipment.delayed',
    action: 'raise',
    kind: 'shipment.delayed',
    key: (e) => (typeof dataOf(e).shipment_id === 'string' ? (dataOf(e).shipment_id as string) : undefined),
    severity: (e) => (dataOf(e).reason === 'exception' ? 'critical' : 'warning'),
    summary: (e) => `shipment ${String(dataOf(e).shipment_id)} delayed (${String(dataOf(e).reason ?? 'unknown')})`,
  },
  // Delivery or a return ends the shipment: its delay condition is cleared for good (terminal.ts).
  ...TERMINAL_TYPES.map((type): ConditionRule => ({ type, action: 'clear', terminal: true, kind: 'shipment.delayed', key: endedShipment })),
];

export function createDelayDetector(ctx: DecideContext, settings: ShipmentSettings): Detector {
  const { store, timers, clock, log } = ctx;

  const load = async (id: string): Promise<Shipment | undefined> => {
    const row = await store.db.selectFrom('shipments').selectAll().where('shipment_id', '=', id).executeTakeFirst();
    return row ? fromShipmentRow(row) : undefined;
  };

  const evaluate = async (id: string): Promise<void> => {
    const s = await load(id);
    if (!s) return;
    const now = clock.now();
    const a = await assessDelay(ctx, s, now, settings);
    const fresh = a.verdicts.filter((v) => !alreadyReported(s, v));
    await emit(
      log,
      clock,
      fresh.map((v) =>
        derivedEvent(clock, {
          type: 'shipment.delayed',
          id: delayedEventId(id, v),
          source: DELAY_SOURCE,
          subject: id,
          causedBy: v.causedBy,
          data: withoutUndefined({
            shipment_id: id,
            reason: v.reason,
            episode_key: v.episodeKey,
            promised_at: iso(s.promisedMs),
            predicted_p50: iso(a.prediction.p50Ms),
            predicted_p90: iso(a.prediction.p90Ms),
            basis: a.prediction.basis,
            sample_size: a.prediction.sampleSize,
            status: s.status,
            carrier: s.carrier,
            origin: s.origin,
            destination: s.destination,
            ...v.details,
          }),
        }),
      ),
    );
    const key = delayTimerKey(id);
    if (a.nextCheckMs === undefined) await timers.cancel(key);
    else await timers.schedule(key, a.nextCheckMs, { shipment_id: id });
  };

  return {
    name: 'shipment-delay',
    timerPrefix: DELAY_TIMER_PREFIX,
    conditions: DELAY_CONDITIONS,
    async onEvents(batch: readonly LoggedEvent[]) {
      const ids = new Set<string>();
      for (const le of batch) {
        if (le.history || !TRIGGERS.has(le.event.type)) continue;
        const id = shipmentIdOf(le);
        if (id !== undefined) ids.add(id);
      }
      for (const id of ids) await evaluate(id);
    },
    async fire(timer: ClaimedTimer) {
      await evaluate(timer.key.slice(DELAY_TIMER_PREFIX.length));
    },
  };
}

function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
