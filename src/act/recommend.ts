/**
 * `recommend`: replacement, upsell or cross-sell SKUs that fit the customer's vehicle, left as a
 * `recommendation` directive for the storefront decision API (scoped to the customer, or to the
 * reference SKU's page). The vehicle (make, model, year, engine) is the `vehicle` param, else the
 * customer's `vehicle` / `vehicles` trait (a shop's "my garage", sent with identify); the
 * catalogue's fitment decides what fits (docs/act/actions.md#recommend).
 */
import { findFitment, getProduct, getProducts, type Product, type Vehicle } from '../catalog/index.ts';
import type { Db } from '../detect/index.ts';
import { getCustomer } from '../state/index.ts';
import { writeDirective } from './directives.ts';
import { type Check, type CheckCtx, duration, type Field, isTemplated, num, oneOf, requireValid, str, validate } from './params.ts';
import type { ActionExecutor } from './types.ts';

export const RECOMMEND_KINDS = ['replacement', 'upsell', 'crosssell'] as const;
export type RecommendKind = (typeof RECOMMEND_KINDS)[number];

/** Fitting SKUs looked at per recommendation (the list is ranked, then cut to `limit`). */
const CANDIDATES = 500;

const vehicleCheck: Check = (v, pointer, ctx) => {
  if (!ctx.rendered && isTemplated(v)) return;
  if (toVehicle(v) === undefined)
    ctx.out.push({ pointer, message: 'must be a vehicle like {make: VW, model: Golf, year: 2017, engine: 1.4 TSI}' });
};

const RECOMMEND_FIELDS: Record<string, Field> = {
  kind: { required: true, check: oneOf(RECOMMEND_KINDS) },
  sku: { check: str(100) },
  category: { check: str(100) },
  vehicle: { check: vehicleCheck },
  limit: { check: num(1, 20) },
  placement: { check: oneOf(['customer', 'product_page']) },
  expires_in: { check: duration(60_000, 90 * 86_400_000) },
};

const needs = (p: Record<string, unknown>, ctx: CheckCtx) => {
  if (p.kind === 'upsell' && p.sku === undefined) ctx.out.push({ pointer: '', message: 'an upsell needs sku (the part to improve on)' });
  if (p.kind === 'crosssell' && p.category === undefined)
    ctx.out.push({ pointer: '', message: 'a cross-sell needs category (what goes with the part)' });
  if (p.kind === 'replacement' && p.sku === undefined && p.category === undefined)
    ctx.out.push({ pointer: '', message: 'a replacement needs sku (the part to replace) or category' });
  if (p.placement === 'product_page' && p.sku === undefined)
    ctx.out.push({ pointer: '/placement', message: 'product_page needs sku (the page to show it on)' });
};

/** A catalogue vehicle from a JSON value (`year` may be a numeric string, as traits often are). */
export function toVehicle(v: unknown): Vehicle | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const year = typeof o.year === 'string' && /^\d{4}$/.test(o.year.trim()) ? Number(o.year) : o.year;
  if (typeof o.make !== 'string' || o.make.trim() === '' || typeof o.model !== 'string' || o.model.trim() === '') return undefined;
  if (typeof year !== 'number' || !Number.isInteger(year) || year < 1900 || year > 2200) return undefined;
  const engine = typeof o.engine === 'string' && o.engine.trim() !== '' ? o.engine : undefined;
  return { make: o.make, model: o.model, year, ...(engine !== undefined ? { engine } : {}) };
}

/** The customer's vehicle from their traits: `vehicle`, else the first valid entry of `vehicles`, else flat `vehicle_make`, `vehicle_model`, `vehicle_year`, `vehicle_engine`. */
async function customerVehicle(db: Db, customerId: string | undefined): Promise<Vehicle | undefined> {
  if (customerId === undefined) return undefined;
  const traits = (await getCustomer(db, customerId))?.traits ?? {};
  const single = toVehicle(traits.vehicle);
  if (single) return single;
  const listed = Array.isArray(traits.vehicles) ? traits.vehicles.map(toVehicle).find((x) => x !== undefined) : undefined;
  return (
    listed ??
    toVehicle({ make: traits.vehicle_make, model: traits.vehicle_model, year: traits.vehicle_year, engine: traits.vehicle_engine })
  );
}

