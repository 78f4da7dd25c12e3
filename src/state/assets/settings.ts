/**
 * The `detectors.assets` section of the config file: validated here, with documented defaults
 * (docs/decide/assets.md). A bad value throws `PW_CONFIG_INVALID` naming the field.
 */
import { AppError } from '../../core/index.ts';

const DAY = 86_400_000;
const ROOT = 'detectors.assets';

/** How one SenML name maps to stock (the explicit `sensors` map; the naming convention gives the same shape). */
export interface StockSensorMapping {
  sku: string;
  warehouse: string;
  /** Set for weight readings: quantity = round((kg − tare) / unit weight). */
  unitWeightKg: number | undefined;
  tareKg: number;
}

export interface StockSettings {
  /** Warehouse of order lines that name none; undefined: such lines reserve nothing. */
  defaultWarehouse: string | undefined;
  /** Depletion window, ending at the row's newest event. */
  windowMs: number;
  /** A reservation stops counting this long after its order (0: only a shipment releases it). */
  reservationHoldMs: number;
  /** Reading history keeps the latest reading per sensor and bucket of this size. */
  readingBucketMs: number;
  sensors: ReadonlyMap<string, StockSensorMapping>;
  /** Unit weight per SKU, for weight readings named by the convention. */
  unitWeightKg: ReadonlyMap<string, number>;
}

export interface StockThresholds {
  /** Low while available < this. */
  reorderPoint?: number | null;
  /** Low while days of cover < this. */
  daysOfCover?: number | null;
}

export interface StockLowSettings {
  defaults: StockThresholds;
  /** Clear once above threshold × this (hysteresis). */
  clearFactor: number;
  skus: ReadonlyMap<string, StockThresholds>;
  categories: ReadonlyMap<string, StockThresholds>;
  warehouses: ReadonlyMap<string, StockThresholds>;
}

export type Direction = 'below' | 'above';
/** `value`: the signal itself; `since_install`: its increase since the part was installed (e.g. km since a service). */
export type Measure = 'value' | 'since_install';

export interface PartType {
  name: string;
  /** VSS paths; `*` matches one path segment. */
  signals: readonly string[];
  measure: Measure;
  direction: Direction;
  threshold: number;
  /** Due clears once the measure is back past this (hysteresis). */
  clear: number;
  /** Optional end of life (e.g. 100 % pad wear), for a projected date past the threshold. */
  limit: number | undefined;
  /** Registrations of these device kinds or part SKUs (a trailing `*` is a prefix) fit a new part of this type. */
  deviceKinds: readonly string[];
  partSkus: readonly string[];
}

export interface ServiceDueSettings {
  trendMs: number;
  pointBucketMs: number;
  /** Points needed for a trend. */
  minPoints: number;
  parts: readonly PartType[];
}

export interface AssetsSettings {
  stock: StockSettings;
  stockLow: StockLowSettings;
  serviceDue: ServiceDueSettings;
}

/** The odometer (COVESA VSS 4): kept as history so wear can be expressed per 1,000 km. */
export const ODOMETER_SIGNAL = 'Vehicle.TraveledDistance';

export const DEFAULT_PART_TYPES: readonly PartType[] = [
  {
    name: 'battery',
    signals: ['Vehicle.Powertrain.TractionBattery.StateOfHealth', 'Vehicle.LowVoltageBattery.StateOfHealth'],
    measure: 'value',
    direction: 'below',
    threshold: 70,
    clear: 75,
    limit: undefined,
    deviceKinds: ['battery_monitor'],
    partSkus: ['BAT-*'],
  },
  {
    name: 'brake_pads',
    signals: ['Vehicle.Chassis.Axle.*.Wheel.*.Brake.PadWear'],
    measure: 'value',
    direction: 'above',
    threshold: 80,
    clear: 70,
    limit: 100,
    deviceKinds: ['brake_sensor'],
    partSkus: ['BRK-PAD-*'],
  },
  {
    name: 'service',
    signals: [ODOMETER_SIGNAL],
    measure: 'since_install',
    direction: 'above',
    threshold: 15_000,
    clear: 15_000,
    limit: undefined,
    deviceKinds: [],
    partSkus: ['SVC-*', 'OIL-*'],
  },
];

