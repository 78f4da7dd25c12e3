/**
 * The config file's `detectors.quality` section: validated, with documented defaults
 * (docs/decide/quality.md). Every bad value throws `PW_CONFIG_INVALID` naming the field.
 */
import { AppError } from '../core/index.ts';
import type { NameBound, Range } from './bounds.ts';
import { DEFAULT_QUALITY_CONFIG, type QualityFlagKind, type QualityOptions, type RateFlagKind, resolveConfig } from './config.ts';

export interface QualitySettings {
  /** Options for the monitor (defaults in `DEFAULT_QUALITY_CONFIG`). */
  monitor: QualityOptions;
  /**
   * Quarantined items are counted once they are this old (by the clock): ingest writes the
   * quarantine just after the log commit, so a younger row may not be visible yet.
   */
  rejectSettleMs: number;
}

export const DEFAULT_REJECT_SETTLE_MS = 10_000;

const FLAG_KINDS: readonly QualityFlagKind[] = ['stale', 'flat_line', 'out_of_range', 'spike', 'clock_skew', 'duplicates', 'rejects'];
const RATE_KINDS: readonly RateFlagKind[] = ['spike', 'clock_skew', 'duplicates', 'rejects'];
const KEYS = [
  'flat_line_count',
  'flat_line_exempt',
  'stale_after_minutes',
  'source_kinds',
  'skew_tolerance_seconds',
  'max_lag_minutes',
  'spike_z',
  'spike_window',
  'spike_min_samples',
  'outcome_window',
  'degraded_below',
  'recovered_at',
  'weights',
  'full_penalty_at',
  'bounds',
  'max_signals_per_source',
  'reject_settle_seconds',
] as const;

const SEC = 1000;
const MIN = 60 * SEC;

function fail(field: string, what: string): never {
  throw new AppError('PW_CONFIG_INVALID', `detectors.quality${field === '' ? '' : `.${field}`}: ${what}`, { category: 'user' });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function num(o: Obj, field: string, check: (n: number) => boolean, what: string, integer = false): number | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || !check(v)) fail(field, `must be ${what}`);
  return v;
}

function regex(v: unknown, field: string): RegExp {
  if (typeof v !== 'string' || v === '') fail(field, 'must be a non-empty regular expression string');
  try {
    return new RegExp(v);
  } catch (e) {
    return fail(field, `is not a valid regular expression (${(e as Error).message})`);
  }
}

function range(v: unknown, field: string): Range {
  if (!isObj(v) || typeof v.min !== 'number' || typeof v.max !== 'number' || !(v.min <= v.max))
    fail(field, 'must be { min: <number>, max: <number> } with min ≤ max');
  return { min: v.min, max: v.max };
}

