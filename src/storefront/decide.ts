/**
 * The decision engine behind `POST /v1/decide/product` and `/checkout`: reads indexed state
 * (catalogue, stock, lane statistics, shipments, identity, directives, surveys), never the event
 * log. Hot read-only parts are cached on the injected clock with short TTLs (`DecideSettings`).
 * Every answer says why: which workflow, run and signal put a message or offer there.
 */
import type { Kysely } from 'kysely';
import type { Directive, DirectiveType } from '../act/index.ts';
import { type ContactPolicySettings, checkContact } from '../automate/index.ts';
import { fitsVehicle, getProducts, type Lane, listLanes, type Product, type Vehicle } from '../catalog/index.ts';
import { type Clock, isoTime } from '../core/index.ts';
import {
  availability,
  type Cart,
  getCart,
  getCustomer,
  type LaneWindow,
  predictLaneWindow,
  resolveCustomerId,
  type SkuAvailability,
} from '../state/index.ts';
import type { Database } from '../store/index.ts';
import { TtlCache } from './cache.ts';
import { DirectiveSnapshot, directiveWhy, type Why } from './directives.ts';
import type { CheckoutRequest, CustomerRef, ProductRequest } from './requests.ts';
import { compileAudience } from './surveys/audience.ts';
import type { PlacementType } from './surveys/definition.ts';
import type { SurveyStore } from './surveys/store.ts';
import type { SurveyTokens } from './surveys/token.ts';

export interface DecideSettings {
  /** Catalogue rows, lanes, lane windows (ms). */
  referenceTtlMs: number;
  /** Stock levels and directives (ms). */
  liveTtlMs: number;
  /** A customer's resolved id, vehicles and orders (ms). */
  customerTtlMs: number;
  /** A lane delivering fewer than this share on time gets the reliability note. */
  slowLaneReliability: number;
  /** How long a survey token is valid (ms). */
  surveyTokenTtlMs: number;
}

export const DEFAULT_DECIDE_SETTINGS: DecideSettings = {
  referenceTtlMs: 10_000,
  liveTtlMs: 1000,
  customerTtlMs: 5000,
  slowLaneReliability: 0.8,
  surveyTokenTtlMs: 86_400_000,
};

export const SLOW_LANE_NOTE = 'This route has been slower than usual';

interface LaneView {
  lane: Lane;
  /** Offsets from "now" (ms) — a window is cached relative to the time it was computed. */
  p50Offset: number | undefined;
  p90Offset: number | undefined;
  basis: LaneWindow['basis'];
  sampleSize: number;
  reliability: number | undefined;
  /** Shipments on the lane flagged delayed and not delivered. */
  delayedNow: number;
}

interface CustomerView {
  id: string | undefined;
  known: boolean;
  vehicles: Vehicle[];
  orders: number;
}

const day = (ms: number) => isoTime(ms).slice(0, 10);
const round2 = (x: number) => Math.round(x * 100) / 100;

function vehicleOf(v: unknown): Vehicle | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const year = typeof o.year === 'string' ? Number(o.year) : o.year;
  if (typeof o.make !== 'string' || typeof o.model !== 'string' || typeof year !== 'number' || !Number.isInteger(year)) return undefined;
  return { make: o.make, model: o.model, year, ...(typeof o.engine === 'string' ? { engine: o.engine } : {}) };
}

const vehicleName = (v: Vehicle) => `${v.year} ${v.make} ${v.model}`;

/** One way to ship a cart, as the checkout answer lists them. */
export interface ShippingOption {
  id: string;
  label: string;
  carrier: string | null;
  price: number | null;
  currency: string | null;
  p50: string | null;
  p90: string | null;
  reliability: number | null;
  note: string | null;
  recommended: boolean;
  offer?: { expiresAt: string };
  why: (string | Why)[];
}

export interface DecideDeps {
  db: Kysely<Database>;
  clock: Clock;
  surveys: SurveyStore;
  tokens: SurveyTokens;
  policy: ContactPolicySettings;
}