const sameCategory = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The ranked SKUs of `kind` among `candidates` (all fit the vehicle): a replacement is the same
 * part first, then the closest in price; an upsell costs more than the part, cheapest step up
 * first; a cross-sell is from another category than the part, cheapest first.
 */
export function rankRecommendations(kind: RecommendKind, candidates: readonly Product[], reference: Product | undefined): Product[] {
  const bySku = (a: Product, b: Product) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0);
  const ref = reference;
  switch (kind) {
    case 'replacement': {
      const price = ref?.price;
      return [...candidates].sort(
        (a, b) =>
          Number(b.sku === ref?.sku) - Number(a.sku === ref?.sku) ||
          (price === undefined ? 0 : Math.abs(a.price - price) - Math.abs(b.price - price)) ||
          bySku(a, b),
      );
    }
    case 'upsell':
      return candidates
        .filter((p) => ref !== undefined && p.sku !== ref.sku && p.price > ref.price)
        .sort((a, b) => a.price - b.price || bySku(a, b));
    case 'crosssell':
      return candidates
        .filter((p) => p.sku !== ref?.sku && !sameCategory(p.category, ref?.category))
        .sort((a, b) => a.price - b.price || bySku(a, b));
  }
}

export function recommendExecutor(): ActionExecutor {
  return {
    type: 'recommend',
    channel: 'onsite',
    reachesCustomer: true,
    defaultMinutesSaved: 10,
    validateParams: (params) => validate(params, RECOMMEND_FIELDS, false, needs),
    async execute(action, ctx) {
      requireValid('recommend', validate(action.params, RECOMMEND_FIELDS, true, needs));
      const p = action.params as {
        kind: RecommendKind;
        sku?: string;
        category?: string;
        vehicle?: unknown;
        limit?: number;
        placement?: 'customer' | 'product_page';
        expires_in?: string;
      };
      const vehicle = p.vehicle !== undefined ? toVehicle(p.vehicle) : await customerVehicle(ctx.db, action.customerId);
      if (!vehicle) return { detail: { skus: [], reason: 'no_vehicle', message: 'no vehicle given and none in the customer traits' } };
      const reference = p.sku !== undefined ? await getProduct(ctx.db, p.sku) : undefined;
      const category = p.kind === 'crosssell' ? p.category : (p.category ?? reference?.category);
      const fitting = await findFitment(ctx.db, vehicle, { ...(category !== undefined ? { category } : {}), limit: CANDIDATES });
      const products = await getProducts(ctx.db, fitting);
      const ranked = rankRecommendations(
        p.kind,
        fitting.flatMap((s) => products.get(s) ?? []),
        reference,
      ).slice(0, p.limit ?? 3);
      const vehicleOut = {
        make: vehicle.make,
        model: vehicle.model,
        year: vehicle.year,
        ...(vehicle.engine ? { engine: vehicle.engine } : {}),
      };
      if (ranked.length === 0) return { detail: { skus: [], reason: 'nothing_fits', vehicle: vehicleOut } };
      const onPage = p.placement === 'product_page';
      const written = await writeDirective('recommendation', action, ctx, {
        scope: { customer_id: action.customerId, sku: onPage ? p.sku : undefined },
        payload: {
          kind: p.kind,
          vehicle: vehicleOut,
          ...(p.sku !== undefined ? { for_sku: p.sku } : {}),
          products: ranked.map((x) => ({
            sku: x.sku,
            name: x.name,
            price: x.price,
            ...(x.currency !== undefined ? { currency: x.currency } : {}),
            ...(x.category !== undefined ? { category: x.category } : {}),
          })),
        },
        expiresIn: p.expires_in ?? '30d',
      });
      return { detail: { ...written.detail, skus: ranked.map((x) => x.sku) } };
    },
  };
}
