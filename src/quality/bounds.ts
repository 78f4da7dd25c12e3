/**
 * Physical bounds: the range a reading can take at all. A value outside it is a broken sensor or
 * a wrong unit, not weather. Name patterns are checked first (they are more specific: a traction
 * battery's voltage is not a 12 V battery's), then the unit.
 */

export interface Range {
  min: number;
  max: number;
}

export interface NameBound extends Range {
  /** Matched against the observation's signal (VSS path or resolved SenML name). */
  pattern: RegExp;
  /** Shown in flag details, e.g. "latitude". */
  label: string;
}

export interface BoundsTable {
  byName: NameBound[];
  /** Keyed by SenML unit (RFC 8428 / 8798) or the VSS unit string. */
  byUnit: Record<string, Range>;
}

/** Signals that are a latitude or longitude: `lat`, `…:lat`, `Vehicle.CurrentLocation.Latitude`, … */
export const LATITUDE = /(?:^|[.:/_-])(?:lat|latitude)$/i;
export const LONGITUDE = /(?:^|[.:/_-])(?:lon|lng|longitude)$/i;

export const DEFAULT_BOUNDS: BoundsTable = {
  byName: [
    { pattern: LATITUDE, label: 'latitude', min: -90, max: 90 },
    { pattern: LONGITUDE, label: 'longitude', min: -180, max: 180 },
    { pattern: /StateOfHealth$/, label: 'state of health', min: 0, max: 100 },
    { pattern: /StateOfCharge(?:\.[A-Za-z]+)?$/, label: 'state of charge', min: 0, max: 100 },
    { pattern: /TractionBattery\.CurrentVoltage$/, label: 'traction battery voltage', min: 0, max: 1000 },
    { pattern: /CombustionEngine\.(?:ECT|EOT)$/, label: 'engine temperature', min: -40, max: 150 },
  ],
  byUnit: {
    Cel: { min: -40, max: 85 },
    celsius: { min: -40, max: 85 },
    K: { min: 233.15, max: 358.15 },
    '%RH': { min: 0, max: 100 },
    '%EL': { min: 0, max: 100 },
    '%': { min: 0, max: 100 },
    percent: { min: 0, max: 100 },
    V: { min: 0, max: 60 },
    lat: { min: -90, max: 90 },
    lon: { min: -180, max: 180 },
    'km/h': { min: 0, max: 400 },
  },
};

/** The bounds for a signal, or undefined when none are known (then nothing is out of range). */
export function boundsFor(table: BoundsTable, signal: string, unit: string | undefined): (Range & { label: string }) | undefined {
  for (const b of table.byName) if (b.pattern.test(signal)) return b;
  if (unit !== undefined) {
    const r = table.byUnit[unit];
    if (r) return { ...r, label: unit };
  }
  return undefined;
}

/** `extra` entries win over the defaults: its name patterns are tried first, its units replace. */
export function mergeBounds(base: BoundsTable, extra: Partial<BoundsTable> | undefined): BoundsTable {
  if (!extra) return base;
  return { byName: [...(extra.byName ?? []), ...base.byName], byUnit: { ...base.byUnit, ...(extra.byUnit ?? {}) } };
}
