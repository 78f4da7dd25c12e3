/**
 * The `detectors.shipments` section of the config file: validated by hand (one message per bad
 * value, naming the field), defaults applied. See docs/decide/shipments.md for the YAML.
 */
import { AppError } from '../../core/index.ts';

/** The kinds of `shipment.condition` (src/events/catalogue/shipment.ts; not exported by the events domain). */
export const CONDITION_KINDS = ['shock', 'temperature', 'humidity', 'tilt', 'light'] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** A reading breaches when it is below `min` or above `max`. */
export interface Limits {
  min?: number | undefined;
  max?: number | undefined;
}

/** What the prediction needs (the read API and typed functions use `DEFAULT_SHIPMENT_PREDICTION` unless given). */
export interface PredictionSettings {
  /** Delivered shipments a lane needs before its own quantiles are used (else the catalogue prior). */
  minSample: number;
  /** A trusted stop shorter than this does not shift the prediction. */
  stopCountsAfterMs: number;
  /** Last-mile window (out for delivery → delivered) when the lane has too few samples. */
  lastMileP50Ms: number;
  lastMileP90Ms: number;
}

export interface ShipmentSettings extends PredictionSettings {
  lateAfterMs: number;
  stallMs: number;
  stallRadiusM: number;
  recheckMs: number;
  /** Delivered shipments kept per lane for the quantiles (the last N by delivery time). */
  window: number;
  breachGapMs: number;
  limits: Partial<Record<ConditionKind, Limits>>;
  /** Configured temperature limits only for shipments carrying temperature-sensitive SKUs. */
  temperatureOnlySensitive: boolean;
  carriers: Record<string, { lateAfterMs?: number; stallMs?: number }>;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

export const DEFAULT_SHIPMENT_PREDICTION: PredictionSettings = {
  minSample: 5,
  stopCountsAfterMs: 60 * MINUTE,
  lastMileP50Ms: 4 * HOUR,
  lastMileP90Ms: 8 * HOUR,
};

export const DEFAULT_SHIPMENT_SETTINGS: ShipmentSettings = {
  ...DEFAULT_SHIPMENT_PREDICTION,
  lateAfterMs: 2 * HOUR,
  stallMs: 6 * HOUR,
  stallRadiusM: 200,
  recheckMs: 60 * MINUTE,
  window: 500,
  breachGapMs: 60 * MINUTE,
  limits: { shock: { max: 10 }, temperature: { min: 2, max: 8 } },
  temperatureOnlySensitive: true,
  carriers: {},
};

const TOP = new Set([
  'late_after_hours',
  'stall_hours',
  'stall_radius_m',
  'stop_counts_after_minutes',
  'recheck_minutes',
  'min_sample',
  'window',
  'last_mile',
  'breach_gap_minutes',
  'limits',
  'temperature_only_sensitive',
  'carriers',
]);

function fail(field: string, what: string): never {
  throw new AppError('PW_CONFIG_INVALID', `detectors.shipments${field === '' ? '' : `.${field}`}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function objectAt(v: unknown, field: string, known?: ReadonlySet<string>): Record<string, unknown> {
  if (!isObject(v)) fail(field, 'must be an object');
  if (known) {
    for (const k of Object.keys(v))
      if (!known.has(k)) fail(field === '' ? k : `${field}.${k}`, `unknown setting (known: ${[...known].join(', ')})`);
  }
  return v;
}

function number(v: unknown, field: string, opts: { min?: number; positive?: boolean; integer?: boolean } = {}): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, 'must be a number');
  if (opts.integer && !Number.isInteger(v)) fail(field, 'must be an integer');
  if (opts.positive && v <= 0) fail(field, 'must be greater than 0');
  if (opts.min !== undefined && v < opts.min) fail(field, `must be at least ${opts.min}`);
  return v;
}

function limitsAt(v: unknown, field: string): Limits {
  const o = objectAt(v, field, new Set(['min', 'max']));
  const min = number(o.min, `${field}.min`);
  const max = number(o.max, `${field}.max`);
  if (min === undefined && max === undefined) fail(field, 'needs min, max or both');
  if (min !== undefined && max !== undefined && min > max) fail(field, 'min must not be above max');
  return { min, max };
}

/** Validates the section (undefined = all defaults); throws `PW_CONFIG_INVALID` naming the field. */
export function parseShipmentSettings(raw: unknown): ShipmentSettings {
  if (raw === undefined || raw === null) return DEFAULT_SHIPMENT_SETTINGS;
  const o = objectAt(raw, '', TOP);
  const hours = (k: string, positive = false) => {
    const h = number(o[k], k, positive ? { positive } : { min: 0 });
    return h === undefined ? undefined : h * HOUR;
  };
  const minutes = (k: string, positive = false) => {
    const m = number(o[k], k, positive ? { positive } : { min: 0 });
    return m === undefined ? undefined : m * MINUTE;
  };
  const s: ShipmentSettings = { ...DEFAULT_SHIPMENT_SETTINGS, limits: { ...DEFAULT_SHIPMENT_SETTINGS.limits }, carriers: {} };
  s.lateAfterMs = hours('late_after_hours') ?? s.lateAfterMs;
  s.stallMs = hours('stall_hours', true) ?? s.stallMs;
  s.stallRadiusM = number(o.stall_radius_m, 'stall_radius_m', { positive: true }) ?? s.stallRadiusM;
  s.stopCountsAfterMs = minutes('stop_counts_after_minutes') ?? s.stopCountsAfterMs;
  s.recheckMs = minutes('recheck_minutes', true) ?? s.recheckMs;
  s.minSample = number(o.min_sample, 'min_sample', { integer: true, min: 1 }) ?? s.minSample;
  s.window = number(o.window, 'window', { integer: true, min: 1 }) ?? s.window;
  s.breachGapMs = minutes('breach_gap_minutes') ?? s.breachGapMs;
  if (o.last_mile !== undefined) {
    const lm = objectAt(o.last_mile, 'last_mile', new Set(['p50_hours', 'p90_hours']));
    const p50 = number(lm.p50_hours, 'last_mile.p50_hours', { positive: true }) ?? s.lastMileP50Ms / HOUR;
    const p90 = number(lm.p90_hours, 'last_mile.p90_hours', { positive: true }) ?? Math.max(p50, s.lastMileP90Ms / HOUR);
    if (p90 < p50) fail('last_mile.p90_hours', 'must not be below p50_hours');
    s.lastMileP50Ms = p50 * HOUR;
    s.lastMileP90Ms = p90 * HOUR;
  }
  if (o.limits !== undefined) {
    const l = objectAt(o.limits, 'limits', new Set(CONDITION_KINDS));
    // A kind named here replaces its default limits as a whole; `null` removes them.
    for (const [kind, v] of Object.entries(l)) {
      if (v === null) delete s.limits[kind as ConditionKind];
      else s.limits[kind as ConditionKind] = limitsAt(v, `limits.${kind}`);
    }
  }
  if (o.temperature_only_sensitive !== undefined) {
    if (typeof o.temperature_only_sensitive !== 'boolean') fail('temperature_only_sensitive', 'must be true or false');
    s.temperatureOnlySensitive = o.temperature_only_sensitive;
  }
  if (o.carriers !== undefined) {
    const c = objectAt(o.carriers, 'carriers');
    for (const [carrier, v] of Object.entries(c)) {
      const field = `carriers.${carrier}`;
      const co = objectAt(v, field, new Set(['late_after_hours', 'stall_hours']));
      const late = number(co.late_after_hours, `${field}.late_after_hours`, { min: 0 });
      const stall = number(co.stall_hours, `${field}.stall_hours`, { positive: true });
      s.carriers[carrier] = {
        ...(late !== undefined ? { lateAfterMs: late * HOUR } : {}),
        ...(stall !== undefined ? { stallMs: stall * HOUR } : {}),
      };
    }
  }
  return s;
}

/** The late-after margin and stall time for a carrier (its override, else the defaults). */
export function carrierThresholds(s: ShipmentSettings, carrier: string | undefined): { lateAfterMs: number; stallMs: number } {
  const c = carrier === undefined ? undefined : s.carriers[carrier];
  return { lateAfterMs: c?.lateAfterMs ?? s.lateAfterMs, stallMs: c?.stallMs ?? s.stallMs };
}
