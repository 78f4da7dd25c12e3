/**
 * The demo world: a simulated automotive-parts shop. It advances in fixed steps of simulated
 * time and says what a real shop would send to Pitwall — Segment calls from shoppers,
 * CloudEvents from carriers, telemetry from connected vehicles, SenML packs from warehouse sensors — and
 * its shoppers ask the storefront decision API what to show and react to the answer.
 *
 * Deterministic: the same seed, start time and storefront answers give the same emissions
 * (every draw comes from a named stream of one seeded generator; nothing reads the wall clock).
 * The causal effects (a slow promise lowers conversion, an express offer raises it, survey
 * answers tell the true cause) can each be switched off, so a measured uplift is not built in.
 */
import { buildShopModel, type Lane, type PartKind, type ShopModel, type Sku, type VehicleModel } from './model.ts';
import { Rng } from './rng.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * The share of orders that come back (a Segment "Order Refunded" for the whole order, 2–12 days
 * after it was placed), whatever their parts — the truth Plan's return-rate estimate recovers.
 */
export const RETURN_RATE = 0.06;

/**
 * The share of shipments knocked hard in transit: one tracker `shock` reading of 14 ± 1.5 g (above
 * Pitwall's default 10 g limit) at their first position report — the damage Plan's estimate
 * recovers. Trackers of temperature-sensitive goods report the reefer's 5 ± 0.6 °C (inside the
 * default 2–8 °C), the others the ambient 14 ± 3 °C.
 */
export const DAMAGE_RATE = 0.03;

/** What the world sends, in the shapes of Pitwall's public ingest routes. */
export type Emission =
  | { kind: 'segment'; message: Record<string, unknown> }
  | { kind: 'cloudevent'; event: Record<string, unknown> }
  | { kind: 'senml'; device: string; pack: Record<string, unknown>[] }
  /** One report of a connected vehicle's device: VSS signals at one instant (MQTT telemetry, or `vehicle.signal` CloudEvents over HTTP). */
  | { kind: 'telemetry'; device: string; id: string; vin: string; at: number; signals: { name: string; value: number; unit: string }[] };

/** The part of a decide answer the shoppers look at (docs/storefront.md; fields may be missing). */
export interface ProductDecision {
  products?: { sku?: string; promise?: { p50?: string; p90?: string } | null }[];
  survey?: { id?: string; token?: string } | null;
}
export interface CheckoutDecision {
  shippingOptions?: { id?: string; p90?: string; recommended?: boolean }[];
  offers?: { kind?: string; shipping?: string }[];
  survey?: { id?: string; token?: string } | null;
}

/** The storefront as a shopper sees it. `null` = nothing to show (no decision API, or it failed). */
export interface Storefront {
  decideProduct(req: Record<string, unknown>): Promise<ProductDecision | null>;
  decideCheckout(req: Record<string, unknown>): Promise<CheckoutDecision | null>;
  answerSurvey(surveyId: string, body: Record<string, unknown>): Promise<void>;
}

/** A storefront with no decision API: shoppers see the shop's static promise and no offers. */
export const plainStorefront: Storefront = {
  decideProduct: async () => null,
  decideCheckout: async () => null,
  answerSurvey: async () => undefined,
};

/** The causal effects; each can be switched off. */
export interface Effects {
  /** A slower delivery promise lowers conversion. */
  promise: boolean;
  /** An express-shipping offer at checkout raises conversion (of a returning shopper). */
  offer: boolean;
  /** Survey answers give the true reason; off: a reason drawn at random. */
  truthfulSurveys: boolean;
}

export interface WorldOptions {
  seed: number | string;
  /** Simulated start (ms since the epoch): the server's clock when the demo starts. */
  startMs: number;
  effects?: Partial<Effects>;
  /** Shopper sessions per simulated hour at the daily peak (default 40). */
  sessionsPerHour?: number;
  /** Connected vehicles (default 60). */
  vehicles?: number;
  /** Minutes between warehouse sensor packs (default 10). */
  sensorMinutes?: number;
  /** Sensor faults, incidents and cold-room faults (default true). */
  faults?: boolean;
  /** Multiplies how often incidents, cold-room and sensor faults start (default 1; tests raise it). */
  trouble?: number;
  /**
   * `delivery-concern`: most shoppers come for a part that is held up on the road (on a shipment
   * the world has delayed), and one who leaves without buying leaves over delivery time — the
   * situation the `delivery-concern-rescue` workflow is for, so its uplift test needs fewer
   * shoppers. How they react to what Pitwall shows them is unchanged.
   */
  focus?: 'delivery-concern';
}

export interface WorldStats {
  sessions: number;
  carts: number;
  orders: number;
  abandoned: number;
  returns: number;
  /** Orders refunded (see RETURN_RATE). */
  refunds: number;
  /** Shipments knocked in transit (see DAMAGE_RATE). */
  damaged: number;
  recovered: number;
  shipments: number;
  delivered: number;
  lateDeliveries: number;
  incidents: number;
  coldRoomFaults: number;
  sensorFaults: number;
  surveyAnswers: number;
  offersSeen: number;
  emissions: number;
}

interface Customer {
  id: string;
  model: number;
  year: number;
  region: string;
  identified: boolean;
  /** Accepted marketing in the cookie banner (workflows need it to show surveys and offers). */
  marketing: boolean;
  /** A post-purchase survey answer reflects the last delivery. */
  lastDeliveryLate?: boolean;
}

interface Vehicle {
  vin: string;
  customer: Customer;
  soh: number;
  sohPerDay: number;
  padWear: number;
  padPerDay: number;
  odometer: number;
  kmPerDay: number;
  batterySku: string;
  padSku: string;
  nextReportMs: number;
  buying: boolean;
}

interface Cart {
  id: string;
  customer: Customer;
  anonymous: boolean;
  lines: { sku: Sku; quantity: number }[];
  region: string;
  /** The reason this shopper did not buy (the truth a survey answer reveals). */
  cause: string;
}

