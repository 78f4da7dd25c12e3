/**
 * The `detectors.devices` section of the config file: silence thresholds and sensor rules,
 * validated at start (one `PW_CONFIG_INVALID` naming the first bad field) with documented
 * defaults (docs/decide/devices.md).
 */
import { AppError } from '../../core/index.ts';
import type { Severity } from '../../detect/index.ts';

const MIN = 60_000;
/** Ten years: longer thresholds are a typo. */
const MAX_MINUTES = 10 * 365 * 24 * 60;
export const DEFAULT_SILENT_MINUTES = 15;
export const DEFAULT_FOR_MINUTES = 10;
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** Which devices an override applies to: every field given must match. */
export interface DeviceMatch {
  devicePrefix?: string;
  kind?: string;
  store?: string;
}

export interface SilentOverride extends DeviceMatch {
  /** 0: never reported silent. */
  minutes: number;
}

export interface SensorRuleMatch {
  /** The reading's full name, or its last segment (after the final `:`, `/` or `.`). */
  name?: string;
  /** Tested against the full name. */
  nameRegex?: RegExp;
  unit?: string;
  devicePrefix?: string;
  store?: string;
}

export interface SensorRule {
  name: string;
  match: SensorRuleMatch;
  direction: 'above' | 'below';
  /** Starts an episode: a reading strictly above (below) it. */
  threshold: number;
  /** Ends it: a reading at or below (at or above) it. Equal to `threshold` without hysteresis. */
  clearLevel: number;
  forMs: number;
  severity: Severity;
}

export interface DevicesSettings {
  silentMinutes: number;
  silentOverrides: SilentOverride[];
  rules: SensorRule[];
}