export class Decider {
  readonly settings: DecideSettings;
  private readonly products: TtlCache<Product | null>;
  private readonly stock: TtlCache<SkuAvailability | null>;
  private readonly lanes: TtlCache<Lane[]>;
  private readonly windows: TtlCache<LaneView>;
  private readonly customers: TtlCache<CustomerView>;
  private readonly fitment: TtlCache<boolean>;
  private readonly directives: DirectiveSnapshot;

  constructor(
    private readonly d: DecideDeps,
    settings: Partial<DecideSettings> = {},
  ) {
    this.settings = { ...DEFAULT_DECIDE_SETTINGS, ...settings };
    const { referenceTtlMs: ref, liveTtlMs: live } = this.settings;
    this.products = new TtlCache(d.clock, ref);
    this.lanes = new TtlCache(d.clock, ref);
    this.windows = new TtlCache(d.clock, ref);
    this.fitment = new TtlCache(d.clock, ref);
    this.stock = new TtlCache(d.clock, live);
    this.customers = new TtlCache(d.clock, this.settings.customerTtlMs);
    this.directives = new DirectiveSnapshot(d.db, d.clock, live);
  }

  /** Forgets every cached row (tests, or after an import in this process). */
  invalidate(): void {
    for (const c of [this.products, this.stock, this.lanes, this.windows, this.customers, this.fitment]) c.clear();
    this.directives.invalidate();
  }

  private async customer(ref: CustomerRef | undefined): Promise<CustomerView> {
    const given = ref?.userId ?? ref?.anonymousId;
    if (given === undefined) return { id: undefined, known: false, vehicles: [], orders: 0 };
    return this.customers.through(`${ref?.userId ?? ''}\u001f${ref?.anonymousId ?? ''}`, async () => {
      let id: string | undefined;
      for (const raw of [ref?.userId, ref?.anonymousId])
        if (raw !== undefined && id === undefined) id = await resolveCustomerId(this.d.db, raw);
      const c = id === undefined ? undefined : await getCustomer(this.d.db, id);
      const t = c?.traits ?? {};
      const vehicles = [t.vehicle, ...(Array.isArray(t.vehicles) ? t.vehicles : [])]
        .map(vehicleOf)
        .filter((v): v is Vehicle => v !== undefined);
      return { id: id ?? given, known: c !== undefined, vehicles, orders: c?.orders.length ?? 0 };
    });
  }

  private async lanesTo(destination: string): Promise<Lane[]> {
    return this.lanes.through(destination, () => listLanes(this.d.db, { destination }));
  }

  private async laneView(lane: Lane): Promise<LaneView> {
    const key = `${lane.carrierId}\u001f${lane.origin}\u001f${lane.destination}`;
    return this.windows.through(key, async () => {
      const now = this.d.clock.now();
      const w = await predictLaneWindow(this.d.db, {
        carrier: lane.carrierId,
        origin: lane.origin,
        destination: lane.destination,
        fromMs: now,
      });
      const delayed = await this.d.db
        .selectFrom('shipments')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('carrier', '=', lane.carrierId)
        .where('origin', '=', lane.origin)
        .where('destination', '=', lane.destination)
        .where('delayed', '=', 1)
        .where('delivered_ms', 'is', null)
        .executeTakeFirst();
      return {
        lane,
        p50Offset: w.p50Ms === undefined ? undefined : w.p50Ms - now,
        p90Offset: w.p90Ms === undefined ? undefined : w.p90Ms - now,
        basis: w.basis,
        sampleSize: w.sampleSize,
        reliability: w.reliability,
        delayedNow: Number(delayed?.n ?? 0),
      };
    });
  }

  private slow(v: LaneView): boolean {
    return v.delayedNow > 0 || (v.reliability !== undefined && v.reliability < this.settings.slowLaneReliability);
  }

