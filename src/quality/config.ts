/** Quality monitor settings, their defaults, and how flags are weighted into a score. */
import { type BoundsTable, DEFAULT_BOUNDS, mergeBounds } from './bounds.ts';

export type QualityFlagKind = 'stale' | 'flat_line' | 'out_of_range' | 'spike' | 'clock_skew' | 'duplicates' | 'rejects';

/** The flags that come from rates over a source's recent observations. */
export type RateFlagKind = 'spike' | 'clock_skew' | 'duplicates' | 'rejects';

const MIN = 60_000;

export interface QualityConfig {
  /** This many identical consecutive readings of a numeric signal (or unchanged GPS fixes) is a flat line. */
  flatLineCount: number;
  /** Numeric signals that are legitimately constant for long stretches; never flat-lined. */
  flatLineExempt: RegExp[];
  /** Silence after which a source is stale, per source kind; `default` applies to unknown kinds. */
  staleAfterMs: { default: number } & Record<string, number>;
  /** Names a source's kind (key into `staleAfterMs`); when absent or undefined the kind is inferred. */
  kindOf?: ((source: string) => string | undefined) | undefined;
  /** Event time this far ahead of receive time is clock skew. */
  skewToleranceMs: number;
  /** Event time this far behind receive time is clock skew too (a clock stuck in the past). */
  maxLagMs: number;
  /** |robust z| above this is a spike. */
  spikeZ: number;
  /** How many recent numeric values per signal the robust z is computed over. */
  spikeWindow: number;
  /** No spike judgement until a signal has this many values. */
  spikeMinSamples: number;
  bounds: BoundsTable;
  /** How many recent observations per source the rate flags are computed over. */
  outcomeWindow: number;
  /** Score below this: degraded (`quality.degraded`) and not trusted. */
  degradedBelow: number;
  /** Score at or above this, after being degraded: `quality.recovered`. */
  recoveredAt: number;
  /** Signals tracked per source; the least recently updated is forgotten beyond this. */
  maxSignalsPerSource: number;
  /** Sources silent this long are forgotten by `tick` (then unknown, so not trusted). */
  forgetAfterMs: number;
  /** Most points a flag can take off the score of 100. */
  weights: Record<QualityFlagKind, number>;
  /** For rate flags: the share of recent observations at which the full weight applies. */
  fullPenaltyAt: Record<RateFlagKind, number>;
}

export type QualityOptions = Partial<Omit<QualityConfig, 'bounds' | 'weights' | 'fullPenaltyAt' | 'staleAfterMs'>> & {
  /** Added to the default table; these entries win. */
  bounds?: Partial<BoundsTable>;
  weights?: Partial<Record<QualityFlagKind, number>>;
  fullPenaltyAt?: Partial<Record<RateFlagKind, number>>;
  staleAfterMs?: Record<string, number>;
};

/**
 * Score = 100 − Σ penalties, clamped to 0..100 and rounded.
 * State flags (stale, flat_line, out_of_range) take their whole weight while in effect; rate flags
 * take weight × min(1, rate / fullPenaltyAt) where rate is their share of the last `outcomeWindow`
 * observations. Each of stale and flat_line alone puts a source below 60.
 */
export const DEFAULT_WEIGHTS: Record<QualityFlagKind, number> = {
  stale: 50,
  flat_line: 50,
  out_of_range: 40,
  spike: 30,
  clock_skew: 30,
  duplicates: 50,
  rejects: 50,
};

export const DEFAULT_QUALITY_CONFIG: QualityConfig = {
  flatLineCount: 10,
  flatLineExempt: [/StateOfHealth$/, /Odometer$/, /TraveledDistance$/, /(?:^|\.)Speed$/],
  staleAfterMs: { default: 15 * MIN },
  skewToleranceMs: 2 * MIN,
  maxLagMs: 60 * MIN,
  spikeZ: 6,
  spikeWindow: 50,
  spikeMinSamples: 10,
  bounds: DEFAULT_BOUNDS,
  outcomeWindow: 100,
  degradedBelow: 60,
  recoveredAt: 80,
  maxSignalsPerSource: 256,
  forgetAfterMs: 7 * 24 * 60 * MIN,
  weights: DEFAULT_WEIGHTS,
  fullPenaltyAt: { spike: 0.1, clock_skew: 0.5, duplicates: 0.5, rejects: 0.5 },
};

/** Defaults overlaid with `opts`; throws RangeError on settings that cannot work. */
export function resolveConfig(opts: QualityOptions = {}): QualityConfig {
  const d = DEFAULT_QUALITY_CONFIG;
  const c: QualityConfig = {
    ...d,
    ...stripUndefined(opts),
    bounds: mergeBounds(d.bounds, opts.bounds),
    weights: { ...d.weights, ...stripUndefined(opts.weights ?? {}) },
    fullPenaltyAt: { ...d.fullPenaltyAt, ...stripUndefined(opts.fullPenaltyAt ?? {}) },
    staleAfterMs: { ...d.staleAfterMs, ...(opts.staleAfterMs ?? {}) },
  };
  const positive: [string, number][] = [
    ['flatLineCount', c.flatLineCount - 1],
    ['skewToleranceMs', c.skewToleranceMs],
    ['maxLagMs', c.maxLagMs],
    ['spikeZ', c.spikeZ],
    ['spikeWindow', c.spikeWindow],
    ['spikeMinSamples', c.spikeMinSamples],
    ['outcomeWindow', c.outcomeWindow],
    ['maxSignalsPerSource', c.maxSignalsPerSource],
    ['forgetAfterMs', c.forgetAfterMs],
    ...Object.entries(c.staleAfterMs).map(([k, v]): [string, number] => [`staleAfterMs.${k}`, v]),
    ...Object.entries(c.fullPenaltyAt).map(([k, v]): [string, number] => [`fullPenaltyAt.${k}`, v]),
  ];
  for (const [name, v] of positive) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`quality config: ${name} is out of range`);
  }
  for (const [k, w] of Object.entries(c.weights)) {
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`quality config: weights.${k} must be ≥ 0`);
  }
  if (!(c.degradedBelow >= 0 && c.degradedBelow <= c.recoveredAt && c.recoveredAt <= 100)) {
    throw new RangeError('quality config: need 0 ≤ degradedBelow ≤ recoveredAt ≤ 100');
  }
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
