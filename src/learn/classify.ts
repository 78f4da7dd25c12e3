/** Pure readers: which funnel stage an event is, and its dimensions (store, category, device). */
import type { CloudEvent } from '../events/index.ts';

export type Stage = 'views' | 'adds' | 'checkouts' | 'orders' | 'abandoned';

const STAGES: Readonly<Record<string, Stage>> = {
  'commerce.product_viewed': 'views',
  'commerce.product_added': 'adds',
  'commerce.checkout_started': 'checkouts',
  'commerce.order_completed': 'orders',
  'cart.abandoned': 'abandoned',
};

/** The event types Learn folds. */
export const LEARN_TYPES: ReadonlySet<string> = new Set([
  ...Object.keys(STAGES),
  'survey.response',
  'customer.identified',
  'commerce.order_refunded',
]);

export const UNKNOWN = 'unknown';

export function stageOf(type: string): Stage | undefined {
  return STAGES[type];
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function dataOf(e: CloudEvent): Record<string, unknown> {
  return obj(e.data) ?? {};
}

export function propertiesOf(e: CloudEvent): Record<string, unknown> {
  const d = dataOf(e);
  return obj(d.properties) ?? {};
}

/** The customer reference as sent: userid, else anonymousid. */
export function customerRef(e: CloudEvent): string | undefined {
  return str(e.userid) ?? str(e.anonymousid) ?? str(e.subject);
}

export function storeOf(e: CloudEvent): string {
  return str(e.store) ?? 'default';
}

/** An event's category: its product's, or for an order / checkout its first product's (one event counts once). */
export function categoryOf(e: CloudEvent): string {
  const p = propertiesOf(e);
  const own = str(p.category);
  if (own) return own;
  const products = Array.isArray(p.products) ? p.products : [];
  for (const item of products) {
    const c = str(obj(item)?.category);
    if (c) return c;
  }
  return UNKNOWN;
}

/** `mobile` | `tablet` | `desktop` from Segment `context.device.type`, else the user agent; `unknown` without either. */
export function deviceOf(e: CloudEvent): string {
  const ctx = obj(dataOf(e).context);
  const type = str(obj(ctx?.device)?.type)?.toLowerCase();
  if (type) {
    if (type === 'ios' || type === 'android' || type === 'mobile' || type === 'phone') return 'mobile';
    if (type === 'tablet' || type === 'desktop') return type;
  }
  const ua = str(ctx?.userAgent);
  if (!ua) return UNKNOWN;
  if (/iPad|Tablet/i.test(ua)) return 'tablet';
  if (/Mobi|Android|iPhone/i.test(ua)) return 'mobile';
  return 'desktop';
}

/** A segment the event states itself (`context.traits.segment`); otherwise Learn's segment table answers. */
export function statedSegment(e: CloudEvent): string | undefined {
  const d = dataOf(e);
  return str(obj(d.traits)?.segment) ?? str(obj(obj(d.context)?.traits)?.segment);
}

export interface OrderLine {
  sku: string;
  quantity: number;
  price: number;
}

export interface OrderFact {
  orderId: string;
  revenue: number;
  lines: OrderLine[];
}

/** An order's id, revenue (`revenue`, else `total`, else Σ price × quantity of its products) and lines. */
/** Segment's `properties.products`: each with a SKU (`sku`, else `product_id`), its price when given, quantity 1 unless given. */
function productLines(p: Record<string, unknown>): { sku: string; price: number | undefined; quantity: number }[] {
  const lines: { sku: string; price: number | undefined; quantity: number }[] = [];
  for (const item of Array.isArray(p.products) ? p.products : []) {
    const o = obj(item);
    const sku = str(o?.sku) ?? str(o?.product_id);
    if (sku) lines.push({ sku, price: num(o?.price), quantity: num(o?.quantity) ?? 1 });
  }
  return lines;
}

export function orderOf(e: CloudEvent): OrderFact | undefined {
  const p = propertiesOf(e);
  const orderId = str(p.order_id);
  if (!orderId) return undefined;
  // An order's lines need a price (its revenue adds them up).
  const lines = productLines(p).filter((l): l is OrderLine => l.price !== undefined);
  const revenue = num(p.revenue) ?? num(p.total) ?? lines.reduce((s, l) => s + l.price * l.quantity, 0);
  return { orderId, revenue, lines };
}

/** A product view's SKU and the delivery promise it showed (`properties.promise_days`, 0–60 days), when it says. */
export function promiseViewOf(e: CloudEvent): { sku: string; promiseDays: number } | undefined {
  if (e.type !== 'commerce.product_viewed') return undefined;
  const p = propertiesOf(e);
  const days = num(p.promise_days);
  const sku = str(p.sku) ?? str(p.product_id);
  if (days === undefined || !sku || !(days >= 0 && days <= 60)) return undefined;
  return { sku, promiseDays: days };
}

export interface RefundFact {
  orderId: string;
  /** The amount refunded when the event says (`properties.total`, `revenue` or `value`). */
  amount: number | undefined;
  /** The lines refunded, when the event names products (Segment's `products`); empty: the whole order. */
  lines: OrderLine[];
}

/** A Segment "Order Refunded" (`commerce.order_refunded`): its order, amount and the products it names. */
export function refundOf(e: CloudEvent): RefundFact | undefined {
  const p = propertiesOf(e);
  const orderId = str(p.order_id);
  if (!orderId) return undefined;
  const lines = productLines(p).map((l) => ({ ...l, price: l.price ?? 0 }));
  return { orderId, amount: num(p.total) ?? num(p.revenue) ?? num(p.value), lines };
}

export interface SurveyFact {
  surveyId: string;
  placement: string;
  csat: number | undefined;
  nps: number | undefined;
  reason: string | undefined;
  delayed: boolean | undefined;
}

/** A `survey.response` by the question-id conventions: `csat` (1–5), `nps` (0–10), `reason` (a choice). */
export function surveyOf(e: CloudEvent): SurveyFact | undefined {
  const d = dataOf(e);
  const surveyId = str(d.survey_id);
  if (!surveyId || !Array.isArray(d.answers)) return undefined;
  let csat: number | undefined;
  let nps: number | undefined;
  let reason: string | undefined;
  for (const a of d.answers) {
    const o = obj(a);
    const q = str(o?.question_id);
    const v = o?.value;
    if (q === 'csat' && num(v) !== undefined && (v as number) >= 1 && (v as number) <= 5) csat = v as number;
    else if (q === 'nps' && num(v) !== undefined && (v as number) >= 0 && (v as number) <= 10) nps = v as number;
    else if (q === 'reason') reason = str(v) ?? (Array.isArray(v) ? str(v[0]) : undefined);
  }
  const ds = obj(d.context)?.delayed_shipments;
  return {
    surveyId,
    placement: str(d.placement) ?? UNKNOWN,
    csat,
    nps,
    reason,
    delayed: Array.isArray(ds) ? ds.length > 0 : undefined,
  };
}

/** `YYYY-MM-DD` (UTC) of epoch ms. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