interface Shipment {
  id: string;
  orderId: string;
  customer: Customer;
  lane: Lane;
  lines: { sku: string; quantity: number }[];
  createdMs: number;
  promisedMs: number;
  deliverMs: number;
  stage: 'booked' | 'picked_up' | 'in_transit' | 'at_hub' | 'out_for_delivery' | 'delivered';
  nextPositionMs: number;
  stoppedUntilMs: number;
  /** Share of the route covered at the last fix (it does not grow while the truck stands still). */
  progress: number;
  from: { lat: number; lon: number };
  to: { lat: number; lon: number };
  /** Carries temperature-sensitive goods (its tracker reports the reefer's temperature). */
  reefer: boolean;
  /** Knocked at its first position report (DAMAGE_RATE); cleared once reported. */
  shock: boolean;
}

interface Incident {
  carrier: string;
  destination: string;
  untilMs: number;
  factor: number;
  reason: string;
}

type FaultKind = 'stuck' | 'drift' | 'dropout' | 'skew';
interface SensorFault {
  kind: FaultKind;
  untilMs: number;
  value?: number;
  startMs: number;
}

interface Agenda {
  at: number;
  seq: number;
  run: () => Promise<void> | void;
}

const KIND_SHARE: [PartKind, number][] = [
  ['brake_pads', 0.2],
  ['brake_rotors', 0.1],
  ['battery', 0.14],
  ['oil_filter', 0.12],
  ['air_filter', 0.09],
  ['wipers', 0.1],
  ['spark_plugs', 0.07],
  ['sensor', 0.08],
  ['adhesive', 0.04],
  ['fluid', 0.06],
];

const VIN_CHARS = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
/** Survey ids and option ids of Pitwall's built-in surveys (src/storefront/surveys/builtin.ts). */
const POST_PURCHASE = 'post-purchase-csat';
const NON_DELIVERY_CAUSES = ['price', 'shipping_cost', 'just_browsing'];
const ALL_CAUSES = ['delivery_time', ...NON_DELIVERY_CAUSES];
const PAD_SIGNAL = 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Brake.PadWear';

export class World {
  readonly model: ShopModel;
  readonly effects: Effects;
  readonly stats: WorldStats = {
    sessions: 0,
    carts: 0,
    orders: 0,
    abandoned: 0,
    returns: 0,
    refunds: 0,
    damaged: 0,
    recovered: 0,
    shipments: 0,
    delivered: 0,
    lateDeliveries: 0,
    incidents: 0,
    coldRoomFaults: 0,
    sensorFaults: 0,
    surveyAnswers: 0,
    offersSeen: 0,
    emissions: 0,
  };
  /** Simulated time up to which the world has run. */
  now: number;
  private readonly opts: Required<Omit<WorldOptions, 'effects' | 'seed' | 'startMs' | 'focus'>> & Pick<WorldOptions, 'focus'>;
  private readonly run: string;
  private readonly rng: { shop: Rng; env: Rng; fleet: Rng; carriers: Rng; faults: Rng; ids: Rng; refunds: Rng; damage: Rng };
  private seq = 0;
  private readonly customers: Customer[] = [];
  private readonly vehicles: Vehicle[] = [];
  private readonly stock = new Map<string, number>();
  private readonly dirtyShelves = new Set<string>();
  private readonly pendingRestock = new Set<string>();
  private readonly shipments: Shipment[] = [];
  private readonly incidents: Incident[] = [];
  private readonly agenda: Agenda[] = [];
  private readonly faults = new Map<string, SensorFault>();
  private readonly lastValue = new Map<string, number>();
  private readonly coldRoomUntil = new Map<string, number>();
  private conveyorWear = 2;
  private nextSensorMs: number;
  private nextHourMs: number;
  private started = false;
  private out: (e: Emission) => void = () => undefined;
  private storefront: Storefront = plainStorefront;
  private readonly skusByKind = new Map<PartKind, Sku[]>();
  private readonly skuById = new Map<string, Sku>();

  constructor(o: WorldOptions) {
    const root = new Rng(o.seed);
    this.model = buildShopModel(o.seed);
    this.effects = { promise: true, offer: true, truthfulSurveys: true, ...o.effects };
    this.opts = {
      sessionsPerHour: o.sessionsPerHour ?? 40,
      vehicles: o.vehicles ?? 60,
      sensorMinutes: o.sensorMinutes ?? 10,
      faults: o.faults ?? true,
      trouble: o.trouble ?? 1,
      focus: o.focus,
    };
    this.rng = {
      shop: root.fork('shop'),
      env: root.fork('env'),
      fleet: root.fork('fleet'),
      carriers: root.fork('carriers'),
      faults: root.fork('faults'),
      ids: root.fork('ids'),
      // Its own stream (and its own event ids): refunds change no other draw of the world.
      refunds: root.fork('refunds'),
      damage: root.fork('damage'),
    };
    // Ids carry the run's start, so a second run against the same Pitwall is not deduped away.
    this.run = `${Math.floor(o.startMs / 1000).toString(36)}`;
    this.now = o.startMs;
    this.nextSensorMs = o.startMs;
    this.nextHourMs = o.startMs;
    for (const s of this.model.skus) {
      this.skuById.set(s.sku, s);
      const list = this.skusByKind.get(s.kind) ?? [];
      list.push(s);
      this.skusByKind.set(s.kind, list);
    }
    const people = new Rng(o.seed).fork('people');
    for (let i = 0; i < 400; i++) {
      const model = people.int(0, this.model.models.length - 1);
      const m = this.model.models[model] as VehicleModel;
      this.customers.push({
        id: `cus_${String(i + 1).padStart(4, '0')}`,
        model,
        year: people.int(m.yearFrom, m.yearTo),
        region: this.pickRegion(people),
        identified: false,
        marketing: people.chance(0.75),
      });
    }
    for (let i = 0; i < this.opts.vehicles; i++) {
      const customer = this.customers[i] as Customer;
      let vin = '';
      for (let j = 0; j < 17; j++) vin += people.pick([...VIN_CHARS]);
      const battery = this.fitting(customer, 'battery', people);
      const pads = this.fitting(customer, 'brake_pads', people);
      this.vehicles.push({
        vin,
        customer,
        // Some batteries and pads are near their service threshold, so the first simulated days tell that story.
        soh: people.chance(0.2) ? people.between(70.2, 72) : people.between(72, 97),
        sohPerDay: people.between(0.05, 0.4),
        padWear: people.chance(0.2) ? people.between(77, 79.8) : people.between(20, 77),
        padPerDay: people.between(0.2, 1.1),
        odometer: people.int(8_000, 160_000),
        kmPerDay: people.between(15, 90),
        batterySku: battery.sku,
        padSku: pads.sku,
        nextReportMs: o.startMs + people.int(0, 6 * 60) * MIN,
        buying: false,
      });
    }
    for (const w of this.model.warehouses)
      for (const s of this.model.skus) {
        // The best sellers of each family start close to their reorder point: the first orders make them low.
        const hot = s.weight > 0.5;
        this.stock.set(`${w.id}|${s.sku}`, hot ? s.reorderPoint + people.int(0, 2) : Math.round(s.reorderPoint * people.between(2, 6) + 2));
      }
  }