  private laneWhy(v: LaneView): string {
    const l = v.lane;
    const parts = [
      `lane ${l.carrierId} ${l.origin} → ${l.destination}: window from ${v.basis === 'empirical' ? `${v.sampleSize} delivered shipments` : v.basis === 'lane_prior' ? 'the catalogue lane prior' : 'nothing'}`,
    ];
    if (v.reliability !== undefined) parts.push(`on time ${Math.round(v.reliability * 100)}%`);
    if (v.delayedNow > 0) parts.push(`${v.delayedNow} shipment(s) on it delayed now`);
    return parts.join('; ');
  }

  async decideProduct(req: ProductRequest) {
    const now = this.d.clock.now();
    const [products, stock, who] = await Promise.all([
      this.products.many(req.skus, (m) => getProducts(this.d.db, m), null),
      this.stock.many(req.skus, (m) => availability(this.d.db, m), null),
      this.customer(req.customer),
    ]);
    const destination = req.region ?? req.postalCode;
    const lanes = destination === undefined ? [] : await this.lanesTo(destination);
    const directives = await this.directives.matching({
      customerId: who.id,
      skus: req.skus,
      region: req.region,
      types: ['storefront.message', 'survey.show'],
    });
    const out = [];
    for (const sku of req.skus) {
      const p = products.get(sku) ?? null;
      if (p === null) {
        out.push({
          sku,
          known: false,
          name: null,
          price: null,
          availability: { inStock: false, total: 0, warehouses: [] },
          promise: null,
          fitment: null,
          messages: [],
          why: ['unknown SKU: not in the catalogue'],
        });
        continue;
      }
      const why: string[] = [];
      const a = stock.get(sku) ?? null;
      const warehouses = (a?.warehouses ?? []).map((w) => ({
        warehouse: w.warehouse,
        onHand: w.available ?? w.onHand,
        daysOfCover: w.daysOfCover === null ? null : round2(w.daysOfCover),
      }));
      const total = warehouses.reduce((s, w) => s + Math.max(0, w.onHand ?? 0), 0);
      why.push(
        a === null || warehouses.length === 0
          ? 'no stock levels reported for this SKU'
          : `availability from live stock levels in ${warehouses.length} warehouse(s)`,
      );
      const promise = await this.promiseFor(lanes, warehouses, now, why);
      const fitment = await this.fitmentFor(sku, who, why);
      const messages = [];
      for (const dv of directives)
        if (dv.type === 'storefront.message' && (dv.sku === undefined || dv.sku === sku))
          messages.push({
            text: String(dv.payload.text ?? ''),
            kind: String(dv.payload.kind ?? 'info'),
            why: await directiveWhy(this.d.db, this.d.clock, dv),
          });
      out.push({
        sku,
        known: true,
        name: p.name,
        price: p.price,
        currency: p.currency ?? null,
        availability: { inStock: total > 0, total, warehouses },
        promise,
        fitment,
        messages,
        why,
      });
    }
    const survey = await this.surveyFor(directives, who, {
      placement: req.placement ?? (req.page?.type === 'confirmation' ? 'post_purchase' : 'page'),
      pageType: req.page?.type ?? 'product',
      pageUrl: req.page?.url,
      region: req.region,
      store: req.store,
      cart: undefined,
    });
    return { products: out, survey, decidedAt: isoTime(now) };
  }

