/**
 * Storefront directives: what `survey.show`, `checkout.offer` and `storefront.message` leave for
 * the Storefront issue's decision API to serve. A directive is a row keyed by the action key
 * (so a retry writes nothing new), scoped by customer, cart, SKU and/or region, with an expiry
 * counted from when the action was created.
 *
 * Matching: a directive applies to a page view when every scope it names matches the view's
 * (a directive for SKU X and region EU shows only on X's page for an EU visitor); a scope it
 * leaves empty matches anything. `consumeDirective` marks a one-shot directive (a survey) used.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { Database } from '../store/index.ts';
import { NonRetriableError } from './errors.ts';
import { type Check, duration, type Field, num, oneOf, parseDuration, requireValid, str, validate } from './params.ts';
import type { ActionExecutor, ClaimedAction, ExecutorContext } from './types.ts';

export const DIRECTIVE_TYPES = ['survey.show', 'checkout.offer', 'storefront.message', 'recommendation'] as const;
export type DirectiveType = (typeof DIRECTIVE_TYPES)[number];

export interface Directive {
  key: string;
  type: DirectiveType;
  customerId: string | undefined;
  cartId: string | undefined;
  sku: string | undefined;
  region: string | undefined;
  payload: Record<string, unknown>;
  expiresAtMs: number;
  createdAtMs: number;
  consumedAtMs: number | undefined;
}

/** What the page being served is about; every field optional. */
export interface DirectiveScope {
  customerId?: string | undefined;
  cartId?: string | undefined;
  skus?: readonly string[] | undefined;
  region?: string | undefined;
  types?: readonly DirectiveType[] | undefined;
}

/** A `directives` row as a Directive (the storefront's snapshot reads rows itself). */
export function rowToDirective(r: Selectable<Database['directives']>): Directive {
  return {
    key: r.key,
    type: r.type as DirectiveType,
    customerId: r.customer_id ?? undefined,
    cartId: r.cart_id ?? undefined,
    sku: r.sku ?? undefined,
    region: r.region ?? undefined,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    expiresAtMs: Number(r.expires_ms),
    createdAtMs: Number(r.created_ms),
    consumedAtMs: r.consumed_ms === null ? undefined : Number(r.consumed_ms),
  };
}

/** Unexpired, unconsumed directives matching `scope`, oldest first. */
export async function activeDirectives(db: Db, scope: DirectiveScope, nowMs: number): Promise<Directive[]> {
  let q = db.selectFrom('directives').selectAll().where('expires_ms', '>', nowMs).where('consumed_ms', 'is', null);
  const one = (col: 'customer_id' | 'cart_id' | 'region', v: string | undefined) => {
    q = v === undefined ? q.where(col, 'is', null) : q.where((eb) => eb.or([eb(col, 'is', null), eb(col, '=', v)]));
  };
  one('customer_id', scope.customerId);
  one('cart_id', scope.cartId);
  one('region', scope.region);
  const skus = scope.skus ?? [];
  q = skus.length === 0 ? q.where('sku', 'is', null) : q.where((eb) => eb.or([eb('sku', 'is', null), eb('sku', 'in', [...skus])]));
  if (scope.types !== undefined) {
    if (scope.types.length === 0) return [];
    q = q.where('type', 'in', [...scope.types]);
  }
  const rows = await q.orderBy('created_ms').orderBy('key').limit(1000).execute();
  return rows.map(rowToDirective);
}

export async function getDirective(db: Db, key: string): Promise<Directive | undefined> {
  const r = await db.selectFrom('directives').selectAll().where('key', '=', key).executeTakeFirst();
  return r === undefined ? undefined : rowToDirective(r);
}