  /** Runs the world up to `toMs`, sending what happens to `emit` and asking `storefront` what shoppers see. */
  async advance(toMs: number, io: { emit: (e: Emission) => void; storefront?: Storefront }): Promise<void> {
    this.out = io.emit;
    this.storefront = io.storefront ?? plainStorefront;
    if (!this.started) {
      this.started = true;
      this.registerDevices();
      for (const k of this.stock.keys()) this.dirtyShelves.add(k);
    }
    const step = 5 * MIN;
    while (this.now + step <= toMs) {
      const from = this.now;
      const to = from + step;
      await this.runAgenda(to);
      if (to >= this.nextHourMs) {
        this.hourly(this.nextHourMs);
        this.nextHourMs += HOUR;
      }
      // A session's clicks span up to 8 minutes: sessions start 10 minutes back, so nothing is stamped after `to` (the server's now).
      await this.sessions(from - 10 * MIN, to - 10 * MIN);
      this.moveShipments(to);
      this.vehicleReports(to);
      if (to >= this.nextSensorMs) {
        this.sensorPacks(this.nextSensorMs);
        this.nextSensorMs += this.opts.sensorMinutes * MIN;
      }
      this.shelfReadings(to);
      this.now = to;
    }
  }

  // ─── shoppers ────────────────────────────────────────────────────────────────

  private async sessions(from: number, to: number): Promise<void> {
    const hour = new Date(from).getUTCHours();
    // A shop's day: quiet at night, busy in the evening.
    const shape = 0.15 + 0.85 * Math.max(0, Math.sin(((hour - 6) / 18) * Math.PI));
    const n = this.rng.shop.poisson((this.opts.sessionsPerHour * shape * (to - from)) / HOUR);
    for (let i = 0; i < n; i++) await this.session(from + Math.floor(((i + 1) * (to - from)) / (n + 1)));
  }

  private async session(at: number): Promise<void> {
    const r = this.rng.shop;
    this.stats.sessions++;
    const registered = r.chance(0.45);
    const customer: Customer = registered
      ? r.pick(this.customers)
      : (() => {
          const model = r.int(0, this.model.models.length - 1);
          const m = this.model.models[model] as VehicleModel;
          return {
            id: `anon-${this.run}-${this.nextId()}`,
            model,
            year: r.int(m.yearFrom, m.yearTo),
            region: this.pickRegion(r),
            identified: false,
            marketing: r.chance(0.6),
          };
        })();
    const who: Record<string, string> = registered ? { userId: customer.id } : { anonymousId: customer.id };
    if (registered && !customer.identified) {
      customer.identified = true;
      const m = this.model.models[customer.model] as VehicleModel;
      this.segment(at, { type: 'identify', ...who, traits: { region: customer.region, vehicle: `${customer.year} ${m.make} ${m.model}` } });
    }
    const held = this.opts.focus === 'delivery-concern' ? this.heldUpSku(at, r) : undefined;
    const kind = held?.kind ?? KIND_SHARE[r.weighted(KIND_SHARE.map((k) => k[1]))]?.[0] ?? 'brake_pads';
    const sku = held ?? this.fitting(customer, kind, r);
    this.segment(at, {
      type: 'page',
      ...who,
      name: 'Product',
      category: sku.category,
      properties: { path: `/p/${sku.sku.toLowerCase()}` },
      context: { consent: { categoryPreferences: { Marketing: customer.marketing, Analytics: true } } },
    });
    const decision = await this.storefront.decideProduct({
      skus: [sku.sku],
      customer: who,
      region: customer.region,
      placement: 'page',
      page: { type: 'product' },
    });
    // A post-purchase survey is answered at once; an exit-intent one when the shopper leaves without buying.
    if (decision?.survey?.id === POST_PURCHASE) await this.maybeAnswerSurvey(decision.survey, customer, who, undefined);
    const exitSurvey = decision?.survey?.id === POST_PURCHASE ? undefined : decision?.survey;
    const promiseDays = this.promiseDays(decision?.products?.[0]?.promise?.p90, at, sku, customer.region);
    // The view says which delivery promise the page showed (days to the P90 date), as a shop's
    // tracking would: Learn keeps it and Plan fits how conversion falls with it.
    this.segment(at, {
      type: 'track',
      ...who,
      event: 'Product Viewed',
      properties: { ...this.productProps(sku, 1), promise_days: Math.round(promiseDays * 100) / 100 },
    });
    const promiseFactor = this.effects.promise ? Math.min(1, Math.max(0.2, Math.exp(-0.45 * Math.max(0, promiseDays - 2.5)))) : 1;
    if (!r.chance(0.5 * (0.6 + 0.4 * promiseFactor))) return;
    this.stats.carts++;
    const cart: Cart = {
      id: `cart-${this.run}-${this.nextId()}`,
      customer,
      anonymous: !registered,
      lines: [],
      region: customer.region,
      cause: '',
    };
    cart.lines.push({ sku, quantity: kind === 'brake_pads' || kind === 'battery' ? 1 : r.int(1, 2) });
    this.segment(at + MIN, {
      type: 'track',
      ...who,
      event: 'Product Added',
      properties: { ...this.productProps(sku, cart.lines[0]?.quantity ?? 1), cart_id: cart.id },
    });
    if (r.chance(0.3)) {
      const extra = this.fitting(customer, r.pick(['wipers', 'oil_filter', 'air_filter', 'fluid'] as PartKind[]), r);
      cart.lines.push({ sku: extra, quantity: 1 });
      this.segment(at + 2 * MIN, {
        type: 'track',
        ...who,
        event: 'Product Added',
        properties: { ...this.productProps(extra, 1), cart_id: cart.id },
      });
    }
    const reachesCheckout = r.chance(0.75);
    let checkoutSurvey: { id?: string; token?: string } | undefined;
    let p = 0.62 * promiseFactor;
    if (reachesCheckout) {
      this.segment(at + 4 * MIN, {
        type: 'track',
        ...who,
        event: 'Checkout Started',
        properties: { cart_id: cart.id, value: cartValue(cart), currency: 'EUR' },
      });
      const checkout = await this.storefront.decideCheckout({ cartId: cart.id, customer: who, region: customer.region });
      checkoutSurvey = checkout?.survey ?? undefined;
      if (this.hasExpressOffer(checkout)) {
        this.stats.offersSeen++;
        if (this.effects.offer) p = Math.min(0.95, p + 0.25);
      }
    } else p = 0;
    let exit = exitSurvey;
    // A shopper who came for a held-up part mostly hesitates over its delivery time.
    if (held) p *= 0.35;
    if (r.chance(p)) {
      await this.placeOrder(at + 8 * MIN, cart, who, false);
      return;
    }
    // Not bought: why (the truth a survey reveals).
    cart.cause =
      this.opts.focus === 'delivery-concern' || (promiseDays > 3.5 && r.chance(0.8)) ? 'delivery_time' : r.pick(NON_DELIVERY_CAUSES);
    this.stats.abandoned++;
    exit = checkoutSurvey ?? exit;
    if (exit) await this.maybeAnswerSurvey(exit, customer, who, cart);
    if (r.chance(cart.cause === 'delivery_time' ? 0.7 : 0.45))
      this.schedule(at + r.int(cart.cause === 'delivery_time' ? 120 : 40, 18 * 60) * MIN, () => this.returnVisit(cart, who, 1));
  }