  private async promiseFor(lanes: Lane[], warehouses: { warehouse: string; onHand: number | null }[], now: number, why: string[]) {
    if (lanes.length === 0) {
      why.push('no delivery promise: no region / postal code given, or no lane to it');
      return null;
    }
    const stocked = new Set(warehouses.filter((w) => (w.onHand ?? 0) > 0).map((w) => w.warehouse));
    const fromStock = stocked.size === 0 ? lanes : lanes.filter((l) => stocked.has(l.origin));
    // The promise is for the default service: express lanes only when there is nothing else.
    const standard = fromStock.filter((l) => l.attributes.service === undefined || l.attributes.service === 'standard');
    const candidates = standard.length > 0 ? standard : fromStock;
    let best: LaneView | undefined;
    for (const l of candidates) {
      const v = await this.laneView(l);
      if (v.p50Offset === undefined) continue;
      if (best === undefined || v.p50Offset < (best.p50Offset as number)) best = v;
    }
    if (best === undefined || best.p50Offset === undefined || best.p90Offset === undefined) {
      why.push('no delivery promise: the lanes from the stocking warehouses have no transit data yet');
      return null;
    }
    why.push(`promise: ${this.laneWhy(best)}`);
    return {
      p50: day(now + best.p50Offset),
      p90: day(now + best.p90Offset),
      carrier: best.lane.carrierId,
      lane: `${best.lane.origin}→${best.lane.destination}`,
      reliability: best.reliability === undefined ? null : round2(best.reliability),
      note: this.slow(best) ? SLOW_LANE_NOTE : null,
    };
  }

  private async fitmentFor(sku: string, who: CustomerView, why: string[]) {
    const v = who.vehicles[0];
    if (v === undefined) return null;
    const fits = await this.fitment.through(`${sku}\u001f${vehicleName(v)}\u001f${v.engine ?? ''}`, () => fitsVehicle(this.d.db, sku, v));
    why.push(`fitment checked against the customer's ${vehicleName(v)} (profile trait)`);
    return { vehicle: vehicleName(v), fits, text: fits ? `Fits your ${vehicleName(v)}` : `Does not fit your ${vehicleName(v)}` };
  }

  async decideCheckout(req: CheckoutRequest) {
    const now = this.d.clock.now();
    const [cart, who] = await Promise.all([getCart(this.d.db, req.cartId), this.customer(req.customer)]);
    const customer = who.id === undefined && cart?.customer !== undefined ? await this.customer({ userId: cart.customer }) : who;
    const skus = cart ? Object.keys(cart.lines) : [];
    const directives = await this.directives.matching({
      customerId: customer.id,
      cartId: req.cartId,
      ...(skus.length > 0 ? { skus } : {}),
      region: req.region,
      types: ['checkout.offer', 'storefront.message', 'survey.show'],
    });
    const offers = [];
    const messages = [];
    let expressOffer: { why: Why; expiresAt: string } | undefined;
    for (const dv of directives) {
      const why = await directiveWhy(this.d.db, this.d.clock, dv);
      const expiresAt = isoTime(dv.expiresAtMs);
      if (dv.type === 'storefront.message')
        messages.push({ text: String(dv.payload.text ?? ''), kind: String(dv.payload.kind ?? 'info'), why });
      if (dv.type !== 'checkout.offer') continue;
      const p = dv.payload as {
        shipping?: string;
        discount?: { percent?: number; amount?: number; currency?: string; code?: string };
        message?: string;
      };
      if (p.shipping !== undefined) {
        offers.push({
          id: `${dv.key}:shipping`,
          kind: 'shipping',
          shipping: p.shipping,
          ...(p.message ? { text: p.message } : {}),
          expiresAt,
          why,
        });
        if (p.shipping === 'express') expressOffer = { why, expiresAt };
      }
      if (p.discount !== undefined)
        offers.push({
          id: `${dv.key}:discount`,
          kind: 'discount',
          ...(p.discount.percent !== undefined ? { discountPercent: p.discount.percent } : {}),
          ...(p.discount.amount !== undefined ? { discountAmount: p.discount.amount, currency: p.discount.currency ?? null } : {}),
          ...(p.discount.code !== undefined ? { code: p.discount.code } : {}),
          expiresAt,
          why,
        });
      if (p.message !== undefined && p.shipping === undefined)
        offers.push({ id: `${dv.key}:message`, kind: 'message', text: p.message, expiresAt, why });
    }
    const shippingOptions = await this.shippingOptions(cart, skus, req.region ?? req.postalCode, now, expressOffer);
    const survey = await this.surveyFor(directives, customer, {
      placement: 'exit_intent',
      pageType: 'checkout',
      pageUrl: undefined,
      region: req.region,
      store: req.store,
      cart,
    });
    return {
      cart: cart
        ? {
            cartId: cart.cartId,
            known: true,
            status: cart.status,
            value: cart.value,
            currency: cart.currency ?? null,
            lines: Object.entries(cart.lines).map(([sku, l]) => ({ sku, quantity: l.quantity })),
          }
        : { cartId: req.cartId, known: false, status: null, value: 0, currency: null, lines: [] },
      shippingOptions,
      offers,
      messages,
      survey,
      decidedAt: isoTime(now),
    };
  }

