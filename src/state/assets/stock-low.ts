/**
 * The `stock.low` detector. After the stock projection folded a batch, for every SKU × warehouse
 * a live (non-history) input touched, it compares `available` and `days_of_cover` with the
 * thresholds (settings by SKU > catalogue `attributes.reorder_point` > category > warehouse >
 * defaults):
 * - not in a low episode and available < reorder point, or days of cover < threshold →
 *   `stock.low` for episode `low_raised + 1`;
 * - in a low episode and back at or above threshold × `clear_factor` on both →
 *   `stock.replenished` for that episode.
 * The ids are `deterministicId(type, sku, warehouse, episode)`: until the projection folds the
 * event, a re-evaluation derives the same id and the log dedupes it, so one event per episode.
 * Rows whose on-hand is unknown (no sensor yet) are not judged. No timers: stock only moves
 * with events.
 */

import { getProducts } from '../../catalog/index.ts';
import { deterministicId } from '../../core/index.ts';
import { type ConditionRule, type DecideContext, type Detector, derivedEvent, detectorSource, emit } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type StockLowSettings, type StockSettings, stockThresholds } from './settings.ts';
import {
  isStockInput,
  num,
  parseStockKey,
  STOCK_LOW,
  STOCK_REPLENISHED,
  stockKey,
  stockOrderOf,
  stockReadingOf,
  stockShipmentOf,
  text,
} from './stock-inputs.ts';
import { type StockLevel, stockLevelOf } from './stock-read.ts';

export const STOCK_LOW_DETECTOR = 'stock-low';

const keyOf = (e: CloudEvent): string | undefined => {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const sku = text(d.sku);
  const warehouse = text(d.warehouse);
  return sku !== undefined && warehouse !== undefined ? `${sku}@${warehouse}` : undefined;
};

export const STOCK_LOW_CONDITIONS: readonly ConditionRule[] = [
  {
    type: STOCK_LOW,
    action: 'raise',
    kind: STOCK_LOW,
    key: keyOf,
    severity: (e) => ((num((e.data as Record<string, unknown>).available) ?? 1) <= 0 ? 'critical' : 'warning'),
    summary: (e) => {
      const d = e.data as Record<string, unknown>;
      const parts = [`${num(d.available) ?? '?'} available`];
      if (num(d.reorder_point) !== undefined) parts.push(`reorder point ${num(d.reorder_point)}`);
      if (num(d.days_of_cover) !== undefined) parts.push(`${num(d.days_of_cover)} days of cover`);
      return `${text(d.sku)} low in ${text(d.warehouse)}: ${parts.join(', ')}`;
    },
  },
  { type: STOCK_REPLENISHED, action: 'clear', kind: STOCK_LOW, key: keyOf },
];

