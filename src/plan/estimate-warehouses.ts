/**
 * Equipment failure hazard and repair time per warehouse from Decide's conditions: a
 * `sensor.sustained` condition (a warehouse sensor — cold-room temperature, conveyor vibration —
 * beyond its rule's threshold long enough to matter) is a failure of the device's warehouse from
 * its raise to its clear. Overlapping episodes of one warehouse are one failure (the union of
 * the intervals); exposure is the time it was observed working.
 *
 * A device belongs to the warehouse its `store` names (device state, case-insensitive), else to
 * the warehouse whose id its device id contains as a `-`/`_`/`:`-separated part (`env-de-ham-1` →
 * `DE-HAM-1`). Devices of no warehouse are counted, not used.
 */
import type { Store } from '../store/index.ts';
import { blankWarehouse } from './defaults.ts';
import { type Estimated, estimateHazard, estimateMean } from './estimate.ts';
import type { Scenario, Warehouse } from './types.ts';

const DAY = 86_400_000;

export interface WarehouseEstimate {
  warehouse: string;
  devices: number;
  /** Failure episodes (overlapping conditions merged) that started in the window. */
  failures: number;
  exposureDays: number;
  hazardPerDay: Estimated;
  /** Mean length of the ended failure episodes (n = their number; 0 when none ended). */
  repairDays: Estimated;
  /** Share of order lines fulfilled from it (stock order lines), when any name a warehouse. */
  share: number | undefined;
}

/**
 * When the equipment failed: the episode's first bad reading (`started_at` in the condition's
 * details, as `sensor.sustained` carries it), not the moment the condition was raised — that comes
 * `for_minutes` later, once the reading held; else the raise.
 */
function failedSince(details: string | null, raisedMs: number): number {
  try {
    const started = Date.parse((JSON.parse(details ?? '{}') as { started_at?: unknown }).started_at as string);
    return Number.isFinite(started) && started <= raisedMs ? started : raisedMs;
  } catch {
    return raisedMs;
  }
}

/** The warehouse of `device` among `ids` (lower-cased → id), or undefined. */
export function warehouseOf(device: string, store: string | null, ids: ReadonlyMap<string, string>): string | undefined {
  if (store && ids.has(store.toLowerCase())) return ids.get(store.toLowerCase());
  const d = `-${device.toLowerCase().replace(/[_:]/g, '-')}-`;
  for (const [low, id] of ids) if (d.includes(`-${low.replace(/[_:]/g, '-')}-`)) return id;
  return undefined;
}

/** Device of a `sensor.sustained` key `<rule>|<device>|<signal>`; '' when the reading named none. */
const deviceOfKey = (key: string) => key.split('|')[1] ?? '';