  private async shippingOptions(
    cart: Cart | undefined,
    skus: string[],
    destination: string | undefined,
    now: number,
    express: { why: Why; expiresAt: string } | undefined,
  ): Promise<ShippingOption[]> {
    const lanes = destination === undefined ? [] : await this.lanesTo(destination);
    const stock =
      skus.length === 0 ? new Map<string, SkuAvailability | null>() : await this.stock.many(skus, (m) => availability(this.d.db, m), null);
    // Warehouses that hold every line of the cart; when none reports stock, every lane qualifies.
    let origins: Set<string> | undefined;
    for (const sku of skus) {
      const have = new Set(
        (stock.get(sku)?.warehouses ?? [])
          .filter((w) => (w.available ?? w.onHand ?? 0) >= (cart?.lines[sku]?.quantity ?? 1))
          .map((w) => w.warehouse),
      );
      if (have.size === 0) continue;
      origins = origins === undefined ? have : new Set([...origins].filter((o) => have.has(o)));
    }
    const views = [];
    for (const l of lanes) if (origins === undefined || origins.size === 0 || origins.has(l.origin)) views.push(await this.laneView(l));
    // One option per service (the lane's `service` attribute, default standard): the fastest lane for it.
    const byService = new Map<string, LaneView>();
    for (const v of views) {
      const service = typeof v.lane.attributes.service === 'string' ? v.lane.attributes.service : 'standard';
      const cur = byService.get(service);
      if (cur === undefined || (v.p90Offset ?? Infinity) < (cur.p90Offset ?? Infinity)) byService.set(service, v);
    }
    const anySlow = [...byService.entries()].some(([s, v]) => s !== 'express' && this.slow(v));
    const options = [...byService.entries()].map(([service, v]): ShippingOption => {
      const offered = service === 'express' && express !== undefined;
      const why: (string | Why)[] = [this.laneWhy(v)];
      if (offered) why.push(express.why);
      return {
        id: service,
        label: service === 'express' ? 'Express delivery' : service === 'standard' ? 'Standard delivery' : service,
        carrier: v.lane.carrierId,
        price: offered ? 0 : (v.lane.cost ?? null),
        currency: v.lane.currency ?? null,
        p50: v.p50Offset === undefined ? null : day(now + v.p50Offset),
        p90: v.p90Offset === undefined ? null : day(now + v.p90Offset),
        reliability: v.reliability === undefined ? null : round2(v.reliability),
        note: this.slow(v) ? SLOW_LANE_NOTE : null,
        recommended: false,
        ...(offered ? { offer: { expiresAt: express.expiresAt } } : {}),
        why,
      };
    });
    if (express !== undefined && !byService.has('express'))
      options.push({
        id: 'express',
        label: 'Express delivery',
        carrier: null,
        price: 0,
        currency: null,
        p50: null,
        p90: null,
        reliability: null,
        note: null,
        recommended: false,
        offer: { expiresAt: express.expiresAt },
        why: ['no express lane in the catalogue for this destination: the window is not known', express.why],
      });
    const rank = (o: ShippingOption) => (o.p90 === null ? '9999' : o.p90);
    options.sort((a, b) => rank(a).localeCompare(rank(b)) || (a.price ?? Infinity) - (b.price ?? Infinity) || a.id.localeCompare(b.id));
    const expressOption = options.find((o) => o.id === 'express');
    if (expressOption && (express !== undefined || anySlow)) {
      expressOption.recommended = true;
      options.splice(options.indexOf(expressOption), 1);
      options.unshift(expressOption);
      if (express === undefined) expressOption.why.push('recommended: the standard lane is slower than usual');
    } else if (options[0]) options[0].recommended = true;
    return options;
  }

