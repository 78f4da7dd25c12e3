/**
 * The decision engine behind `POST /v1/decide/product` and `/checkout`: reads indexed state
 * (catalogue, stock, lane statistics, shipments, identity, directives, surveys), never the event
 * log. Hot read-only parts are cached on the injected clock with short TTLs (`DecideSettings`).
 * Every answer says why: which workflow, run and signal put a message or offer there.
 */
import type { Kysely } from 'kysely';
import type { Directive, DirectiveType } from '../act/index.ts';
import type { ContactPolicySettings } from '../automate/index.ts';
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
import { offerSurvey, type SurveyOfferDeps } from './surveys/offer.ts';
import type { SurveyStore } from './surveys/store.ts';
import type { SurveyTokens } from './surveys/token.ts';
import { type BrowserViewSettings, codeVisible, DEFAULT_BROWSER_VIEW, SERVER_VIEWER, stockBand, type Viewer, whyFor } from './viewer.ts';

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
  /** What a publishable key's answers include (stock as bands or exact counts). */
  browser: BrowserViewSettings;
}

export const DEFAULT_DECIDE_SETTINGS: DecideSettings = {
  referenceTtlMs: 10_000,
  liveTtlMs: 1000,
  customerTtlMs: 5000,
  slowLaneReliability: 0.8,
  surveyTokenTtlMs: 86_400_000,
  browser: DEFAULT_BROWSER_VIEW,
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
  /** Why a browser's anonymous id was not used. */
  note?: string;
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

function vehiclesOf(traits: Record<string, unknown>): Vehicle[] {
  return [traits.vehicle, ...(Array.isArray(traits.vehicles) ? traits.vehicles : [])]
    .map(vehicleOf)
    .filter((v): v is Vehicle => v !== undefined);
}

const NOBODY: CustomerView = { id: undefined, known: false, vehicles: [], orders: 0 };

/** How a decision says whose it is: `server` (secret key), or a publishable key's check, with what was left out and why. */
export interface IdentityAnswer {
  status: 'server' | 'verified' | 'anonymous' | 'unverified';
  reasons?: string[];
}

function identityAnswer(viewer: Viewer, more: string[] = []): IdentityAnswer {
  if (viewer.kind === 'server') return { status: 'server' };
  const reasons = [
    ...(viewer.identity.status === 'unverified' ? [`${viewer.identity.reason}; answered as for an anonymous visitor`] : []),
    ...more,
  ];
  return { status: viewer.identity.status, ...(reasons.length > 0 ? { reasons } : {}) };
}

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

  private surveyDeps(): SurveyOfferDeps {
    return { ...this.d, tokenTtlMs: this.settings.surveyTokenTtlMs };
  }

  /** Forgets every cached row (tests, or after an import in this process). */
  invalidate(): void {
    for (const c of [this.products, this.stock, this.lanes, this.windows, this.customers, this.fitment]) c.clear();
    this.directives.invalidate();
  }

  private async customer(ref: CustomerRef | undefined): Promise<CustomerView> {
    const given = ref?.userId ?? ref?.anonymousId;
    if (given === undefined) return { id: undefined, known: false, vehicles: [], orders: 0 };
    return this.customers.through(`s\u001f${ref?.userId ?? ''}\u001f${ref?.anonymousId ?? ''}`, async () => {
      let id: string | undefined;
      for (const raw of [ref?.userId, ref?.anonymousId])
        if (raw !== undefined && id === undefined) id = await resolveCustomerId(this.d.db, raw);
      const c = id === undefined ? undefined : await getCustomer(this.d.db, id);
      return { id: id ?? given, known: c !== undefined, vehicles: vehiclesOf(c?.traits ?? {}), orders: c?.orders.length ?? 0 };
    });
  }

  /**
   * The customer a decision is for. A secret key's ids are resolved as given. A browser's are
   * proven or not used: a verified userId is resolved; otherwise only the anonymous id, as itself —
   * its own anonymous profile is used, but never a profile it resolves or belongs to that has a
   * user id (holding someone's anonymous id must not reveal the signed-in customer).
   */
  private async principal(ref: CustomerRef | undefined, viewer: Viewer): Promise<CustomerView> {
    if (viewer.kind === 'server') return this.customer(ref);
    if (viewer.identity.status === 'verified') return this.customer({ userId: viewer.identity.userId });
    const anon = viewer.anonymousId;
    if (anon === undefined) return NOBODY;
    return this.customers.through(`b\u001f${anon}`, async () => {
      const id = await resolveCustomerId(this.d.db, anon);
      if (id === undefined) return { id: anon, known: false, vehicles: [], orders: 0 }; // a visitor the graph has not seen yet
      const c = id === anon ? await getCustomer(this.d.db, anon) : undefined;
      if (c === undefined || c.userIds.length > 0)
        return { ...NOBODY, note: 'the anonymous id belongs to a signed-in customer: send their userId and userHash' };
      return { id: anon, known: true, vehicles: vehiclesOf(c.traits), orders: c.orders.length };
    });
  }

  /**
   * Whether a browser may see this cart: its customer is the request's anonymous id (the widget
   * holds it) or resolves to the verified user. Cart ids can be guessed; these two cannot.
   */
  private async owns(viewer: Viewer, who: CustomerView, cart: Cart): Promise<boolean> {
    if (viewer.kind === 'server') return true;
    const owner = cart.customer;
    if (owner === undefined) return false;
    if (viewer.anonymousId !== undefined && who.id === viewer.anonymousId && owner === viewer.anonymousId) return true;
    if (viewer.identity.status !== 'verified' || who.id === undefined) return false;
    return owner === viewer.identity.userId || owner === who.id || (await resolveCustomerId(this.d.db, owner)) === who.id;
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

  /** A product-page decision; `viewer` says who asks (a browser gets what ADR 0018 allows it). */
  async decideProduct(req: ProductRequest, viewer: Viewer = SERVER_VIEWER) {
    const now = this.d.clock.now();
    const [products, stock, who] = await Promise.all([
      this.products.many(req.skus, (m) => getProducts(this.d.db, m), null),
      this.stock.many(req.skus, (m) => availability(this.d.db, m), null),
      this.principal(req.customer, viewer),
    ]);
    const bands = viewer.kind === 'browser' && this.settings.browser.stock === 'bands';
    const lowAt = this.settings.browser.lowStockAt;
    const destination = req.region ?? req.postalCode;
    const lanes = destination === undefined ? [] : await this.lanesTo(destination);
    const directives = await this.directives.matching({
      customerId: who.id,
      skus: req.skus,
      region: req.region,
      types: ['storefront.message', 'survey.show', 'recommendation'],
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
          availability: { inStock: false, band: 'out', ...(bands ? {} : { total: 0 }), warehouses: [] },
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
            why: whyFor(viewer, await directiveWhy(this.d.db, this.d.clock, dv)),
          });
      const houses = [];
      for (const w of warehouses) {
        const eta = await this.etaFrom(lanes, w.warehouse, now);
        const band = stockBand(w.onHand ?? 0, lowAt);
        houses.push(bands ? { warehouse: w.warehouse, band, eta } : { ...w, band, eta });
      }
      if (bands) why.push(`stock shown as bands: low at ${lowAt} or fewer`);
      out.push({
        sku,
        known: true,
        name: p.name,
        price: p.price,
        currency: p.currency ?? null,
        availability: { inStock: total > 0, band: stockBand(total, lowAt), ...(bands ? {} : { total }), warehouses: houses },
        promise,
        fitment,
        messages,
        why,
      });
    }
    const survey = await offerSurvey(this.surveyDeps(), directives, who, {
      placement: req.placement ?? (req.page?.type === 'confirmation' ? 'post_purchase' : 'page'),
      pageType: req.page?.type ?? 'product',
      pageUrl: req.page?.url,
      region: req.region,
      store: req.store,
      cart: undefined,
    });
    return {
      products: out,
      recommendations: await this.recommendations(directives, who, viewer),
      survey: survey === null ? null : { ...survey, why: whyFor(viewer, survey.why) },
      identity: identityAnswer(viewer, who.note !== undefined ? [who.note] : []),
      decidedAt: isoTime(now),
    };
  }

  /**
   * The `recommendation` directives (the `recommend` action) for this customer, first come first,
   * one entry per SKU: a customer-scoped one needs the principal (a browser's proven customer).
   * Whether each still fits is checked against the customer's vehicle now (else the one it was made for).
   */
  private async recommendations(directives: Directive[], who: CustomerView, viewer: Viewer) {
    const out: { sku: string; name: string | null; price: number | null; reason: string; fitsVehicle: boolean | null; why: Why }[] = [];
    if (who.id === undefined) return out;
    const seen = new Set<string>();
    for (const dv of directives) {
      if (dv.type !== 'recommendation' || dv.customerId === undefined) continue;
      const p = dv.payload as { kind?: unknown; vehicle?: unknown; for_sku?: unknown; products?: unknown };
      const vehicle = who.vehicles[0] ?? vehicleOf(p.vehicle);
      const kind = p.kind === 'upsell' ? 'An upgrade' : p.kind === 'crosssell' ? 'Goes with it' : 'A replacement';
      const why = whyFor(viewer, await directiveWhy(this.d.db, this.d.clock, dv));
      for (const item of Array.isArray(p.products) ? (p.products as Record<string, unknown>[]) : []) {
        const sku = typeof item?.sku === 'string' ? item.sku : undefined;
        if (sku === undefined || seen.has(sku) || out.length >= 10) continue;
        seen.add(sku);
        const fits =
          vehicle === undefined
            ? null
            : await this.fitment.through(`${sku}\u001f${vehicleName(vehicle)}\u001f${vehicle.engine ?? ''}`, () =>
                fitsVehicle(this.d.db, sku, vehicle),
              );
        out.push({
          sku,
          name: typeof item.name === 'string' ? item.name : null,
          price: typeof item.price === 'number' ? item.price : null,
          reason: `${kind}${typeof p.for_sku === 'string' ? ` for ${p.for_sku}` : ''}${vehicle && fits ? ` that fits your ${vehicleName(vehicle)}` : ''}`,
          fitsVehicle: fits,
          why,
        });
      }
    }
    return out;
  }

  /** The fastest default-service lane with a window among `lanes` (express only when nothing else). */
  private async bestLane(lanes: Lane[]): Promise<LaneView | undefined> {
    const standard = lanes.filter((l) => l.attributes.service === undefined || l.attributes.service === 'standard');
    let best: LaneView | undefined;
    for (const l of standard.length > 0 ? standard : lanes) {
      const v = await this.laneView(l);
      if (v.p50Offset === undefined || v.p90Offset === undefined) continue;
      if (best === undefined || v.p50Offset < (best.p50Offset as number)) best = v;
    }
    return best;
  }

  /** When a parcel from this warehouse would arrive (dates), when a region was given and a lane from it has a window. */
  private async etaFrom(lanes: Lane[], warehouse: string, now: number) {
    const best = await this.bestLane(lanes.filter((l) => l.origin === warehouse));
    if (best?.p50Offset === undefined || best.p90Offset === undefined) return null;
    return { p50: day(now + best.p50Offset), p90: day(now + best.p90Offset), carrier: best.lane.carrierId };
  }

  private async promiseFor(lanes: Lane[], warehouses: { warehouse: string; onHand: number | null }[], now: number, why: string[]) {
    if (lanes.length === 0) {
      why.push('no delivery promise: no region / postal code given, or no lane to it');
      return null;
    }
    const stocked = new Set(warehouses.filter((w) => (w.onHand ?? 0) > 0).map((w) => w.warehouse));
    const fromStock = stocked.size === 0 ? lanes : lanes.filter((l) => stocked.has(l.origin));
    // The promise is for the default service: express lanes only when there is nothing else.
    const best = await this.bestLane(fromStock);
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

  /** A checkout decision; a browser sees the cart only when it owns it (see `owns`). */
  async decideCheckout(req: CheckoutRequest, viewer: Viewer = SERVER_VIEWER) {
    const now = this.d.clock.now();
    const [found, who] = await Promise.all([getCart(this.d.db, req.cartId), this.principal(req.customer, viewer)]);
    const notes = who.note !== undefined ? [who.note] : [];
    let cart = found;
    if (found !== undefined && !(await this.owns(viewer, who, found))) {
      cart = undefined;
      notes.push(
        `cart ${req.cartId} is not this visitor's (its customer is neither the verified user nor this anonymous id): answered as an unknown cart`,
      );
    }
    const customer =
      viewer.kind === 'server' && who.id === undefined && cart?.customer !== undefined
        ? await this.customer({ userId: cart.customer })
        : who;
    const skus = cart ? Object.keys(cart.lines) : [];
    const directives = await this.directives.matching({
      customerId: customer.id,
      // A browser's cart-scoped directives only for its own cart (and none for an unknown one: it may yet become someone's).
      cartId: viewer.kind === 'server' || cart !== undefined ? req.cartId : undefined,
      ...(skus.length > 0 ? { skus } : {}),
      region: req.region,
      types: ['checkout.offer', 'storefront.message', 'survey.show'],
    });
    const offers = [];
    const messages = [];
    let expressOffer: { why: Why; expiresAt: string } | undefined;
    for (const dv of directives) {
      const why = whyFor(viewer, await directiveWhy(this.d.db, this.d.clock, dv));
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
          ...(p.discount.code !== undefined && codeVisible(viewer, dv, customer.id, cart?.cartId) ? { code: p.discount.code } : {}),
          expiresAt,
          why,
        });
      if (p.message !== undefined && p.shipping === undefined)
        offers.push({ id: `${dv.key}:message`, kind: 'message', text: p.message, expiresAt, why });
    }
    const shippingOptions = await this.shippingOptions(cart, skus, req.region ?? req.postalCode, now, expressOffer);
    const survey = await offerSurvey(this.surveyDeps(), directives, customer, {
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
      survey: survey === null ? null : { ...survey, why: whyFor(viewer, survey.why) },
      identity: identityAnswer(viewer, notes),
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
}

export type { DirectiveType };