  /** A SKU on a shipment an incident holds up now (world truth), for the `delivery-concern` focus; undefined when none is. */
  private heldUpSku(at: number, r: Rng): Sku | undefined {
    const skus: string[] = [];
    for (const s of this.shipments)
      if (s.stage !== 'delivered' && (s.stoppedUntilMs > at || this.incidentOn(s.lane.carrier, s.lane.destination, at)))
        for (const l of s.lines) if ((this.skuById.get(l.sku)?.price ?? 0) > 50) skus.push(l.sku);
    if (skus.length === 0 || !r.chance(0.9)) return undefined;
    return this.skuById.get(r.pick(skus));
  }

  private async returnVisit(cart: Cart, who: Record<string, string>, visit: number): Promise<void> {
    const r = this.rng.shop;
    const at = this.now - 10 * MIN; // the order comes 5 minutes later, still not after the server's now
    this.stats.returns++;
    this.segment(at, { type: 'page', ...who, name: 'Cart', category: 'cart', properties: { path: '/cart' } });
    const product = await this.storefront.decideProduct({
      skus: cart.lines.map((l) => l.sku.sku),
      customer: who,
      region: cart.region,
      placement: 'exit_intent',
      page: { type: 'cart' },
    });
    const checkout = await this.storefront.decideCheckout({ cartId: cart.id, customer: who, region: cart.region });
    await this.maybeAnswerSurvey(checkout?.survey ?? product?.survey, cart.customer, who, cart);
    let p = 0.22;
    const offered = this.hasExpressOffer(checkout);
    if (offered) this.stats.offersSeen++;
    if (offered && this.effects.offer) p += cart.cause === 'delivery_time' ? 0.4 : 0.15;
    const promiseDays = this.promiseDays(product?.products?.[0]?.promise?.p90, at, cart.lines[0]?.sku as Sku, cart.region);
    if (this.effects.promise && cart.cause === 'delivery_time' && promiseDays <= 2.5) p += 0.1; // the concern resolved itself
    if (r.chance(p)) {
      this.stats.recovered++;
      await this.placeOrder(at + 5 * MIN, cart, who, offered);
    } else if (visit === 1 && r.chance(cart.cause === 'delivery_time' ? 0.6 : 0.3)) {
      // Still undecided: some look once more, up to a day later.
      this.schedule(this.now + r.int(3 * 60, 24 * 60) * MIN, () => this.returnVisit(cart, who, 2));
    }
  }

  private async maybeAnswerSurvey(
    survey: { id?: string; token?: string } | null | undefined,
    customer: Customer,
    who: Record<string, string>,
    cart: Cart | undefined,
  ): Promise<void> {
    if (!survey?.id || !survey.token) return;
    const r = this.rng.shop;
    if (!r.chance(0.6)) return; // most people answer a one-question survey; some dismiss it
    let answers: { question: string; value: string | number }[];
    if (survey.id === POST_PURCHASE) {
      // The built-in survey (src/storefront/surveys/builtin.ts): CSAT, then "what went wrong?" below 4, else NPS.
      const late = customer.lastDeliveryLate === true;
      const score = this.effects.truthfulSurveys ? (late ? r.int(1, 3) : r.int(4, 5)) : r.int(1, 5);
      answers = [{ question: 'csat', value: score }];
      if (score < 4) answers.push({ question: 'problem', value: late ? 'It arrived later than promised.' : 'Not what I expected.' });
      else answers.push({ question: 'nps', value: score === 5 ? r.int(9, 10) : r.int(7, 8) });
    } else {
      const cause = cart?.cause || 'just_browsing';
      answers = [{ question: 'reason', value: this.effects.truthfulSurveys ? cause : r.pick(ALL_CAUSES) }];
    }
    this.stats.surveyAnswers++;
    void who;
    await this.storefront.answerSurvey(survey.id, { token: survey.token, answers, context: cart ? { cartId: cart.id } : {} });
  }

