/**
 * Recomputing `stock_levels` rows from the input tables (rules: stock.ts). Every figure is a
 * function of the stored inputs, summed in a fixed order and rounded, so any arrival order of the
 * events gives the same row.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import type { StockSettings } from './settings.ts';
import { parseStockKey, stockKey } from './stock-inputs.ts';

type LevelRow = Selectable<Database['stock_levels']>;
type ReadingRow = Selectable<Database['stock_readings']>;

const DAY = 86_400_000;
const CHUNK = 400;

/** What a batch did to one SKU × warehouse. */
export interface Touch {
  seq: number;
  firstMs: number | undefined;
  latestMs: number | undefined;
  raised: { episode: number; atMs: number } | undefined;
  cleared: number | undefined;
}

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

export /** Rounds away float noise, so sums in any order compare equal. */
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Recomputes `stock_levels` for the touched SKU × warehouse pairs from the input tables. */
export async function recomputeLevels(db: Db, touched: ReadonlyMap<string, Touch>, s: StockSettings): Promise<void> {
  const byKey = [...touched.entries()].sort(([a], [b]) => a.localeCompare(b));
  for (const part of chunks(byKey)) {
    const keys = part.map(([k]) => parseStockKey(k));
    const skus = [...new Set(keys.map((k) => k.sku))];
    const group = <R extends { sku: string; warehouse: string }>(rows: readonly R[]) => {
      const m = new Map<string, R[]>();
      for (const r of rows) {
        const k = stockKey(r.sku, r.warehouse);
        const list = m.get(k);
        if (list) list.push(r);
        else m.set(k, [r]);
      }
      return m;
    };
    const levels = new Map(
      (await db.selectFrom('stock_levels').selectAll().where('sku', 'in', skus).execute()).map((r) => [stockKey(r.sku, r.warehouse), r]),
    );
    const sensorRows = group(await db.selectFrom('stock_sensors').selectAll().where('sku', 'in', skus).execute());

    // Each row's window ends at its newest input; load from the earliest start any row needs.
    const spans = new Map<string, { firstMs: number; latestMs: number; windowStart: number; asOf: number | undefined }>();
    for (const [key, t] of part) {
      const cur = levels.get(key);
      const latestMs = Math.max(t.latestMs ?? Number.NEGATIVE_INFINITY, cur ? Number(cur.latest_ms) : Number.NEGATIVE_INFINITY);
      const firstMs = Math.min(t.firstMs ?? Number.POSITIVE_INFINITY, cur ? Number(cur.first_ms) : Number.POSITIVE_INFINITY);
      const asOfs = (sensorRows.get(key) ?? []).map((r) => Number(r.time_ms));
      spans.set(key, {
        firstMs: Number.isFinite(firstMs) ? firstMs : 0,
        latestMs: Number.isFinite(latestMs) ? latestMs : 0,
        windowStart: (Number.isFinite(latestMs) ? latestMs : 0) - s.windowMs,
        asOf: asOfs.length > 0 ? Math.max(...asOfs) : undefined,
      });
    }
    const all = [...spans.values()];
    const windowFrom = Math.min(...all.map((x) => x.windowStart));
    const pickFrom = Math.min(windowFrom, ...all.map((x) => x.asOf ?? Number.POSITIVE_INFINITY));
    const lineFrom = s.reservationHoldMs > 0 ? Math.min(windowFrom, ...all.map((x) => x.latestMs - s.reservationHoldMs)) : windowFrom;
    const lines = group(
      await db
        .selectFrom('stock_order_lines')
        .selectAll()
        .where('sku', 'in', skus)
        .where((eb) =>
          s.reservationHoldMs > 0
            ? eb('time_ms', '>=', lineFrom)
            : eb.or([eb('time_ms', '>=', lineFrom), eb('quantity', '>', eb.ref('shipped'))]),
        )
        .execute(),
    );
    const pickRows = group(
      await db.selectFrom('stock_picks').selectAll().where('sku', 'in', skus).where('time_ms', '>=', pickFrom).execute(),
    );
    const readings = group(
      await db
        .selectFrom('stock_readings')
        .selectAll()
        .where('sku', 'in', skus)
        .where('bucket_ms', '>=', windowFrom - s.readingBucketMs)
        .execute(),
    );

    const rows: LevelRow[] = [];
    for (const [key, t] of part) {
      const { sku, warehouse } = parseStockKey(key);
      const span = spans.get(key) as { firstMs: number; latestMs: number; windowStart: number; asOf: number | undefined };
      const cur = levels.get(key);
      if (!cur && t.latestMs === undefined) continue; // a decision about a row that holds nothing (yet)
      const inWindow = (ms: number) => ms >= span.windowStart && ms <= span.latestMs;
      const sortById = <R extends { event_id: string }>(xs: readonly R[]) => [...xs].sort((a, b) => a.event_id.localeCompare(b.event_id));

      const sensorsHere = sensorRows.get(key) ?? [];
      const picksHere = sortById(pickRows.get(key) ?? []);
      const linesHere = [...(lines.get(key) ?? [])].sort((a, b) => a.order_id.localeCompare(b.order_id));
      let onHand: number | null = null;
      if (span.asOf !== undefined) {
        const measured = sensorsHere.reduce((sum, r) => sum + r.quantity, 0);
        const pickedSince = picksHere.filter((p) => Number(p.time_ms) > (span.asOf as number)).reduce((sum, p) => sum + p.quantity, 0);
        onHand = round(Math.max(0, measured - pickedSince));
      }
      const reserved = round(
        linesHere
          .filter((l) => s.reservationHoldMs === 0 || Number(l.time_ms) >= span.latestMs - s.reservationHoldMs)
          .reduce((sum, l) => sum + Math.max(0, l.quantity - l.shipped), 0),
      );
      const available = onHand === null ? null : round(onHand - reserved);

      const days = Math.min(Math.max((span.latestMs - span.firstMs) / DAY, 1), s.windowMs / DAY);
      const ordered = linesHere.filter((l) => inWindow(Number(l.time_ms))).reduce((sum, l) => sum + l.quantity, 0);
      const picked = picksHere.filter((p) => inWindow(Number(p.time_ms))).reduce((sum, p) => sum + p.quantity, 0);
      const rates: [string, number][] = [
        ['orders', ordered / days],
        ['shipments', picked / days],
        ['readings', consumption(readings.get(key) ?? [], span.windowStart, span.latestMs) / days],
      ];
      const [basis, rate] = rates.reduce((best, r) => (r[1] > best[1] ? r : best));
      const depletion = rate > 0 ? round(rate) : null;
      const daysOfCover = available === null ? null : available <= 0 ? 0 : depletion === null ? null : round(available / depletion);
      const category =
        [...linesHere]
          .filter((l) => l.category !== null)
          .sort((a, b) => Number(b.time_ms) - Number(a.time_ms) || b.event_id.localeCompare(a.event_id))[0]?.category ??
        cur?.category ??
        null;

      const lowRaised = Math.max(cur?.low_raised ?? 0, t.raised?.episode ?? 0);
      const raisedNow = t.raised !== undefined && t.raised.episode > (cur?.low_raised ?? 0);
      rows.push({
        sku,
        warehouse,
        category,
        on_hand: onHand,
        reading_ms: span.asOf ?? null,
        reserved,
        available,
        daily_depletion: depletion,
        depletion_basis: depletion === null ? null : basis,
        days_of_cover: daysOfCover,
        first_ms: span.firstMs,
        latest_ms: span.latestMs,
        low_raised: lowRaised,
        low_cleared: Math.max(cur?.low_cleared ?? 0, t.cleared ?? 0),
        low_since_ms: raisedNow && t.raised ? t.raised.atMs : (cur?.low_since_ms ?? null),
        updated_seq: Math.max(t.seq, cur ? Number(cur.updated_seq) : 0),
      });
    }
    if (rows.length === 0) continue;
    await db
      .insertInto('stock_levels')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['sku', 'warehouse']).doUpdateSet((eb) => ({
          category: eb.ref('excluded.category'),
          on_hand: eb.ref('excluded.on_hand'),
          reading_ms: eb.ref('excluded.reading_ms'),
          reserved: eb.ref('excluded.reserved'),
          available: eb.ref('excluded.available'),
          daily_depletion: eb.ref('excluded.daily_depletion'),
          depletion_basis: eb.ref('excluded.depletion_basis'),
          days_of_cover: eb.ref('excluded.days_of_cover'),
          first_ms: eb.ref('excluded.first_ms'),
          latest_ms: eb.ref('excluded.latest_ms'),
          low_raised: eb.ref('excluded.low_raised'),
          low_cleared: eb.ref('excluded.low_cleared'),
          low_since_ms: eb.ref('excluded.low_since_ms'),
          updated_seq: eb.ref('excluded.updated_seq'),
        })),
      )
      .execute();
    // Reading history before a row's window is no longer needed (its window only moves forward).
    await db
      .deleteFrom('stock_readings')
      .where((eb) =>
        eb.or(
          part.map(([key]) => {
            const { sku, warehouse } = parseStockKey(key);
            const from = (spans.get(key)?.windowStart ?? 0) - s.readingBucketMs;
            return eb.and([eb('sku', '=', sku), eb('warehouse', '=', warehouse), eb('bucket_ms', '<', from)]);
          }),
        ),
      )
      .execute();
  }
}

/** Σ decreases between consecutive buckets of each sensor inside [from, to]; increases (restocking) are ignored. */
function consumption(rows: readonly ReadingRow[], from: number, to: number): number {
  const bySensor = new Map<string, ReadingRow[]>();
  for (const r of rows) {
    if (Number(r.time_ms) < from || Number(r.time_ms) > to) continue;
    const list = bySensor.get(r.sensor);
    if (list) list.push(r);
    else bySensor.set(r.sensor, [r]);
  }
  let total = 0;
  for (const sensor of [...bySensor.keys()].sort()) {
    const series = (bySensor.get(sensor) ?? []).sort((a, b) => Number(a.bucket_ms) - Number(b.bucket_ms));
    for (let i = 1; i < series.length; i++) {
      const drop = (series[i - 1] as ReadingRow).quantity - (series[i] as ReadingRow).quantity;
      if (drop > 0) total += drop;
    }
  }
  return total;
}