/** Validates `detectors.quality` (undefined or null: all defaults). */
export function parseQualitySettings(raw: unknown): QualitySettings {
  if (raw === undefined || raw === null) return { monitor: {}, rejectSettleMs: DEFAULT_REJECT_SETTLE_MS };
  if (!isObj(raw)) fail('', 'expected an object of settings');
  for (const k of Object.keys(raw)) if (!(KEYS as readonly string[]).includes(k)) fail(k, `unknown setting (known: ${KEYS.join(', ')})`);

  const m: QualityOptions = {};
  const pos = (n: number) => n > 0;
  const set = <K extends keyof QualityOptions>(key: K, v: QualityOptions[K] | undefined) => {
    if (v !== undefined) m[key] = v;
  };
  set(
    'flatLineCount',
    num(raw, 'flat_line_count', (n) => n >= 2, 'an integer ≥ 2', true),
  );
  const skew = num(raw, 'skew_tolerance_seconds', pos, 'a number > 0');
  set('skewToleranceMs', skew === undefined ? undefined : skew * SEC);
  const lag = num(raw, 'max_lag_minutes', pos, 'a number > 0');
  set('maxLagMs', lag === undefined ? undefined : lag * MIN);
  set('spikeZ', num(raw, 'spike_z', pos, 'a number > 0'));
  set(
    'spikeWindow',
    num(raw, 'spike_window', (n) => n >= 3 && n <= 1000, 'an integer from 3 to 1000', true),
  );
  set(
    'spikeMinSamples',
    num(raw, 'spike_min_samples', (n) => n >= 3, 'an integer ≥ 3', true),
  );
  set(
    'outcomeWindow',
    num(raw, 'outcome_window', (n) => n >= 1 && n <= 1000, 'an integer from 1 to 1000', true),
  );
  set(
    'degradedBelow',
    num(raw, 'degraded_below', (n) => n >= 0 && n <= 100, 'a number from 0 to 100'),
  );
  set(
    'recoveredAt',
    num(raw, 'recovered_at', (n) => n >= 0 && n <= 100, 'a number from 0 to 100'),
  );
  set(
    'maxSignalsPerSource',
    num(raw, 'max_signals_per_source', (n) => n >= 1 && n <= 10_000, 'an integer from 1 to 10000', true),
  );

  if (raw.flat_line_exempt !== undefined) {
    if (!Array.isArray(raw.flat_line_exempt)) fail('flat_line_exempt', 'must be a list of regular expressions');
    m.flatLineExempt = [
      ...DEFAULT_QUALITY_CONFIG.flatLineExempt,
      ...raw.flat_line_exempt.map((p, i) => regex(p, `flat_line_exempt[${i}]`)),
    ];
  }

  const stale = raw.stale_after_minutes;
  if (stale !== undefined) {
    const entries: [string, unknown][] = typeof stale === 'number' ? [['default', stale]] : isObj(stale) ? Object.entries(stale) : [];
    if (entries.length === 0) fail('stale_after_minutes', 'must be a number of minutes or { default: 15, gps: 10, … } per source kind');
    m.staleAfterMs = {};
    for (const [kind, v] of entries) {
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) fail(`stale_after_minutes.${kind}`, 'must be a number of minutes > 0');
      m.staleAfterMs[kind] = v * MIN;
    }
  }

  if (raw.source_kinds !== undefined) {
    if (!Array.isArray(raw.source_kinds)) fail('source_kinds', 'must be a list of { match: <regex>, kind: <name> }');
    const rules = raw.source_kinds.map((r, i) => {
      if (!isObj(r) || typeof r.kind !== 'string' || r.kind === '') fail(`source_kinds[${i}]`, 'must be { match: <regex>, kind: <name> }');
      return { re: regex(r.match, `source_kinds[${i}].match`), kind: r.kind };
    });
    m.kindOf = (source) => rules.find((r) => r.re.test(source))?.kind;
  }

  if (raw.weights !== undefined) {
    if (!isObj(raw.weights)) fail('weights', `must map flag kinds (${FLAG_KINDS.join(', ')}) to points`);
    const w: Partial<Record<QualityFlagKind, number>> = {};
    for (const [k, v] of Object.entries(raw.weights)) {
      if (!(FLAG_KINDS as readonly string[]).includes(k)) fail(`weights.${k}`, `unknown flag kind (known: ${FLAG_KINDS.join(', ')})`);
      if (typeof v !== 'number' || !(v >= 0 && v <= 100)) fail(`weights.${k}`, 'must be a number of points from 0 to 100');
      w[k as QualityFlagKind] = v;
    }
    m.weights = w;
  }

  if (raw.full_penalty_at !== undefined) {
    if (!isObj(raw.full_penalty_at)) fail('full_penalty_at', `must map rate flags (${RATE_KINDS.join(', ')}) to a share`);
    const f: Partial<Record<RateFlagKind, number>> = {};
    for (const [k, v] of Object.entries(raw.full_penalty_at)) {
      if (!(RATE_KINDS as readonly string[]).includes(k))
        fail(`full_penalty_at.${k}`, `unknown rate flag (known: ${RATE_KINDS.join(', ')})`);
      if (typeof v !== 'number' || !(v > 0 && v <= 1)) fail(`full_penalty_at.${k}`, 'must be a share > 0 and ≤ 1');
      f[k as RateFlagKind] = v;
    }
    m.fullPenaltyAt = f;
  }

  if (raw.bounds !== undefined) {
    const b = raw.bounds;
    if (!isObj(b)) fail('bounds', 'must be { units: { <unit>: { min, max } }, names: [{ pattern, min, max, label }] }');
    const byUnit: Record<string, Range> = {};
    if (b.units !== undefined) {
      if (!isObj(b.units)) fail('bounds.units', 'must map SenML / VSS units to { min, max }');
      for (const [u, r] of Object.entries(b.units)) byUnit[u] = range(r, `bounds.units.${u}`);
    }
    const byName: NameBound[] = [];
    if (b.names !== undefined) {
      if (!Array.isArray(b.names)) fail('bounds.names', 'must be a list of { pattern, min, max, label }');
      for (const [i, n] of b.names.entries()) {
        const r = range(n, `bounds.names[${i}]`);
        const o = n as Obj;
        byName.push({
          ...r,
          pattern: regex(o.pattern, `bounds.names[${i}].pattern`),
          label: typeof o.label === 'string' ? o.label : String(o.pattern),
        });
      }
    }
    m.bounds = { byUnit, byName };
  }

  const settle = num(raw, 'reject_settle_seconds', (n) => n >= 0 && n <= 3600, 'a number of seconds from 0 to 3600');
  try {
    resolveConfig(m);
  } catch (e) {
    // The cross-field rules (degraded_below ≤ recovered_at, …) live with the monitor's config.
    fail(e instanceof RangeError && /degradedBelow/.test(e.message) ? 'degraded_below' : '', (e as Error).message);
  }
  return { monitor: m, rejectSettleMs: settle === undefined ? DEFAULT_REJECT_SETTLE_MS : settle * SEC };
}
