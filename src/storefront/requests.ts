/** Decide request bodies: checked by hand so any JSON gives a 200 or a 400 with a pointer, never a 5xx. */
import { AppError } from '../core/index.ts';

export interface CustomerRef {
  userId?: string;
  /** `hex(HMAC-SHA256(store identity secret, userId))`: proves `userId` for a publishable key (ADR 0018). */
  userHash?: string;
  anonymousId?: string;
}

export interface ProductRequest {
  skus: string[];
  customer?: CustomerRef;
  region?: string;
  postalCode?: string;
  store?: string;
  placement?: 'page' | 'exit_intent' | 'post_purchase';
  page?: { url?: string; type?: string };
}

export interface CheckoutRequest {
  cartId: string;
  customer?: CustomerRef;
  region?: string;
  postalCode?: string;
  store?: string;
}

type Obj = Record<string, unknown>;
const bad = (message: string, pointer: string) => new AppError('PW_DECIDE_INVALID', message, { pointer });

function object(v: unknown, pointer: string, example: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v))
    throw bad(`expected a JSON object like ${example}`, pointer);
  return v as Obj;
}

function onlyKnown(o: Obj, known: readonly string[], pointer: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw bad(`unknown field "${k}" (known: ${known.join(', ')})`, `${pointer}/${k}`);
}

function optString(o: Obj, k: string, pointer: string, max = 200): string | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > max)
    throw bad(`${k} must be a non-empty string of at most ${max} characters`, `${pointer}/${k}`);
  return v;
}

function customer(v: unknown): CustomerRef | undefined {
  if (v === undefined) return undefined;
  const o = object(v, '/customer', '{"userId": "u_1"} or {"anonymousId": "…"}');
  onlyKnown(o, ['userId', 'userHash', 'anonymousId'], '/customer');
  const userId = optString(o, 'userId', '/customer');
  const userHash = optString(o, 'userHash', '/customer', 128);
  const anonymousId = optString(o, 'anonymousId', '/customer');
  return {
    ...(userId !== undefined ? { userId } : {}),
    ...(userHash !== undefined ? { userHash } : {}),
    ...(anonymousId !== undefined ? { anonymousId } : {}),
  };
}

function common(o: Obj) {
  const region = optString(o, 'region', '', 50);
  const postalCode = optString(o, 'postalCode', '', 20);
  const store = optString(o, 'store', '', 100);
  const c = customer(o.customer);
  return {
    ...(c !== undefined ? { customer: c } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(postalCode !== undefined ? { postalCode } : {}),
    ...(store !== undefined ? { store } : {}),
  };
}

export function parseProductRequest(body: unknown): ProductRequest {
  const o = object(body, '', '{"skus": ["BRK-1001"]}');
  onlyKnown(o, ['skus', 'customer', 'region', 'postalCode', 'store', 'placement', 'page'], '');
  if (!Array.isArray(o.skus) || o.skus.length < 1 || o.skus.length > 50) throw bad('skus must be a list of 1–50 SKUs', '/skus');
  const skus = o.skus.map((s, i) => {
    if (typeof s !== 'string' || s.trim() === '' || s.length > 100)
      throw bad('a SKU is a non-empty string of at most 100 characters', `/skus/${i}`);
    return s;
  });
  let placement: ProductRequest['placement'];
  if (o.placement !== undefined) {
    if (o.placement !== 'page' && o.placement !== 'exit_intent' && o.placement !== 'post_purchase')
      throw bad('placement must be page, exit_intent or post_purchase', '/placement');
    placement = o.placement;
  }
  let page: ProductRequest['page'];
  if (o.page !== undefined) {
    const p = object(o.page, '/page', '{"url": "…", "type": "product"}');
    onlyKnown(p, ['url', 'type'], '/page');
    const url = optString(p, 'url', '/page', 2000);
    const type = optString(p, 'type', '/page', 50);
    page = { ...(url !== undefined ? { url } : {}), ...(type !== undefined ? { type } : {}) };
  }
  return { skus: [...new Set(skus)], ...common(o), ...(placement ? { placement } : {}), ...(page ? { page } : {}) };
}

export function parseCheckoutRequest(body: unknown): CheckoutRequest {
  const o = object(body, '', '{"cartId": "cart_1"}');
  onlyKnown(o, ['cartId', 'customer', 'region', 'postalCode', 'store'], '');
  const cartId = optString(o, 'cartId', '', 200);
  if (cartId === undefined) throw bad('cartId is required', '/cartId');
  return { cartId, ...common(o) };
}