export async function estimateWarehouseHazards(
  store: Store,
  warehouseIds: readonly string[],
  opts: { nowMs: number; sinceMs?: number; rules?: readonly string[] },
): Promise<{ warehouses: WarehouseEstimate[]; unassignedDevices: number; shares: Map<string, number> | undefined }> {
  const ids = new Map(warehouseIds.map((w) => [w.toLowerCase(), w]));
  const devices = await store.db.selectFrom('device_state').select(['device_id', 'store', 'first_seen_ms']).execute();
  const start = new Map<string, number>();
  const ofDevice = new Map<string, string>();
  const count = new Map<string, number>();
  let unassigned = 0;
  for (const d of devices) {
    const w = warehouseOf(d.device_id, d.store, ids);
    if (w === undefined || d.first_seen_ms === null) {
      if (w === undefined) unassigned++;
      continue;
    }
    ofDevice.set(d.device_id, w);
    count.set(w, (count.get(w) ?? 0) + 1);
    const first = Math.max(Number(d.first_seen_ms), opts.sinceMs ?? Number.NEGATIVE_INFINITY);
    start.set(w, Math.min(start.get(w) ?? Number.POSITIVE_INFINITY, first));
  }
  const rows = await store.db
    .selectFrom('conditions')
    .select(['key', 'raised_ms', 'cleared_ms', 'details'])
    .where('kind', '=', 'sensor.sustained')
    .where((eb) => eb.or([eb('cleared_ms', 'is', null), eb('cleared_ms', '>=', opts.sinceMs ?? 0)]))
    .execute();
  const intervals = new Map<string, [number, number, boolean][]>();
  for (const r of rows) {
    if (opts.rules && !opts.rules.includes(r.key.split('|')[0] ?? '')) continue;
    const w = ofDevice.get(deviceOfKey(r.key));
    if (w === undefined) continue;
    const list = intervals.get(w) ?? [];
    const ended = r.cleared_ms !== null;
    list.push([failedSince(r.details, Number(r.raised_ms)), ended ? Number(r.cleared_ms) : opts.nowMs, ended]);
    intervals.set(w, list);
  }
  const lines = await store.db
    .selectFrom('stock_order_lines')
    .select(['warehouse', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
    .groupBy('warehouse')
    .execute();
  const byLines = new Map(lines.map((l) => [l.warehouse.toLowerCase(), Number(l.n)]));
  const linesTotal = warehouseIds.reduce((a, w) => a + (byLines.get(w.toLowerCase()) ?? 0), 0);
  const source = 'conditions (sensor.sustained of the warehouse’s devices)';
  const out: WarehouseEstimate[] = [];
  for (const [w, from] of start) {
    const merged: [number, number, boolean][] = [];
    for (const iv of (intervals.get(w) ?? []).sort((a, b) => a[0] - b[0])) {
      const lastIv = merged.at(-1);
      if (lastIv && iv[0] <= lastIv[1]) {
        if (iv[1] >= lastIv[1]) {
          lastIv[1] = iv[1];
          lastIv[2] = iv[2];
        }
      } else merged.push([...iv]);
    }
    let down = 0;
    let failures = 0;
    const repairs: number[] = [];
    for (const [a, b, ended] of merged) {
      const lo = Math.max(a, from);
      const hi = Math.min(b, opts.nowMs);
      if (hi > lo) down += hi - lo;
      if (a >= from && a < opts.nowMs) failures++;
      if (ended && a >= from) repairs.push((b - a) / DAY);
    }
    const exposureDays = Math.max(0, opts.nowMs - from - down) / DAY;
    out.push({
      warehouse: w,
      devices: count.get(w) ?? 0,
      failures,
      exposureDays,
      hazardPerDay: estimateHazard(failures, exposureDays, source),
      repairDays: estimateMean(repairs, source),
      share: linesTotal > 0 ? (byLines.get(w.toLowerCase()) ?? 0) / linesTotal : undefined,
    });
  }
  out.sort((a, b) => a.warehouse.localeCompare(b.warehouse));
  const shares = linesTotal > 0 ? new Map(warehouseIds.map((w) => [w, (byLines.get(w.toLowerCase()) ?? 0) / linesTotal])) : undefined;
  return { warehouses: out, unassignedDevices: unassigned, shares };
}

/**
 * Warehouses with estimated hazards: the catalogue's warehouses (else the scenario's), each from
 * the scenario warehouse of the same id (case-insensitive; a new id: blank values), with
 * `hazard_per_day` and `repair_days` estimated where its devices were observed for at least
 * `minDays`, and shares from stock order lines when any name these warehouses. Capacity loss and
 * spoilage stay assumed (override them by id). Unchanged when no warehouse qualifies.
 */
export async function withEstimatedWarehouses(
  store: Store,
  s: Scenario,
  opts: { nowMs: number; sinceMs?: number; minDays?: number; rules?: readonly string[] },
): Promise<{ scenario: Scenario; warehouses: WarehouseEstimate[]; unassignedDevices: number }> {
  const catalogue = (await store.db.selectFrom('warehouses').select('id').orderBy('id').execute()).map((r) => r.id);
  const ids = catalogue.length > 0 ? catalogue : s.warehouses.map((w) => w.id);
  const r = await estimateWarehouseHazards(store, ids, opts);
  const est = new Map(r.warehouses.filter((e) => e.exposureDays >= (opts.minDays ?? 14)).map((e) => [e.warehouse, e]));
  if (est.size === 0) return { scenario: s, warehouses: r.warehouses, unassignedDevices: r.unassignedDevices };
  const warehouses: Warehouse[] = ids.map((id) => {
    const base = structuredClone(s.warehouses.find((w) => w.id.toLowerCase() === id.toLowerCase()) ?? blankWarehouse(id));
    const e = est.get(id);
    const share = r.shares ? (r.shares.get(id) ?? 0) : base.share;
    const param = (x: Estimated) => ({ value: x.value, sd: x.sd, source: x.source, n: x.n });
    return {
      ...base,
      id,
      share,
      ...(e ? { hazardPerDay: param(e.hazardPerDay), ...(e.repairDays.n > 0 ? { repairDays: param(e.repairDays) } : {}) } : {}),
    };
  });
  // Shares from stock order lines can all be 0 (no lines for these ids): keep the warehouses usable.
  if (warehouses.every((w) => w.share <= 0)) for (const w of warehouses) w.share = 1;
  // A failure shock follows its warehouse across a change of case (`de-ham-1` → `DE-HAM-1`); one naming none is dropped.
  const kept = new Map(warehouses.map((w) => [w.id.toLowerCase(), w.id]));
  const shocks = s.shocks.flatMap((sh) => {
    if (sh.kind !== 'warehouse_failure') return [sh];
    const id = kept.get((sh.target[0] ?? '').toLowerCase());
    return id === undefined ? [] : [{ ...sh, target: [id] }];
  });
  return { scenario: { ...s, warehouses, shocks }, warehouses: r.warehouses, unassignedDevices: r.unassignedDevices };
}
