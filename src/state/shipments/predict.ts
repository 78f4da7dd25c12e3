/**
 * Predicted delivery windows (P50 / P90), for a shipment in flight or for a lane before any
 * shipment exists (the storefront's delivery promise).
 *
 * Basis, in order of preference (each answer says which one it used and on how many samples):
 * 1. `empirical` — the lane's own transit times (last N delivered shipments of this carrier ×
 *    origin → destination), when it has at least `min_sample` of them. For a shipment in flight the
 *    quantiles are conditional on the time already elapsed (quantiles of the transit times T with
 *    T > elapsed), so a shipment that is already late predicts later.
 * 2. `lane_prior` — the catalogue lane's `transitHoursP50/P90` (src/catalog `getLane`), read as a
 *    log-normal and conditioned on the elapsed time the same way.
 * 3. `promise` — the promised time (or now, once it has passed): P50 = P90 = max(promise, now).
 * 4. `none` — nothing to go on.
 * Live progress moves the window: **out for delivery** re-anchors it at that status's time with the
 * lane's last-mile times (out for delivery → delivered; `default` basis = the configured last-mile
 * window when the lane has too few); a **trusted stop** (the latest fixes of a trusted source within
 * the stall radius for at least `stop_counts_after_minutes`) counts as time lost: the window is
 * computed for the elapsed time before the stop and pushed back by the stop's length. Positions
 * from a source the quality gate does not trust are ignored.
 */
import type { Kysely } from 'kysely';
import { getLane } from '../../catalog/index.ts';
import { isSourceTrusted } from '../../quality/index.ts';
import type { Database } from '../../store/index.ts';
import { MOVING_STATUSES, type Shipment } from './fold.ts';
import { conditionalQuantile, lognormalConditionalQuantile } from './quantiles.ts';
import { getLaneStats, type LaneStats } from './read.ts';
import { DEFAULT_SHIPMENT_PREDICTION, type PredictionSettings } from './settings.ts';

const HOUR = 3_600_000;

export type PredictionBasis = 'empirical' | 'lane_prior' | 'default' | 'promise' | 'delivered' | 'none';

export interface Prediction {
  /** Epoch ms; undefined with basis `none`. */
  p50Ms: number | undefined;
  p90Ms: number | undefined;
  basis: PredictionBasis;
  /** Samples the quantiles came from (after conditioning on the elapsed time); 0 for priors. */
  sampleSize: number;
  /** Samples the lane has (transit or last-mile, whichever the basis used). */
  laneSampleSize: number;
  /** Live progress that re-anchored the window. */
  progress: 'out_for_delivery' | undefined;
  /** How far a trusted stop pushed the window back (ms; 0 without one). */
  stopShiftMs: number;
  /** Whether the latest position's source is trusted (undefined without positions). */
  positionsTrusted: boolean | undefined;
}

export interface LaneWindow {
  p50Ms: number | undefined;
  p90Ms: number | undefined;
  basis: 'empirical' | 'lane_prior' | 'none';
  sampleSize: number;
  /** Share of the lane's delivered shipments delivered by their promise; undefined before the first. */
  reliability: number | undefined;
}

/** The distribution the window is read from: samples (hours) or a P50/P90 prior (hours). */
type Source = { kind: 'samples'; hours: number[] } | { kind: 'prior'; p50: number; p90: number };

function windowFrom(source: Source, anchorMs: number, elapsedMs: number, shiftMs: number): { p50: number; p90: number; n: number } {
  const e = elapsedMs / HOUR;
  const base = anchorMs + shiftMs;
  if (source.kind === 'prior') {
    return {
      p50: base + lognormalConditionalQuantile(source.p50, source.p90, e, 0.5) * HOUR,
      p90: base + lognormalConditionalQuantile(source.p50, source.p90, e, 0.9) * HOUR,
      n: 0,
    };
  }
  const q50 = conditionalQuantile(source.hours, e, 0.5);
  const q90 = conditionalQuantile(source.hours, e, 0.9);
  // Later than every delivered shipment of the lane: it can arrive any moment now, at the earliest.
  if (q50.value === undefined || q90.value === undefined) return { p50: base + elapsedMs, p90: base + elapsedMs, n: 0 };
  return { p50: base + q50.value * HOUR, p90: base + q90.value * HOUR, n: q50.n };
}

async function lanePrior(db: Kysely<Database>, carrier: string, origin: string, destination: string): Promise<Source | undefined> {
  const lane = await getLane(db, carrier, origin, destination);
  const p50 = lane?.transitHoursP50;
  if (p50 === undefined || !(p50 > 0)) return undefined;
  return { kind: 'prior', p50, p90: lane?.transitHoursP90 ?? p50 };
}