/** Marks a directive used (a survey shown); false when it was already consumed or does not exist. */
export async function consumeDirective(db: Db, key: string, nowMs: number): Promise<boolean> {
  const r = await db
    .updateTable('directives')
    .set({ consumed_ms: nowMs })
    .where('key', '=', key)
    .where('consumed_ms', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Deletes directives that expired before `beforeMs`; how many. */
export async function pruneDirectives(db: Db, beforeMs: number): Promise<number> {
  const r = await db.deleteFrom('directives').where('expires_ms', '<', beforeMs).executeTakeFirst();
  return Number(r.numDeletedRows);
}

interface Written {
  scope: { customer_id?: string | undefined; cart_id?: string | undefined; sku?: string | undefined; region?: string | undefined };
  payload: Record<string, unknown>;
  expiresIn: string;
}

/** Writes the directive once (keyed by the action); also used by `recommend`. */
export async function writeDirective(type: DirectiveType, action: ClaimedAction, ctx: ExecutorContext, w: Written) {
  const s = w.scope;
  if (s.customer_id === undefined && s.cart_id === undefined && s.sku === undefined && s.region === undefined)
    throw new NonRetriableError(`${type} needs a scope: a customer, cart, SKU or region`, { code: 'PW_DIRECTIVE_SCOPE_MISSING' });
  const expires = action.createdAtMs + (parseDuration(w.expiresIn) ?? 0);
  await ctx.db
    .insertInto('directives')
    .values({
      key: action.key,
      type,
      customer_id: s.customer_id ?? null,
      cart_id: s.cart_id ?? null,
      sku: s.sku ?? null,
      region: s.region ?? null,
      payload: JSON.stringify(w.payload),
      expires_ms: expires,
      created_ms: action.createdAtMs,
      consumed_ms: null,
    })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return {
    detail: {
      directive: action.key,
      expires_at: new Date(expires).toISOString(),
      ...(expires <= ctx.clock.now() ? { already_expired: true } : {}),
    },
  };
}

const MIN_EXPIRY = 60_000;
const MAX_EXPIRY = 90 * 86_400_000;
const expiry = duration(MIN_EXPIRY, MAX_EXPIRY);

const SURVEY_FIELDS: Record<string, Field> = {
  survey: { required: true, check: str(100) },
  placement: { check: oneOf(['next_page_view', 'exit_intent', 'post_purchase']) },
  cart: { check: str(200) },
  expires_in: { check: expiry },
};

const discount: Check = (v, pointer, ctx) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    ctx.out.push({ pointer, message: 'must be an object like {percent: 10} or {amount: 5, currency: EUR}' });
    return;
  }
  const d = v as Record<string, unknown>;
  if (d.percent !== undefined) num(0.01, 100)(d.percent, `${pointer}/percent`, ctx);
  if (d.amount !== undefined) num(0.01, 1_000_000)(d.amount, `${pointer}/amount`, ctx);
  if (d.currency !== undefined) str(3)(d.currency, `${pointer}/currency`, ctx);
  if (d.code !== undefined) str(50)(d.code, `${pointer}/code`, ctx);
  if ((d.percent === undefined) === (d.amount === undefined)) ctx.out.push({ pointer, message: 'must give either percent or amount' });
  for (const k of Object.keys(d))
    if (!['percent', 'amount', 'currency', 'code'].includes(k))
      ctx.out.push({ pointer: `${pointer}/${k}`, message: 'unknown (known: percent, amount, currency, code)' });
};

const OFFER_FIELDS: Record<string, Field> = {
  cart: { required: true, check: str(200) },
  shipping: { check: str(50) },
  discount: { check: discount },
  message: { check: str(500) },
  expires_in: { check: expiry },
};

const MESSAGE_FIELDS: Record<string, Field> = {
  text: { required: true, check: str(500) },
  sku: { check: str(100) },
  region: { check: str(100) },
  kind: { check: oneOf(['availability', 'delivery_promise', 'info']) },
  expires_in: { check: expiry },
};

const offerHasContent = (p: Record<string, unknown>, ctx: { out: { pointer: string; message: string }[] }) => {
  if (p.shipping === undefined && p.discount === undefined && p.message === undefined)
    ctx.out.push({ pointer: '', message: 'an offer needs shipping, discount or message' });
};
const messageHasScope = (p: Record<string, unknown>, ctx: { out: { pointer: string; message: string }[] }) => {
  if (p.sku === undefined && p.region === undefined) ctx.out.push({ pointer: '', message: 'a storefront message needs sku or region' });
};

export function surveyShowExecutor(): ActionExecutor {
  return {
    type: 'survey.show',
    channel: 'survey',
    reachesCustomer: true,
    defaultMinutesSaved: 3,
    validateParams: (params) => validate(params, SURVEY_FIELDS, false),
    async execute(action, ctx) {
      requireValid('survey.show', validate(action.params, SURVEY_FIELDS, true));
      const p = action.params as { survey: string; placement?: string; cart?: string; expires_in?: string };
      return writeDirective('survey.show', action, ctx, {
        scope: { customer_id: action.customerId, cart_id: action.customerId === undefined ? p.cart : undefined },
        payload: { survey: p.survey, placement: p.placement ?? 'next_page_view' },
        expiresIn: p.expires_in ?? '7d',
      });
    },
  };
}

export function checkoutOfferExecutor(): ActionExecutor {
  return {
    type: 'checkout.offer',
    channel: 'onsite',
    reachesCustomer: true,
    defaultMinutesSaved: 15,
    validateParams: (params) => validate(params, OFFER_FIELDS, false, offerHasContent),
    async execute(action, ctx) {
      requireValid('checkout.offer', validate(action.params, OFFER_FIELDS, true, offerHasContent));
      const p = action.params as {
        cart: string;
        shipping?: string;
        discount?: Record<string, unknown>;
        message?: string;
        expires_in?: string;
      };
      return writeDirective('checkout.offer', action, ctx, {
        scope: { cart_id: p.cart },
        payload: {
          ...(p.shipping ? { shipping: p.shipping } : {}),
          ...(p.discount ? { discount: p.discount } : {}),
          ...(p.message ? { message: p.message } : {}),
        },
        expiresIn: p.expires_in ?? '24h',
      });
    },
  };
}

export function storefrontMessageExecutor(): ActionExecutor {
  return {
    type: 'storefront.message',
    channel: 'onsite',
    reachesCustomer: false,
    defaultMinutesSaved: 10,
    validateParams: (params) => validate(params, MESSAGE_FIELDS, false, messageHasScope),
    async execute(action, ctx) {
      requireValid('storefront.message', validate(action.params, MESSAGE_FIELDS, true, messageHasScope));
      const p = action.params as { text: string; sku?: string; region?: string; kind?: string; expires_in?: string };
      return writeDirective('storefront.message', action, ctx, {
        scope: { sku: p.sku, region: p.region },
        payload: { text: p.text, kind: p.kind ?? 'info' },
        expiresIn: p.expires_in ?? '24h',
      });
    },
  };
}
