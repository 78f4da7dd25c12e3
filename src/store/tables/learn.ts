/** Table shapes for Learn's daily rollups and facts (src/learn). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/** Funnel counts per UTC day and dimensions (additive: any grouping is a SUM over these rows). */
export interface LearnFunnelDailyTable {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  store: string;
  category: string;
  device: string;
  segment: string;
  views: Int64;
  adds: Int64;
  checkouts: Int64;
  orders: Int64;
  abandoned: Int64;
  revenue: number;
}

/** One order (deduped by `order_id`); `lines` is JSON `[{sku, quantity, price}]`. */
export interface LearnOrdersTable {
  order_id: string;
  /** The event's userid, else anonymousid, as sent (resolved to the canonical customer at query time). */
  customer_ref: string | null;
  time_ms: Int64;
  store: string;
  revenue: number;
  lines: string;
}

/** One survey answer set as Learn reads it (`question_id` conventions: `csat`, `nps`, `reason`). */
export interface LearnSurveysTable {
  /** The event's source + id. */
  key: string;
  survey_id: string;
  customer_ref: string | null;
  placement: string;
  time_ms: Int64;
  csat: number | null;
  nps: number | null;
  reason: string | null;
  /** 1 when the IoT context at answer time named a delayed shipment, 0 when it named none, null without context. */
  delayed: number | null;
}

/** The latest `segment` trait per id, from `customer.identified` (Learn keeps its own so it never reads ahead of Decide). */
export interface LearnSegmentsTable {
  id: string;
  segment: string;
}

/**
 * How far Learn folded (`learn`: the log position, written in the same transaction as the rollups so a
 * replayed batch counts once) and `seen:<domain>` rows whose `seq` is when a live event of that domain last arrived (ms).
 */
export interface LearnProgressTable {
  name: string;
  seq: Int64;
}

/**
 * Refunded orders (`commerce.order_refunded`), one row per order: the first refund's time, the
 * amounts of all its refunds, and the lines it named (JSON `[{sku, price, quantity}]`; empty: the
 * whole order).
 */
export interface LearnRefundsTable {
  order_id: string;
  time_ms: Int64;
  amount: number | null;
  lines: string;
}

/**
 * A product view that says which delivery promise it showed (`properties.promise_days` on
 * `commerce.product_viewed`, days to the promised date), by a known customer or anonymous id: Plan
 * fits how conversion falls with the promise from these and the orders that followed.
 */
export interface LearnPromiseViewsTable {
  /** The event's source + id. */
  key: string;
  customer_ref: string;
  sku: string;
  time_ms: Int64;
  promise_days: number;
}

export interface LearnTables {
  learn_funnel_daily: LearnFunnelDailyTable;
  learn_orders: LearnOrdersTable;
  learn_refunds: LearnRefundsTable;
  learn_promise_views: LearnPromiseViewsTable;
  learn_surveys: LearnSurveysTable;
  learn_segments: LearnSegmentsTable;
  learn_progress: LearnProgressTable;
}