  private async surveyFor(
    directives: Directive[],
    who: CustomerView,
    at: {
      placement: PlacementType | 'page';
      pageType: string;
      pageUrl: string | undefined;
      region: string | undefined;
      store: string | undefined;
      cart: Cart | undefined;
    },
  ) {
    const now = this.d.clock.now();
    const all = await this.d.surveys.all();
    // 1. A workflow asked for it (survey.show): already passed the contact policy when it ran.
    const asked = directives.filter((dv) => dv.type === 'survey.show' && all.has(String(dv.payload.survey)));
    const placementOf = (dv: Directive): PlacementType => {
      const p = String(dv.payload.placement ?? 'next_page_view');
      return p === 'exit_intent' ? 'exit_intent' : p === 'post_purchase' ? 'post_purchase' : 'page';
    };
    const dv = asked.find((x) => placementOf(x) === at.placement) ?? asked[0];
    if (dv !== undefined) {
      const id = String(dv.payload.survey);
      const placement = placementOf(dv);
      const { token } = await this.d.tokens.sign({
        s: id,
        ...(who.id !== undefined ? { c: who.id } : {}),
        ...(dv.cartId !== undefined ? { cart: dv.cartId } : at.cart ? { cart: at.cart.cartId } : {}),
        p: placement,
        e: Math.min(dv.expiresAtMs, now + this.settings.surveyTokenTtlMs),
        d: dv.key,
      });
      return { id, placement, token, why: await directiveWhy(this.d.db, this.d.clock, dv) };
    }
    // 2. A survey with an automatic placement whose audience matches, if the contact policy allows.
    if (who.id === undefined) return null;
    for (const s of all.values()) {
      const def = s.definition;
      const pl = def.placements.find(
        (p) =>
          p.auto === true &&
          p.type === at.placement &&
          (p.pageTypes === undefined || p.pageTypes.length === 0 || p.pageTypes.includes(at.pageType)),
      );
      if (pl === undefined) continue;
      if (def.audience !== undefined) {
        const c = compileAudience(def.audience);
        const facts = {
          page_type: at.pageType,
          page_url: at.pageUrl ?? '',
          placement: at.placement,
          region: at.region ?? '',
          store: at.store ?? '',
          customer_known: who.known,
          customer_vehicles: who.vehicles.length,
          customer_orders: who.orders,
          cart_value: at.cart?.value ?? 0,
        };
        if (!c.ok || !c.matches(facts)) continue;
      }
      const verdict = await checkContact(this.d.db, this.d.policy, {
        customerId: who.id,
        channel: 'survey',
        purpose: def.purpose ?? 'service',
        workflowId: 'storefront',
        atMs: now,
      });
      if (verdict.verdict !== 'allow') continue;
      const { token } = await this.d.tokens.sign({
        s: def.id,
        c: who.id,
        ...(at.cart ? { cart: at.cart.cartId } : {}),
        p: pl.type,
        e: now + this.settings.surveyTokenTtlMs,
      });
      return {
        id: def.id,
        placement: pl.type,
        token,
        why: {
          workflow: null,
          run: null,
          signal: null,
          rule: `survey ${def.id}: automatic ${pl.type} placement${def.audience ? `, audience ${def.audience}` : ''}`,
        },
      };
    }
    return null;
  }
}

export type { DirectiveType };
