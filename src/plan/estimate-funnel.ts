/**
 * How a longer delivery promise lowers conversion, from Pitwall's own funnel: product views that
 * say which promise they showed (`learn_promise_views`, from `properties.promise_days` on
 * `commerce.product_viewed`) and whether the same shopper ordered that SKU within `windowDays`
 * (`learn_orders`). Views are grouped by promised days (buckets of `bucketDays`) and the planner's
 * penalty is fitted on them: orders ~ Poisson(views · exp(a − β · days)) (`estimatePromisePenalty`).
 */
import type { Store } from '../store/index.ts';
import { type Estimated, estimatePromisePenalty, type FunnelCell } from './estimate.ts';
import type { Scenario } from './types.ts';

const DAY = 86_400_000;
const CHUNK = 500;

export interface PromiseFunnelOptions {
  nowMs: number;
  /** An order of the viewed SKU by the same shopper within this many days converts the view (default 3). */
  windowDays?: number;
  /** Width of a promise bucket in days (default 0.25). */
  bucketDays?: number;
  sinceMs?: number;
}

export interface PromiseEstimate {
  /** β: conversion falls by the factor exp(−β) per extra promised day. */
  penalty: Estimated;
  /** The buckets fitted: promised days, views, views that converted. */
  cells: FunnelCell[];
}

/**
 * Views (old enough for their window to have ended) by promise bucket, with how many converted.
 * A view converts when its shopper (the event's user id, else anonymous id, as sent) ordered its
 * SKU from the view to `windowDays` after it.
 */
export async function promiseFunnelCells(store: Store, opts: PromiseFunnelOptions): Promise<FunnelCell[]> {
  const windowMs = (opts.windowDays ?? 3) * DAY;
  const bucket = opts.bucketDays ?? 0.25;
  let q = store.db
    .selectFrom('learn_promise_views')
    .select(['customer_ref', 'sku', 'time_ms', 'promise_days'])
    .where('time_ms', '<=', opts.nowMs - windowMs);
  if (opts.sinceMs !== undefined) q = q.where('time_ms', '>=', opts.sinceMs);
  const views = await q.execute();
  if (views.length === 0) return [];
  const first = Math.min(...views.map((v) => Number(v.time_ms)));
  const refs = [...new Set(views.map((v) => v.customer_ref))];
  const orders = new Map<string, { timeMs: number; skus: Set<string> }[]>();
  for (let i = 0; i < refs.length; i += CHUNK) {
    const rows = await store.db
      .selectFrom('learn_orders')
      .select(['customer_ref', 'time_ms', 'lines'])
      .where('customer_ref', 'in', refs.slice(i, i + CHUNK))
      .where('time_ms', '>=', first)
      .execute();
    for (const r of rows) {
      if (r.customer_ref === null) continue;
      let skus: Set<string>;
      try {
        const lines = JSON.parse(r.lines) as { sku?: unknown }[];
        skus = new Set(Array.isArray(lines) ? lines.flatMap((l) => (typeof l?.sku === 'string' ? [l.sku] : [])) : []);
      } catch {
        skus = new Set();
      }
      const list = orders.get(r.customer_ref) ?? [];
      list.push({ timeMs: Number(r.time_ms), skus });
      orders.set(r.customer_ref, list);
    }
  }
  const cells = new Map<number, FunnelCell>();
  for (const v of views) {
    const t = Number(v.time_ms);
    const converted = (orders.get(v.customer_ref) ?? []).some((o) => o.timeMs >= t && o.timeMs <= t + windowMs && o.skus.has(v.sku));
    const days = Math.round(v.promise_days / bucket) * bucket;
    const c = cells.get(days) ?? { promiseDays: days, sessions: 0, orders: 0 };
    c.sessions++;
    if (converted) c.orders++;
    cells.set(days, c);
  }
  return [...cells.values()].sort((a, b) => a.promiseDays - b.promiseDays);
}

/** The fitted penalty, or undefined without views or with a single promise bucket (no slope to fit). */
export async function estimatePromiseFunnel(store: Store, opts: PromiseFunnelOptions): Promise<PromiseEstimate | undefined> {
  const cells = await promiseFunnelCells(store, opts);
  if (cells.length < 2) return undefined;
  const source = `learn_promise_views × learn_orders (views by promised days, converted within ${opts.windowDays ?? 3} days)`;
  return { penalty: estimatePromisePenalty(cells, source), cells };
}

/**
 * Sets `promise_penalty_per_day` from the funnel when at least `minViews` (default 200) views
 * count; a fitted slope below zero (conversion rising with the promise) is set as 0 — the model's
 * lower bound — and reported as fitted.
 */
export async function withEstimatedPromisePenalty(
  store: Store,
  s: Scenario,
  opts: PromiseFunnelOptions & { minViews?: number },
): Promise<{ scenario: Scenario; promise: PromiseEstimate | undefined }> {
  const promise = await estimatePromiseFunnel(store, opts);
  if (!promise || promise.penalty.n < (opts.minViews ?? 200)) return { scenario: s, promise };
  const e = promise.penalty;
  return { scenario: { ...s, promisePenaltyPerDay: { value: Math.max(0, e.value), sd: e.sd, source: e.source, n: e.n } }, promise };
}