/** The shipment's predicted delivery window at `nowMs`. */
export async function predictShipment(
  db: Kysely<Database>,
  s: Shipment,
  nowMs: number,
  opts: PredictionSettings = DEFAULT_SHIPMENT_PREDICTION,
): Promise<Prediction> {
  const positionsTrusted = s.lastPosition ? await isSourceTrusted(db, s.lastPosition.source) : undefined;
  const out: Prediction = {
    p50Ms: undefined,
    p90Ms: undefined,
    basis: 'none',
    sampleSize: 0,
    laneSampleSize: 0,
    progress: undefined,
    stopShiftMs: 0,
    positionsTrusted,
  };
  if (s.deliveredMs !== undefined) return { ...out, p50Ms: s.deliveredMs, p90Ms: s.deliveredMs, basis: 'delivered' };
  const lane: LaneStats | undefined =
    s.carrier !== undefined && s.origin !== undefined && s.destination !== undefined
      ? await getLaneStats(db, s.carrier, s.origin, s.destination)
      : undefined;

  let anchor: number | undefined;
  let source: Source | undefined;
  let basis: PredictionBasis = 'none';
  if (s.status === 'out_for_delivery' && s.outForDeliveryMs !== undefined) {
    anchor = s.outForDeliveryMs;
    out.progress = 'out_for_delivery';
    const hours = lane?.lastMileHours ?? [];
    out.laneSampleSize = hours.length;
    if (hours.length >= opts.minSample) [source, basis] = [{ kind: 'samples', hours }, 'empirical'];
    else [source, basis] = [{ kind: 'prior', p50: opts.lastMileP50Ms / HOUR, p90: opts.lastMileP90Ms / HOUR }, 'default'];
  } else if (s.createdMs !== undefined) {
    anchor = s.createdMs;
    const hours = lane?.transitHours ?? [];
    out.laneSampleSize = hours.length;
    if (hours.length >= opts.minSample) [source, basis] = [{ kind: 'samples', hours }, 'empirical'];
    else if (s.carrier !== undefined && s.origin !== undefined && s.destination !== undefined) {
      source = await lanePrior(db, s.carrier, s.origin, s.destination);
      if (source) basis = 'lane_prior';
    }
  }
  if (source === undefined || anchor === undefined) {
    if (s.promisedMs === undefined) return out;
    const at = Math.max(s.promisedMs, nowMs);
    return { ...out, p50Ms: at, p90Ms: at, basis: 'promise' };
  }

  const stop = stopShift(s, anchor, nowMs, positionsTrusted === true, opts);
  const elapsed = Math.max(0, nowMs - anchor - stop);
  const w = windowFrom(source, anchor, elapsed, stop);
  return { ...out, p50Ms: w.p50, p90Ms: w.p90, basis, sampleSize: w.n, stopShiftMs: stop };
}

/** Time lost to a trusted stop that has lasted at least `stopCountsAfterMs` (0 otherwise). */
function stopShift(s: Shipment, anchorMs: number, nowMs: number, trusted: boolean, opts: PredictionSettings): number {
  if (!trusted || !MOVING_STATUSES.has(s.status) || s.stationarySinceMs === undefined || s.stationaryFixes < 2) return 0;
  const since = Math.max(s.stationarySinceMs, anchorMs);
  const length = nowMs - since;
  return length >= opts.stopCountsAfterMs && length > 0 ? length : 0;
}

/**
 * The delivery window of a lane for a shipment leaving at `fromMs` (no shipment yet): the lane's
 * own transit quantiles when it has `minSample` delivered shipments, else the catalogue lane's prior.
 */
export async function predictLaneWindow(
  db: Kysely<Database>,
  q: { carrier: string; origin: string; destination: string; fromMs: number },
  opts: Pick<PredictionSettings, 'minSample'> = DEFAULT_SHIPMENT_PREDICTION,
): Promise<LaneWindow> {
  const lane = await getLaneStats(db, q.carrier, q.origin, q.destination);
  const reliability = lane && lane.deliveredCount > 0 ? lane.onTimeCount / lane.deliveredCount : undefined;
  const hours = lane?.transitHours ?? [];
  if (hours.length >= opts.minSample) {
    const w = windowFrom({ kind: 'samples', hours }, q.fromMs, 0, 0);
    return { p50Ms: w.p50, p90Ms: w.p90, basis: 'empirical', sampleSize: hours.length, reliability };
  }
  const prior = await lanePrior(db, q.carrier, q.origin, q.destination);
  if (prior) {
    const w = windowFrom(prior, q.fromMs, 0, 0);
    return { p50Ms: w.p50, p90Ms: w.p90, basis: 'lane_prior', sampleSize: hours.length, reliability };
  }
  return { p50Ms: undefined, p90Ms: undefined, basis: 'none', sampleSize: hours.length, reliability };
}