  private hasExpressOffer(c: CheckoutDecision | null): boolean {
    return (c?.offers ?? []).some((o) => o.shipping === 'express' || o.kind === 'shipping');
  }

  /**
   * Days to the P90 the storefront promised. Without an answer (history mode, or Pitwall
   * unreachable) the shop's own promise: its lane's P90 plus half a day, stretched while the
   * carrier has an incident in the region — a shop hears of those too.
   */
  private promiseDays(p90: string | undefined, at: number, sku: Sku, region: string): number {
    const t = p90 ? Date.parse(p90) : Number.NaN;
    if (Number.isFinite(t)) return Math.max(0, (t - at) / DAY);
    const lane = this.laneFor(this.originFor(sku, region, 1), region, 'northline');
    const incident = this.incidentOn('northline', region, at);
    return (lane.p90Hours * (incident?.factor ?? 1) + 12) / 24;
  }

  private async placeOrder(at: number, cart: Cart, who: Record<string, string>, express: boolean): Promise<void> {
    const r = this.rng.shop;
    this.stats.orders++;
    const orderId = `ord-${this.run}-${this.nextId()}`;
    const origin = this.originFor(cart.lines[0]?.sku as Sku, cart.region, cart.lines[0]?.quantity ?? 1);
    const products = cart.lines.map((l) => ({ ...this.productProps(l.sku, l.quantity), warehouse: origin }));
    this.segment(at, {
      type: 'track',
      ...who,
      event: 'Order Completed',
      properties: {
        order_id: orderId,
        cart_id: cart.id,
        value: cartValue(cart),
        revenue: cartValue(cart),
        currency: 'EUR',
        warehouse: origin,
        products,
      },
    });
    for (const l of cart.lines) this.take(origin, l.sku, l.quantity);
    this.maybeRefund(at, orderId, cartValue(cart), who);
    const carrier = express ? 'swift-express' : r.pick(['northline', 'northline', 'rapidpost', 'cargoline']);
    const handling = r.int(60, 5 * 60) * MIN;
    this.schedule(at + handling, () => this.book(orderId, cart, origin, carrier));
  }

  /** With probability RETURN_RATE, the order comes back 2–12 days later: "Order Refunded" for all of it. */
  private maybeRefund(at: number, orderId: string, total: number, who: Record<string, string>): void {
    const r = this.rng.refunds;
    if (!r.chance(RETURN_RATE)) return;
    const when = at + r.between(2, 12) * DAY;
    const messageId = `demo-${this.run}-${r.hex(10)}`;
    this.schedule(when, () => {
      this.stats.refunds++;
      this.emit({
        kind: 'segment',
        message: {
          type: 'track',
          ...who,
          event: 'Order Refunded',
          properties: { order_id: orderId, total, currency: 'EUR' },
          timestamp: new Date(when).toISOString(),
          messageId,
        },
      });
    });
  }

  // ─── warehouses and stock ────────────────────────────────────────────────────

  private originFor(sku: Sku, region: string, qty: number): string {
    const home = this.model.warehouses.find((w) => w.region === region)?.id ?? 'DE-HAM-1';
    if ((this.stock.get(`${home}|${sku.sku}`) ?? 0) >= qty) return home;
    for (const w of this.model.warehouses) if ((this.stock.get(`${w.id}|${sku.sku}`) ?? 0) >= qty) return w.id;
    return home;
  }

  private take(warehouse: string, sku: Sku, qty: number): void {
    const key = `${warehouse}|${sku.sku}`;
    const left = Math.max(0, (this.stock.get(key) ?? 0) - qty);
    this.stock.set(key, left);
    this.dirtyShelves.add(key);
    if (left < sku.reorderPoint && !this.pendingRestock.has(key)) {
      this.pendingRestock.add(key);
      // The purchase order arrives after a supplier lead time of one to four days.
      this.schedule(this.now + this.rng.env.int(24, 96) * HOUR, () => {
        this.pendingRestock.delete(key);
        this.stock.set(key, (this.stock.get(key) ?? 0) + Math.round(sku.reorderPoint * this.rng.env.between(3, 6)));
        this.dirtyShelves.add(key);
      });
    }
  }

  private shelfReadings(at: number): void {
    const byWarehouse = new Map<string, Record<string, unknown>[]>();
    for (const key of this.dirtyShelves) {
      const [wh = '', sku = ''] = key.split('|');
      const list = byWarehouse.get(wh) ?? [];
      list.push({ n: `shelf:${wh}:${sku}`, v: this.stock.get(key) ?? 0 });
      byWarehouse.set(wh, list);
    }
    this.dirtyShelves.clear();
    for (const w of this.model.warehouses) {
      const recs = byWarehouse.get(w.id);
      if (!recs) continue;
      for (let i = 0; i < recs.length; i += 500)
        this.emit({
          kind: 'senml',
          device: `shelf-${w.id.toLowerCase()}`,
          pack: [{ bn: `urn:dev:mac:${w.mac}:`, bt: at / 1000, ...recs[i] }, ...recs.slice(i + 1, i + 500)],
        });
    }
  }