function bad(field: string, what: string): AppError {
  return new AppError('PW_CONFIG_INVALID', `detectors.devices${field === '' ? '' : `.${field}`}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(o: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(field, `unknown setting "${k}" (known: ${keys.join(', ')})`);
}

function minutes(v: unknown, field: string, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_MINUTES)
    throw bad(field, `expected a number of minutes from 0 to ${MAX_MINUTES}`);
  return v;
}

function text(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw bad(field, 'expected a non-empty string');
  return v;
}

function num(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(field, 'expected a number');
  return v;
}

function parseOverride(v: unknown, field: string): SilentOverride {
  if (!isObject(v)) throw bad(field, 'expected an object like { kind: battery_monitor, minutes: 180 }');
  only(v, field, ['device_prefix', 'kind', 'store', 'minutes']);
  const o: SilentOverride = { minutes: minutes(v.minutes, `${field}.minutes`, Number.NaN) };
  if (Number.isNaN(o.minutes)) throw bad(`${field}.minutes`, 'is required');
  const devicePrefix = text(v.device_prefix, `${field}.device_prefix`);
  const kind = text(v.kind, `${field}.kind`);
  const store = text(v.store, `${field}.store`);
  if (devicePrefix !== undefined) o.devicePrefix = devicePrefix;
  if (kind !== undefined) o.kind = kind;
  if (store !== undefined) o.store = store;
  if (devicePrefix === undefined && kind === undefined && store === undefined)
    throw bad(field, 'needs at least one of device_prefix, kind, store');
  return o;
}

function parseMatch(v: unknown, field: string): SensorRuleMatch {
  if (!isObject(v)) throw bad(field, 'expected an object like { name: temperature, unit: Cel }');
  only(v, field, ['name', 'name_regex', 'unit', 'device_prefix', 'store']);
  const m: SensorRuleMatch = {};
  const name = text(v.name, `${field}.name`);
  const regex = text(v.name_regex, `${field}.name_regex`);
  if (name === undefined && regex === undefined) throw bad(field, 'needs name or name_regex');
  if (name !== undefined) m.name = name;
  if (regex !== undefined) {
    try {
      m.nameRegex = new RegExp(regex);
    } catch (e) {
      throw bad(`${field}.name_regex`, `not a valid regular expression (${(e as Error).message})`);
    }
  }
  for (const [key, prop] of [
    ['unit', 'unit'],
    ['device_prefix', 'devicePrefix'],
    ['store', 'store'],
  ] as const) {
    const s = text(v[key], `${field}.${key}`);
    if (s !== undefined) m[prop] = s;
  }
  return m;
}

function parseRule(v: unknown, field: string): SensorRule {
  if (!isObject(v)) throw bad(field, 'expected an object with name, match, above or below, for_minutes');
  only(v, field, ['name', 'match', 'above', 'below', 'clear_below', 'clear_above', 'for_minutes', 'severity']);
  const name = text(v.name, `${field}.name`);
  if (name === undefined || !RULE_NAME.test(name))
    throw bad(`${field}.name`, 'expected 1-64 letters, digits, _ . - (starting with a letter or digit)');
  const above = num(v.above, `${field}.above`);
  const below = num(v.below, `${field}.below`);
  if ((above === undefined) === (below === undefined)) throw bad(field, 'needs exactly one of above, below');
  let direction: 'above' | 'below';
  let threshold: number;
  let clearLevel: number;
  if (above !== undefined) {
    if (v.clear_above !== undefined) throw bad(`${field}.clear_above`, 'goes with below; use clear_below with above');
    direction = 'above';
    threshold = above;
    clearLevel = num(v.clear_below, `${field}.clear_below`) ?? above;
    if (clearLevel > above) throw bad(`${field}.clear_below`, `must not be above the threshold (${above})`);
  } else {
    if (v.clear_below !== undefined) throw bad(`${field}.clear_below`, 'goes with above; use clear_above with below');
    direction = 'below';
    threshold = below as number;
    clearLevel = num(v.clear_above, `${field}.clear_above`) ?? threshold;
    if (clearLevel < threshold) throw bad(`${field}.clear_above`, `must not be below the threshold (${threshold})`);
  }
  const severity = v.severity ?? 'warning';
  if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity))
    throw bad(`${field}.severity`, `expected one of ${SEVERITIES.join(', ')}`);
  return {
    name,
    match: parseMatch(v.match, `${field}.match`),
    direction,
    threshold,
    clearLevel,
    forMs: minutes(v.for_minutes, `${field}.for_minutes`, DEFAULT_FOR_MINUTES) * MIN,
    severity: severity as Severity,
  };
}

/** Validates `detectors.devices` (undefined → defaults); throws `PW_CONFIG_INVALID`. */
export function parseDevicesSettings(settings: unknown): DevicesSettings {
  if (settings === undefined || settings === null) return { silentMinutes: DEFAULT_SILENT_MINUTES, silentOverrides: [], rules: [] };
  if (!isObject(settings)) throw bad('', 'expected an object with silent_minutes, silent_overrides, sensor_rules');
  only(settings, '', ['silent_minutes', 'silent_overrides', 'sensor_rules']);
  const list = (v: unknown, field: string): unknown[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw bad(field, 'expected a list');
    return v;
  };
  const rules = list(settings.sensor_rules, 'sensor_rules').map((r, i) => parseRule(r, `sensor_rules[${i}]`));
  const seen = new Set<string>();
  for (const [i, r] of rules.entries()) {
    if (seen.has(r.name)) throw bad(`sensor_rules[${i}].name`, `"${r.name}" is used by an earlier rule`);
    seen.add(r.name);
  }
  return {
    silentMinutes: minutes(settings.silent_minutes, 'silent_minutes', DEFAULT_SILENT_MINUTES),
    silentOverrides: list(settings.silent_overrides, 'silent_overrides').map((o, i) => parseOverride(o, `silent_overrides[${i}]`)),
    rules,
  };
}

/** What the silence threshold depends on. */
export interface SilenceSubject {
  deviceId: string;
  kind: string | undefined;
  store: string | undefined;
}

/** The device's silence threshold in ms (0: not watched): the first matching override, else the default. */
export function silentMsFor(s: DevicesSettings, d: SilenceSubject): number {
  const o = s.silentOverrides.find(
    (m) =>
      (m.devicePrefix === undefined || d.deviceId.startsWith(m.devicePrefix)) &&
      (m.kind === undefined || m.kind === d.kind) &&
      (m.store === undefined || m.store === d.store),
  );
  return (o?.minutes ?? s.silentMinutes) * MIN;
}

/** The last segment of a reading name: after the final `:`, `/` or `.`. */
export function lastSegment(name: string): string {
  const i = Math.max(name.lastIndexOf(':'), name.lastIndexOf('/'), name.lastIndexOf('.'));
  return name.slice(i + 1);
}

/** Whether `rule` watches a reading named `n` in `unit` from `deviceId` (may be '') in `store`. */
export function ruleMatches(rule: SensorRule, n: string, unit: string | undefined, deviceId: string, store: string | undefined): boolean {
  const m = rule.match;
  if (m.name !== undefined && m.name !== n && m.name !== lastSegment(n)) return false;
  if (m.nameRegex !== undefined && !m.nameRegex.test(n)) return false;
  if (m.unit !== undefined && m.unit !== unit) return false;
  if (m.devicePrefix !== undefined && !deviceId.startsWith(m.devicePrefix)) return false;
  if (m.store !== undefined && m.store !== store) return false;
  return true;
}

/** The rule as configured, in the config file's words (for `GET /v1/sensor-rules`). */
export function ruleDefinition(r: SensorRule): Record<string, unknown> {
  const match: Record<string, string> = {};
  if (r.match.name !== undefined) match.name = r.match.name;
  if (r.match.nameRegex !== undefined) match.name_regex = r.match.nameRegex.source;
  if (r.match.unit !== undefined) match.unit = r.match.unit;
  if (r.match.devicePrefix !== undefined) match.device_prefix = r.match.devicePrefix;
  if (r.match.store !== undefined) match.store = r.match.store;
  return {
    name: r.name,
    match,
    direction: r.direction,
    threshold: r.threshold,
    clear_level: r.clearLevel,
    for_minutes: r.forMs / MIN,
    severity: r.severity,
  };
}