export function createStockLowDetector(ctx: DecideContext, stock: StockSettings, low: StockLowSettings): Detector {
  const db = ctx.store.db;

  /** SKU × warehouse pairs the live events of a batch touched, with the newest event touching each. */
  const touchedBy = async (batch: readonly { event: CloudEvent; history: boolean }[]): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    const releases: { orderId: string; skus: string[]; eventId: string }[] = [];
    for (const { event: e, history } of batch) {
      if (history || !isStockInput(e)) continue;
      const r = stockReadingOf(e, stock);
      if (r) out.set(stockKey(r.sku, r.warehouse), e.id);
      for (const l of stockOrderOf(e, stock)?.lines ?? []) out.set(stockKey(l.sku, l.warehouse), e.id);
      const sh = stockShipmentOf(e);
      if (sh) {
        for (const l of sh.lines) out.set(stockKey(l.sku, sh.warehouse), e.id);
        if (sh.orderId !== undefined) releases.push({ orderId: sh.orderId, skus: sh.lines.map((l) => l.sku), eventId: e.id });
      }
    }
    for (const rel of releases) {
      if (rel.skus.length === 0) continue;
      const lines = await db
        .selectFrom('stock_order_lines')
        .select(['sku', 'warehouse'])
        .where('order_id', '=', rel.orderId)
        .where('sku', 'in', rel.skus)
        .execute();
      for (const l of lines) out.set(stockKey(l.sku, l.warehouse), rel.eventId);
    }
    return out;
  };

  return {
    name: STOCK_LOW_DETECTOR,
    conditions: STOCK_LOW_CONDITIONS,
    async onEvents(batch) {
      const touched = await touchedBy(batch);
      if (touched.size === 0) return;
      const keys = [...touched.keys()].map(parseStockKey);
      const skus = [...new Set(keys.map((k) => k.sku))];
      const products = await getProducts(db, skus);
      const levels = new Map<string, StockLevel>();
      for (let i = 0; i < skus.length; i += 500)
        for (const row of await db
          .selectFrom('stock_levels')
          .selectAll()
          .where('sku', 'in', skus.slice(i, i + 500))
          .execute())
          levels.set(stockKey(row.sku, row.warehouse), stockLevelOf(row));
      const out: CloudEvent[] = [];
      for (const { sku, warehouse } of keys) {
        const level = levels.get(stockKey(sku, warehouse));
        if (!level || level.available === null) continue;
        const product = products.get(sku);
        const t = stockThresholds(low, sku, warehouse, product?.category ?? level.category, num(product?.attributes.reorder_point));
        const cause = touched.get(stockKey(sku, warehouse)) as string;
        const verdict = judge(level, t, low.clearFactor);
        if (!level.low && verdict.low) out.push(lowEvent(ctx, STOCK_LOW, level, t, level.lowEpisodes + 1, cause, verdict.reasons));
        else if (level.low && verdict.clear) out.push(lowEvent(ctx, STOCK_REPLENISHED, level, t, level.lowEpisodes, cause, []));
      }
      await emit(ctx.log, ctx.clock, out);
    },
  };
}

interface Thresholds {
  reorderPoint: number | undefined;
  daysOfCover: number | undefined;
}

/** Low: under either threshold. Clear: at or above threshold × factor on every threshold that applies. */
export function judge(level: StockLevel, t: Thresholds, clearFactor: number): { low: boolean; clear: boolean; reasons: string[] } {
  const available = level.available ?? 0;
  const reasons: string[] = [];
  if (t.reorderPoint !== undefined && available < t.reorderPoint) reasons.push('reorder_point');
  if (t.daysOfCover !== undefined && level.daysOfCover !== null && level.daysOfCover < t.daysOfCover) reasons.push('days_of_cover');
  const clear =
    available > 0 &&
    (t.reorderPoint === undefined || available >= t.reorderPoint * clearFactor) &&
    (t.daysOfCover === undefined || level.daysOfCover === null || level.daysOfCover >= t.daysOfCover * clearFactor);
  return { low: reasons.length > 0, clear, reasons };
}

function lowEvent(
  ctx: DecideContext,
  type: string,
  level: StockLevel,
  t: Thresholds,
  episode: number,
  cause: string,
  reasons: string[],
): CloudEvent {
  return derivedEvent(ctx.clock, {
    type,
    id: deterministicId(`pitwall.${type}`, level.sku, level.warehouse, episode),
    source: detectorSource(STOCK_LOW_DETECTOR),
    subject: level.sku,
    data: {
      sku: level.sku,
      warehouse: level.warehouse,
      on_hand: level.onHand,
      reserved: level.reserved,
      available: level.available,
      ...(t.reorderPoint !== undefined ? { reorder_point: t.reorderPoint } : {}),
      ...(level.daysOfCover !== null ? { days_of_cover: level.daysOfCover } : {}),
      ...(t.daysOfCover !== undefined ? { cover_threshold_days: t.daysOfCover } : {}),
      ...(level.dailyDepletion !== null ? { daily_depletion: level.dailyDepletion } : {}),
      ...(reasons.length > 0 ? { reasons } : {}),
      episode,
    },
    causedBy: [cause],
  });
}