export const DEFAULT_SETTINGS: AssetsSettings = {
  stock: {
    defaultWarehouse: undefined,
    windowMs: 14 * DAY,
    reservationHoldMs: 14 * DAY,
    readingBucketMs: 3_600_000,
    sensors: new Map(),
    unitWeightKg: new Map(),
  },
  stockLow: {
    defaults: { reorderPoint: null, daysOfCover: 3 },
    clearFactor: 1.2,
    skus: new Map(),
    categories: new Map(),
    warehouses: new Map(),
  },
  serviceDue: { trendMs: 180 * DAY, pointBucketMs: 6 * 3_600_000, minPoints: 3, parts: DEFAULT_PART_TYPES },
};

function bad(path: string, what: string): AppError {
  return new AppError('PW_CONFIG_INVALID', `${path}: ${what}`);
}

type Obj = Record<string, unknown>;

function object(v: unknown, path: string, known?: readonly string[]): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(path, 'must be an object');
  const o = v as Obj;
  if (known)
    for (const k of Object.keys(o)) if (!known.includes(k)) throw bad(`${path}.${k}`, `unknown setting (known: ${known.join(', ')})`);
  return o;
}

function num(v: unknown, path: string, opts: { min?: number; minExclusive?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(path, 'must be a number');
  if (opts.min !== undefined && v < opts.min) throw bad(path, `must be ≥ ${opts.min}`);
  if (opts.minExclusive !== undefined && v <= opts.minExclusive) throw bad(path, `must be > ${opts.minExclusive}`);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw bad(path, 'must be a non-empty string');
  return v;
}

function strings(v: unknown, path: string): string[] {
  if (typeof v === 'string') return [str(v, path)];
  if (!Array.isArray(v)) throw bad(path, 'must be a list of strings');
  return v.map((s, i) => str(s, `${path}[${i}]`));
}

/** `null` switches a threshold off; absent keeps the inherited one. */
function thresholds(v: unknown, path: string): StockThresholds {
  const o = object(v, path, ['reorder_point', 'days_of_cover']);
  const t: StockThresholds = {};
  if (o.reorder_point !== undefined)
    t.reorderPoint = o.reorder_point === null ? null : num(o.reorder_point, `${path}.reorder_point`, { min: 0 });
  if (o.days_of_cover !== undefined)
    t.daysOfCover = o.days_of_cover === null ? null : num(o.days_of_cover, `${path}.days_of_cover`, { min: 0 });
  return t;
}

function thresholdMap(v: unknown, path: string): Map<string, StockThresholds> {
  if (v === undefined) return new Map();
  return new Map(Object.entries(object(v, path)).map(([k, t]) => [k, thresholds(t, `${path}.${k}`)]));
}

function parseStock(v: unknown): StockSettings {
  const d = DEFAULT_SETTINGS.stock;
  if (v === undefined) return d;
  const path = `${ROOT}.stock`;
  const o = object(v, path, [
    'default_warehouse',
    'window_days',
    'reservation_hold_days',
    'reading_bucket_minutes',
    'sensors',
    'unit_weight_kg',
  ]);
  const sensors = new Map<string, StockSensorMapping>();
  if (o.sensors !== undefined) {
    for (const [name, m] of Object.entries(object(o.sensors, `${path}.sensors`))) {
      const p = `${path}.sensors.${name}`;
      const s = object(m, p, ['sku', 'warehouse', 'unit_weight_kg', 'tare_kg']);
      sensors.set(name, {
        sku: str(s.sku, `${p}.sku`),
        warehouse: str(s.warehouse, `${p}.warehouse`),
        unitWeightKg: s.unit_weight_kg === undefined ? undefined : num(s.unit_weight_kg, `${p}.unit_weight_kg`, { minExclusive: 0 }),
        tareKg: s.tare_kg === undefined ? 0 : num(s.tare_kg, `${p}.tare_kg`, { min: 0 }),
      });
    }
  }
  const unitWeightKg = new Map<string, number>();
  if (o.unit_weight_kg !== undefined) {
    for (const [sku, w] of Object.entries(object(o.unit_weight_kg, `${path}.unit_weight_kg`)))
      unitWeightKg.set(sku, num(w, `${path}.unit_weight_kg.${sku}`, { minExclusive: 0 }));
  }
  return {
    defaultWarehouse:
      o.default_warehouse === undefined || o.default_warehouse === null ? undefined : str(o.default_warehouse, `${path}.default_warehouse`),
    windowMs: o.window_days === undefined ? d.windowMs : num(o.window_days, `${path}.window_days`, { minExclusive: 0 }) * DAY,
    reservationHoldMs:
      o.reservation_hold_days === undefined
        ? d.reservationHoldMs
        : num(o.reservation_hold_days, `${path}.reservation_hold_days`, { min: 0 }) * DAY,
    readingBucketMs:
      o.reading_bucket_minutes === undefined
        ? d.readingBucketMs
        : num(o.reading_bucket_minutes, `${path}.reading_bucket_minutes`, { minExclusive: 0 }) * 60_000,
    sensors,
    unitWeightKg,
  };
}

function parseStockLow(v: unknown): StockLowSettings {
  const d = DEFAULT_SETTINGS.stockLow;
  if (v === undefined) return d;
  const path = `${ROOT}.stock_low`;
  const o = object(v, path, ['reorder_point', 'days_of_cover', 'clear_factor', 'skus', 'categories', 'warehouses']);
  const defaults = { ...d.defaults, ...thresholds({ reorder_point: o.reorder_point, days_of_cover: o.days_of_cover }, path) };
  return {
    defaults,
    clearFactor: o.clear_factor === undefined ? d.clearFactor : num(o.clear_factor, `${path}.clear_factor`, { min: 1 }),
    skus: thresholdMap(o.skus, `${path}.skus`),
    categories: thresholdMap(o.categories, `${path}.categories`),
    warehouses: thresholdMap(o.warehouses, `${path}.warehouses`),
  };
}

const PART_KEYS = ['enabled', 'signals', 'measure', 'direction', 'threshold', 'clear', 'limit', 'device_kinds', 'part_skus'];

function parsePart(name: string, v: unknown, base: PartType | undefined): PartType | undefined {
  const path = `${ROOT}.service_due.parts.${name}`;
  if (v === false) return undefined;
  const o = object(v, path, PART_KEYS);
  if (o.enabled === false) return undefined;
  if (o.enabled !== undefined && o.enabled !== true) throw bad(`${path}.enabled`, 'must be true or false');
  const measure = o.measure ?? base?.measure ?? 'value';
  if (measure !== 'value' && measure !== 'since_install') throw bad(`${path}.measure`, 'must be value or since_install');
  const direction = o.direction ?? base?.direction ?? (measure === 'since_install' ? 'above' : undefined);
  if (direction !== 'below' && direction !== 'above') throw bad(`${path}.direction`, 'must be below or above');
  if (o.signals === undefined && !base) throw bad(`${path}.signals`, 'is required for a new part type');
  const signals = o.signals === undefined ? (base?.signals ?? []) : strings(o.signals, `${path}.signals`);
  if (signals.length === 0) throw bad(`${path}.signals`, 'must name at least one VSS signal');
  for (const [i, s] of signals.entries())
    if (!/^Vehicle(\.([A-Za-z0-9_]+|\*))+$/.test(s))
      throw bad(`${path}.signals[${i}]`, `"${s}" is not a VSS path (Vehicle.…; * matches one segment)`);
  if (o.threshold === undefined && !base) throw bad(`${path}.threshold`, 'is required for a new part type');
  const threshold = o.threshold === undefined ? (base?.threshold ?? 0) : num(o.threshold, `${path}.threshold`);
  // A changed threshold without a clear level gets a default one 5 % (of the threshold) on the healthy side.
  const margin = Math.abs(threshold) * 0.05 || 1;
  const defaultClear =
    o.threshold === undefined && base
      ? base.clear
      : measure === 'since_install'
        ? threshold
        : direction === 'below'
          ? threshold + margin
          : threshold - margin;
  const clear = o.clear === undefined ? defaultClear : num(o.clear, `${path}.clear`);
  if (direction === 'below' && clear < threshold) throw bad(`${path}.clear`, `must be ≥ threshold (${threshold}) for direction below`);
  if (direction === 'above' && clear > threshold) throw bad(`${path}.clear`, `must be ≤ threshold (${threshold}) for direction above`);
  const limit = o.limit === undefined ? base?.limit : o.limit === null ? undefined : num(o.limit, `${path}.limit`);
  if (limit !== undefined && (direction === 'below' ? limit > threshold : limit < threshold))
    throw bad(`${path}.limit`, `must be past the threshold (${direction} ${threshold})`);
  return {
    name,
    signals,
    measure,
    direction,
    threshold,
    clear,
    limit,
    deviceKinds: o.device_kinds === undefined ? (base?.deviceKinds ?? []) : strings(o.device_kinds, `${path}.device_kinds`),
    partSkus: o.part_skus === undefined ? (base?.partSkus ?? []) : strings(o.part_skus, `${path}.part_skus`),
  };
}

function parseServiceDue(v: unknown): ServiceDueSettings {
  const d = DEFAULT_SETTINGS.serviceDue;
  if (v === undefined) return d;
  const path = `${ROOT}.service_due`;
  const o = object(v, path, ['trend_days', 'bucket_hours', 'min_points', 'parts']);
  let parts = d.parts;
  if (o.parts !== undefined) {
    const given = object(o.parts, `${path}.parts`);
    const byName = new Map<string, PartType | undefined>(d.parts.map((p) => [p.name, p]));
    for (const [name, p] of Object.entries(given))
      byName.set(
        name,
        parsePart(
          name,
          p,
          d.parts.find((b) => b.name === name),
        ),
      );
    parts = [...byName.values()].filter((p): p is PartType => p !== undefined);
  }
  const minPoints = o.min_points === undefined ? d.minPoints : num(o.min_points, `${path}.min_points`, { min: 2 });
  if (!Number.isInteger(minPoints)) throw bad(`${path}.min_points`, 'must be an integer');
  return {
    trendMs: o.trend_days === undefined ? d.trendMs : num(o.trend_days, `${path}.trend_days`, { minExclusive: 0 }) * DAY,
    pointBucketMs:
      o.bucket_hours === undefined ? d.pointBucketMs : num(o.bucket_hours, `${path}.bucket_hours`, { minExclusive: 0 }) * 3_600_000,
    minPoints,
    parts,
  };
}

/** Validates `detectors.assets` (undefined → every default). */
export function parseAssetsSettings(v: unknown): AssetsSettings {
  if (v === undefined || v === null) return DEFAULT_SETTINGS;
  const o = object(v, ROOT, ['stock', 'stock_low', 'service_due']);
  return { stock: parseStock(o.stock), stockLow: parseStockLow(o.stock_low), serviceDue: parseServiceDue(o.service_due) };
}

/** Effective thresholds for a SKU in a warehouse: SKU > catalogue > category > warehouse > defaults (field by field). */
export function stockThresholds(
  s: StockLowSettings,
  sku: string,
  warehouse: string,
  category: string | undefined,
  catalogueReorderPoint: number | undefined,
): { reorderPoint: number | undefined; daysOfCover: number | undefined } {
  const layers: StockThresholds[] = [
    s.defaults,
    s.warehouses.get(warehouse) ?? {},
    (category !== undefined ? s.categories.get(category) : undefined) ?? {},
    catalogueReorderPoint !== undefined ? { reorderPoint: catalogueReorderPoint } : {},
    s.skus.get(sku) ?? {},
  ];
  let reorderPoint: number | null | undefined;
  let daysOfCover: number | null | undefined;
  for (const l of layers) {
    if (l.reorderPoint !== undefined) reorderPoint = l.reorderPoint;
    if (l.daysOfCover !== undefined) daysOfCover = l.daysOfCover;
  }
  return { reorderPoint: reorderPoint ?? undefined, daysOfCover: daysOfCover ?? undefined };
}

/** `*` matches one dotted segment. */
export function signalMatches(pattern: string, signal: string): boolean {
  if (!pattern.includes('*')) return pattern === signal;
  const p = pattern.split('.');
  const s = signal.split('.');
  return p.length === s.length && p.every((seg, i) => seg === '*' || seg === s[i]);
}

/** The part type watching a signal (first match in configured order). */
export function partTypeOfSignal(parts: readonly PartType[], signal: string): PartType | undefined {
  return parts.find((p) => p.signals.some((pattern) => signalMatches(pattern, signal)));
}

/** The part types a registration fits a new part of (by device kind or part SKU; `X*` is a prefix). */
export function partTypesOfRegistration(parts: readonly PartType[], kind: string | undefined, partSku: string | undefined): PartType[] {
  const skuMatch = (p: string) => partSku !== undefined && (p.endsWith('*') ? partSku.startsWith(p.slice(0, -1)) : partSku === p);
  return parts.filter((p) => (kind !== undefined && p.deviceKinds.includes(kind)) || p.partSkus.some(skuMatch));
}