  private sensorPacks(at: number): void {
    const hourOfDay = new Date(at).getUTCHours() + new Date(at).getUTCMinutes() / 60;
    for (const w of this.model.warehouses) {
      const coldFault = (this.coldRoomUntil.get(w.id) ?? 0) > at;
      const env = this.rng.env;
      const readings: [string, string, number][] = [
        ['coldroom_temp', 'Cel', coldFault ? env.normal(10.5, 0.6) : env.normal(4.2, 0.35)],
        ['ambient_temp', 'Cel', 17 + 4 * Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI) + env.normal(0, 0.3)],
        ['humidity', '%RH', 48 + env.normal(0, 2)],
        ['conveyor_vibration', 'm/s2', (w.id === 'DE-CGN-1' ? this.conveyorWear : 2) + env.normal(0, 0.25)],
      ];
      const recs: Record<string, unknown>[] = [];
      for (const [name, unit, raw] of readings) {
        const key = `${w.id}:${name}`;
        const f = this.faults.get(key);
        let v = Math.round(raw * 100) / 100;
        let t: number | undefined;
        if (f && f.untilMs > at) {
          if (f.kind === 'dropout') continue;
          if (f.kind === 'stuck') v = f.value ?? v;
          if (f.kind === 'drift') v = Math.round((v + ((at - f.startMs) / HOUR) * 0.15) * 100) / 100;
          if (f.kind === 'skew') t = -17 * 60; // the sensor's clock runs 17 minutes behind
        } else if (f) this.faults.delete(key);
        this.lastValue.set(key, v);
        recs.push({ n: name, u: unit, v, ...(t !== undefined ? { t } : {}) });
      }
      if (recs.length === 0) continue;
      const [first, ...rest] = recs;
      this.emit({
        kind: 'senml',
        device: `env-${w.id.toLowerCase()}`,
        pack: [{ bn: `urn:dev:mac:${w.mac}:`, bt: at / 1000, ...first }, ...rest],
      });
    }
  }

  /** Once a simulated hour: incidents, cold-room faults, sensor faults, the conveyor. */
  private hourly(at: number): void {
    const f = this.rng.faults;
    // The conveyor in Cologne wears until it is repaired.
    this.conveyorWear = this.conveyorWear > 11 ? 2 : this.conveyorWear + f.between(0, 0.12);
    if (!this.opts.faults) return;
    for (const w of this.model.warehouses)
      if ((this.coldRoomUntil.get(w.id) ?? 0) <= at && f.chance((w.id === 'DE-HAM-1' ? 0.012 : 0.004) * this.opts.trouble)) {
        this.coldRoomUntil.set(w.id, at + f.int(2, 6) * HOUR);
        this.stats.coldRoomFaults++;
      }
    for (const w of this.model.warehouses)
      for (const name of ['ambient_temp', 'humidity', 'conveyor_vibration']) {
        const key = `${w.id}:${name}`;
        if (this.faults.has(key) || !f.chance(0.004 * this.opts.trouble)) continue;
        const kind = f.pick(['stuck', 'drift', 'dropout', 'skew'] as FaultKind[]);
        this.faults.set(key, {
          kind,
          startMs: at,
          untilMs: at + f.int(2, 12) * HOUR,
          ...(kind === 'stuck' ? { value: this.lastValue.get(key) ?? 0 } : {}),
        });
        this.stats.sensorFaults++;
      }
    // Incidents: weather or a hub outage delays a carrier's deliveries into a region.
    const c = this.rng.carriers;
    for (const carrier of this.model.carriers)
      for (const region of this.model.regions) {
        if (this.incidents.some((i) => i.carrier === carrier.id && i.destination === region.id && i.untilMs > at)) continue;
        if (!c.chance(0.0025 * this.opts.trouble)) continue;
        const inc: Incident = {
          carrier: carrier.id,
          destination: region.id,
          untilMs: at + c.int(8, 60) * HOUR,
          factor: c.between(1.8, 3.2),
          reason: c.pick(['weather', 'hub_outage', 'vehicle_breakdown']),
        };
        this.incidents.push(inc);
        this.stats.incidents++;
        for (const s of this.shipments)
          if (s.stage !== 'delivered' && s.lane.carrier === inc.carrier && s.lane.destination === inc.destination) this.delay(s, inc, at);
      }
  }

  // ─── carriers and shipments ──────────────────────────────────────────────────

  private laneFor(origin: string, destination: string, carrier: string): Lane {
    return (
      this.model.lanes.find((l) => l.origin === origin && l.destination === destination && l.carrier === carrier) ??
      (this.model.lanes[0] as Lane)
    );
  }

  private incidentOn(carrier: string, destination: string, at: number): Incident | undefined {
    return this.incidents.find((i) => i.carrier === carrier && i.destination === destination && i.untilMs > at);
  }

  private book(orderId: string, cart: Cart, origin: string, carrier: string): void {
    const at = this.now;
    const lane = this.laneFor(origin, cart.region, carrier);
    const c = this.rng.carriers;
    const incident = this.incidentOn(carrier, cart.region, at);
    const transit = c.logNormal(lane.p50Hours, lane.p90Hours) * HOUR * (incident ? incident.factor : 1);
    const wh = this.model.warehouses.find((w) => w.id === origin);
    const region = this.model.regions.find((r) => r.id === cart.region);
    const s: Shipment = {
      id: `shp-${this.run}-${this.nextId()}`,
      orderId,
      customer: cart.customer,
      lane,
      lines: cart.lines.map((l) => ({ sku: l.sku.sku, quantity: l.quantity })),
      createdMs: at,
      promisedMs: at + (lane.p90Hours + 6) * HOUR,
      deliverMs: at + Math.max(4 * HOUR, transit),
      stage: 'booked',
      nextPositionMs: at + 2 * HOUR,
      stoppedUntilMs: incident ? Math.min(incident.untilMs, at + transit / 2) : 0,
      progress: 0,
      from: { lat: wh?.lat ?? 53.5, lon: wh?.lon ?? 10 },
      to: { lat: (region?.lat ?? 52) + c.normal(0, 0.3), lon: (region?.lon ?? 10) + c.normal(0, 0.3) },
      reefer: cart.lines.some((l) => l.sku.temperatureSensitive),
      // Its own stream: damage changes no other draw of the world.
      shock: this.rng.damage.chance(DAMAGE_RATE),
    };
    this.shipments.push(s);
    this.stats.shipments++;
    this.cloudEvent(at, 'shipment.created', `urn:pitwall-demo:carrier/${carrier}`, {
      shipment_id: s.id,
      carrier,
      origin,
      destination: cart.region,
      promised_at: new Date(s.promisedMs).toISOString(),
      order_id: orderId,
      tracking_number: `${carrier.slice(0, 3).toUpperCase()}${this.nextId()}`,
      service: carrier === 'swift-express' ? 'express' : 'standard',
      lines: s.lines,
    });
    this.status(s, at, 'label_created');
  }

  private delay(s: Shipment, inc: Incident, at: number): void {
    const extra = (inc.untilMs - at) * 0.7;
    s.deliverMs += extra;
    s.stoppedUntilMs = Math.max(s.stoppedUntilMs, at + extra);
    this.status(s, at, 'delayed', inc.reason);
  }

  private moveShipments(to: number): void {
    for (const s of this.shipments) {
      if (s.stage === 'delivered') continue;
      const total = s.deliverMs - s.createdMs;
      const steps: [Shipment['stage'], number][] = [
        ['picked_up', s.createdMs + Math.min(3 * HOUR, total * 0.1)],
        ['in_transit', s.createdMs + Math.min(4 * HOUR, total * 0.15)],
        ['at_hub', s.createdMs + total * 0.55],
        ['out_for_delivery', s.deliverMs - Math.min(5 * HOUR, total * 0.2)],
      ];
      for (const [stage, t] of steps)
        if (t <= to && rank(stage) > rank(s.stage)) {
          s.stage = stage;
          this.status(s, Math.max(t, this.now), stage);
        }
      while (s.nextPositionMs <= to && s.nextPositionMs < s.deliverMs) {
        const at = s.nextPositionMs;
        s.nextPositionMs += 2 * HOUR;
        if (rank(s.stage) < rank('picked_up')) continue;
        const moving = at >= s.stoppedUntilMs;
        // A held-up truck stands still: its fixes stay where it stopped until it moves on.
        if (moving) s.progress = Math.max(s.progress, Math.min(1, (at - s.createdMs) / total));
        const frac = s.progress;
        const lat = s.from.lat + (s.to.lat - s.from.lat) * frac;
        const lon = s.from.lon + (s.to.lon - s.from.lon) * frac;
        this.cloudEvent(at, 'shipment.position', `urn:pitwall-demo:tracker/${s.lane.carrier}`, {
          shipment_id: s.id,
          lat: Math.round(lat * 1e5) / 1e5,
          lon: Math.round(lon * 1e5) / 1e5,
          speed_kmh: moving ? Math.round(this.rng.carriers.between(55, 85)) : 0,
        });
        if (this.rng.carriers.chance(0.5)) {
          // One draw either way (the carriers' stream stays as it was): ambient, or the reefer's.
          const ambient = this.rng.carriers.normal(14, 3);
          this.cloudEvent(at, 'shipment.condition', `urn:pitwall-demo:tracker/${s.lane.carrier}`, {
            shipment_id: s.id,
            kind: 'temperature',
            value: Math.round((s.reefer ? 5 + (ambient - 14) * 0.2 : ambient) * 10) / 10,
            unit: 'Cel',
          });
        }
        if (s.shock) {
          s.shock = false;
          this.stats.damaged++;
          const d = this.rng.damage;
          this.emit({
            kind: 'cloudevent',
            event: {
              specversion: '1.0',
              id: `demo-${this.run}-${d.hex(10)}`,
              source: `urn:pitwall-demo:tracker/${s.lane.carrier}`,
              type: 'shipment.condition',
              time: new Date(at).toISOString(),
              data: { shipment_id: s.id, kind: 'shock', value: Math.round(d.normal(14, 1.5) * 10) / 10, unit: 'g' },
            },
          });
        }
      }
      if (s.deliverMs <= to) {
        s.stage = 'delivered';
        this.stats.delivered++;
        const late = s.deliverMs > s.promisedMs;
        if (late) this.stats.lateDeliveries++;
        s.customer.lastDeliveryLate = late;
        this.cloudEvent(s.deliverMs, 'shipment.delivered', `urn:pitwall-demo:carrier/${s.lane.carrier}`, {
          shipment_id: s.id,
          location: s.lane.destination,
        });
      }
    }
    // Forget delivered shipments after a week (memory stays bounded in long runs).
    const cutoff = to - 7 * DAY;
    for (let i = this.shipments.length - 1; i >= 0; i--) {
      const s = this.shipments[i] as Shipment;
      if (s.stage === 'delivered' && s.deliverMs < cutoff) this.shipments.splice(i, 1);
    }
    for (let i = this.incidents.length - 1; i >= 0; i--) if ((this.incidents[i] as Incident).untilMs < cutoff) this.incidents.splice(i, 1);
  }

  private status(s: Shipment, at: number, status: string, reason?: string): void {
    this.cloudEvent(at, 'shipment.status', `urn:pitwall-demo:carrier/${s.lane.carrier}`, {
      shipment_id: s.id,
      status,
      ...(reason ? { reason } : {}),
      location: status === 'out_for_delivery' ? s.lane.destination : s.lane.origin,
    });
  }

  // ─── connected vehicles ──────────────────────────────────────────────────────

  private registerDevices(): void {
    for (const v of this.vehicles) {
      this.register(v, 'battery_monitor', v.batterySku, this.now);
      this.register(v, 'brake_sensor', v.padSku, this.now);
    }
  }

  private register(v: Vehicle, kind: string, sku: string, at: number): void {
    const device = `${kind === 'battery_monitor' ? 'bm' : 'bw'}-${v.vin.slice(-8).toLowerCase()}`;
    this.cloudEvent(at, 'device.registered', 'urn:pitwall-demo:fleet', {
      device_id: device,
      kind,
      customer_id: v.customer.id,
      vin: v.vin,
      part_sku: sku,
      part_serial: `${sku}-${this.run}-${this.nextId()}`,
    });
  }

  private vehicleReports(to: number): void {
    const f = this.rng.fleet;
    for (const v of this.vehicles) {
      while (v.nextReportMs <= to) {
        const at = v.nextReportMs;
        const days = 0.25;
        v.nextReportMs += 6 * HOUR;
        v.soh = Math.max(30, v.soh - v.sohPerDay * days);
        v.padWear = Math.min(100, v.padWear + v.padPerDay * days);
        v.odometer += v.kmPerDay * days;
        const dropout = this.opts.faults && f.chance(0.03);
        if (!dropout) {
          this.telemetry(at, v, `bm-${v.vin.slice(-8).toLowerCase()}`, [
            { name: 'Vehicle.LowVoltageBattery.StateOfHealth', value: Math.round((v.soh + f.normal(0, 0.4)) * 10) / 10, unit: 'percent' },
            {
              name: 'Vehicle.LowVoltageBattery.CurrentVoltage',
              value: Math.round(f.normal(12.1 + (v.soh - 70) / 60, 0.1) * 100) / 100,
              unit: 'V',
            },
          ]);
          this.telemetry(at, v, `bw-${v.vin.slice(-8).toLowerCase()}`, [
            { name: PAD_SIGNAL, value: Math.round(v.padWear * 10) / 10, unit: 'percent' },
            { name: 'Vehicle.TraveledDistance', value: Math.round(v.odometer), unit: 'km' },
          ]);
        }
        // A customer told about a worn part may buy the replacement (and it gets fitted).
        if (!v.buying && (v.soh < 70 || v.padWear > 80) && f.chance(0.06)) {
          v.buying = true;
          const battery = v.soh < 70;
          const sku = this.skuById.get(battery ? v.batterySku : v.padSku) as Sku;
          const cart: Cart = {
            id: `cart-${this.run}-${this.nextId()}`,
            customer: v.customer,
            anonymous: false,
            lines: [{ sku, quantity: 1 }],
            region: v.customer.region,
            cause: '',
          };
          this.schedule(at + f.int(1, 48) * HOUR, async () => {
            this.segment(this.now - 10 * MIN, {
              type: 'track',
              userId: v.customer.id,
              event: 'Product Added',
              properties: { ...this.productProps(sku, 1), cart_id: cart.id },
            });
            await this.placeOrder(this.now, cart, { userId: v.customer.id }, false);
            this.schedule(this.now + f.int(48, 120) * HOUR, () => {
              if (battery) v.soh = f.between(96, 100);
              else v.padWear = f.between(0, 5);
              v.buying = false;
              this.register(v, battery ? 'battery_monitor' : 'brake_sensor', sku.sku, this.now);
            });
          });
        }
      }
    }
  }

  private telemetry(at: number, v: Vehicle, device: string, signals: { name: string; value: number; unit: string }[]): void {
    this.emit({ kind: 'telemetry', device, id: `demo-${this.run}-${this.nextId()}`, vin: v.vin, at, signals });
  }

  // ─── plumbing ────────────────────────────────────────────────────────────────

  private fitting(customer: Customer, kind: PartKind, r: Rng): Sku {
    const list = this.skusByKind.get(kind) ?? this.model.skus;
    const fits = list.filter((s) => s.fits.includes(customer.model));
    const pool = fits.length > 0 ? fits : list;
    return pool[r.weighted(pool.map((s) => s.weight))] as Sku;
  }

  private pickRegion(r: Rng): string {
    return this.model.regions[r.weighted(this.model.regions.map((x) => x.share))]?.id ?? 'DE-NORTH';
  }

  private productProps(s: Sku, quantity: number): Record<string, unknown> {
    return { product_id: s.sku.toLowerCase(), sku: s.sku, name: s.name, category: s.category, price: s.price, quantity, currency: 'EUR' };
  }

  private schedule(at: number, run: () => Promise<void> | void): void {
    const item = { at, seq: this.seq++, run };
    let i = this.agenda.length;
    while (
      i > 0 &&
      ((this.agenda[i - 1] as Agenda).at > at ||
        ((this.agenda[i - 1] as Agenda).at === at && (this.agenda[i - 1] as Agenda).seq > item.seq))
    )
      i--;
    this.agenda.splice(i, 0, item);
  }

  private async runAgenda(to: number): Promise<void> {
    while (this.agenda.length > 0 && (this.agenda[0] as Agenda).at <= to) {
      const item = this.agenda.shift() as Agenda;
      const saved = this.now;
      this.now = Math.max(this.now, item.at);
      await item.run();
      this.now = saved;
    }
  }

  private nextId(): string {
    return this.rng.ids.hex(10);
  }

  private emit(e: Emission): void {
    this.stats.emissions++;
    this.out(e);
  }

  private segment(at: number, message: Record<string, unknown>): void {
    this.emit({
      kind: 'segment',
      message: { ...message, timestamp: new Date(at).toISOString(), messageId: `demo-${this.run}-${this.nextId()}` },
    });
  }

  private cloudEvent(at: number, type: string, source: string, data: Record<string, unknown>, ext: Record<string, string> = {}): void {
    this.emit({
      kind: 'cloudevent',
      event: { specversion: '1.0', id: `demo-${this.run}-${this.nextId()}`, source, type, time: new Date(at).toISOString(), ...ext, data },
    });
  }
}

function rank(stage: Shipment['stage']): number {
  return ['booked', 'picked_up', 'in_transit', 'at_hub', 'out_for_delivery', 'delivered'].indexOf(stage);
}

function cartValue(c: Cart): number {
  return Math.round(c.lines.reduce((a, l) => a + l.sku.price * l.quantity, 0) * 100) / 100;
}
