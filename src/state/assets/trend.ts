/** Wear trends: least-squares lines through a part's recent history, and when they reach a level. Pure. */
import type { Direction } from './settings.ts';

const DAY = 86_400_000;

export interface Fit {
  slope: number;
  intercept: number;
}

/** Ordinary least squares of y on x; undefined with fewer than 2 points or no spread in x. */
export function leastSquares(points: readonly { x: number; y: number }[]): Fit | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  // Centre x: epoch milliseconds squared would lose precision.
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

export interface WearPoint {
  /** Event time, epoch ms. */
  t: number;
  /** The measure (the signal, or its increase since installation). */
  y: number;
  /** Odometer (km) at the same history bucket, when known. */
  km: number | undefined;
}

export interface WearTrend {
  points: number;
  from: number;
  to: number;
  /** Change of the measure per 30 days. */
  slopePer30Days: number;
  /** Change per 1,000 km, when the odometer is known at ≥ 2 of the points. */
  slopePer1000Km: number | null;
  /** The level projected to: the threshold while it is not crossed, else the limit (if any). */
  target: number | null;
  /** When the line reaches `target` (not before the last point); null when it moves away or there is no target. */
  projectedAt: number | null;
  projectedKm: number | null;
}

export interface TrendRule {
  direction: Direction;
  threshold: number;
  limit: number | undefined;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** The trend of `points` (any order) under `rule`; undefined with fewer than `minPoints`. */
export function wearTrend(points: readonly WearPoint[], rule: TrendRule, minPoints: number): WearTrend | undefined {
  if (points.length < Math.max(2, minPoints)) return undefined;
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const first = sorted[0] as WearPoint;
  const last = sorted[sorted.length - 1] as WearPoint;
  const byTime = leastSquares(sorted.map((p) => ({ x: p.t, y: p.y })));
  if (!byTime) return undefined;
  const past = (y: number, level: number) => (rule.direction === 'below' ? y < level : y > level);
  const target = !past(last.y, rule.threshold) ? rule.threshold : rule.limit !== undefined && !past(last.y, rule.limit) ? rule.limit : null;
  const towards = (slope: number) => (rule.direction === 'below' ? slope < 0 : slope > 0);

  let projectedAt: number | null = null;
  if (target !== null && towards(byTime.slope)) {
    const fitted = byTime.intercept + byTime.slope * last.t;
    projectedAt = Math.round(Math.max(last.t, last.t + (target - fitted) / byTime.slope));
  }

  const withKm = sorted.filter((p): p is WearPoint & { km: number } => p.km !== undefined);
  const byKm = leastSquares(withKm.map((p) => ({ x: p.km, y: p.y })));
  let projectedKm: number | null = null;
  const lastKm = withKm[withKm.length - 1];
  if (byKm && lastKm && target !== null && towards(byKm.slope)) {
    const fitted = byKm.intercept + byKm.slope * lastKm.km;
    projectedKm = Math.round(Math.max(lastKm.km, lastKm.km + (target - fitted) / byKm.slope));
  }
  return {
    points: sorted.length,
    from: first.t,
    to: last.t,
    slopePer30Days: r4(byTime.slope * 30 * DAY),
    slopePer1000Km: byKm ? r4(byKm.slope * 1000) : null,
    target,
    projectedAt,
    projectedKm,
  };
}
