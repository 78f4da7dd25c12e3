/**
 * Storefront: the decision API, surveys and browser access (publishable keys, CORS, rate limits).
 * The widget and the demo shop (`widget/`, `shop/`) are browser code served beside it.
 *
 * Words:
 * - **decision**: what a shop page should show for some SKUs or a cart — availability, a delivery
 *   promise (P50/P90), fitment, messages, offers, a survey — each with its **why**.
 * - **directive**: what a workflow action left for the storefront (src/act); served until it expires.
 * - **publishable key**: a `pk_…` key that is safe in a browser: storefront routes only, bound to origins.
 * - **survey token**: signed proof that a decide answer offered a survey to a customer; a response needs one.
 * - **impression**: the widget showed a survey (counts against the contact policy's `survey` channel).
 * - **identity secret**: a store's server-side secret; `userHash = HMAC-SHA256(secret, userId)` proves a
 *   browser's userId. **Principal**: whom a browser's decision is for — a verified user, else its own
 *   anonymous id (never resolved to a signed-in customer), else nobody.
 */
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { ContactPolicySettings } from '../automate/index.ts';
import type { Clock } from '../core/index.ts';
import type { EventLog } from '../log/index.ts';
import { listShipments } from '../state/index.ts';
import type { Database, Store } from '../store/index.ts';
import { type AccessSettings, StorefrontAccess } from './access.ts';
import { Decider, type DecideSettings } from './decide.ts';
import { IdentitySecrets } from './identity.ts';
import type { SurveyServices } from './surveys/responses.ts';
import { SurveyStore, seedBuiltinSurveys } from './surveys/store.ts';
import { SurveyTokens, type TokenClaims } from './surveys/token.ts';

export {
  type AccessSettings,
  addressBucket,
  DEFAULT_ACCESS_SETTINGS,
  parseOrigins,
  type RateLimit,
  StorefrontAccess,
  TokenBuckets,
} from './access.ts';
export { DEFAULT_DECIDE_SETTINGS, Decider, type DecideSettings, type IdentityAnswer, SLOW_LANE_NOTE } from './decide.ts';
export type { Why } from './directives.ts';
export { DEFAULT_STORE, hashMatches, type IdentityCheck, IdentitySecrets, userHash } from './identity.ts';
export { type CheckoutRequest, type CustomerRef, type ProductRequest, parseCheckoutRequest, parseProductRequest } from './requests.ts';
export { type ParsedStorefrontSettings, parseStorefrontSettings } from './settings.ts';
export { type Bundle, bundleWidget, staticText, WIDGET_CSS } from './shop/bundle.ts';
export { DEMO_SHOP_CSP, type DemoShopDeps, demoShopRoutes } from './shop/plugin.ts';
export { AUDIENCE_VARIABLES, compileAudience } from './surveys/audience.ts';
export { BUILTIN_SURVEYS, POST_PURCHASE_CSAT, WHAT_STOPPED_YOU } from './surveys/builtin.ts';
export {
  PLACEMENT_TYPES,
  parseSurvey,
  QUESTION_TYPES,
  resolveLocale,
  type SurveyDefinition,
  type SurveyProblem,
  type SurveyQuestion,
  surveyProblems,
} from './surveys/definition.ts';
export {
  type Answer,
  type ResponseInput,
  recordImpression,
  STOREFRONT_SOURCE,
  submitResponse,
  validateAnswers,
} from './surveys/responses.ts';
export { type ResultsRange, type SurveyResults, surveyCsv, surveyResponseStats, surveyResults } from './surveys/results.ts';
export { type StoredSurvey, SurveyStore, seedBuiltinSurveys } from './surveys/store.ts';
export { SurveyTokens, type TokenClaims } from './surveys/token.ts';
export { type BrowserViewSettings, DEFAULT_BROWSER_VIEW, SERVER_VIEWER, type StockBand, stockBand, type Viewer } from './viewer.ts';

export interface StorefrontSettings {
  access?: Partial<AccessSettings>;
  decide?: Partial<DecideSettings>;
}

export interface Storefront {
  access: StorefrontAccess;
  decider: Decider;
  /** Each store's identity secret: proves a browser's userId (ADR 0018). */
  identity: IdentitySecrets;
  surveys: SurveyStore;
  services: SurveyServices;
  /** The IoT context recorded with a response: the delayed shipments of its cart's SKUs or its order. */
  iotContext(claims: TokenClaims, ctx: Record<string, string>): Promise<Record<string, unknown>>;
  /** Closes the read connection (SQLite). */
  close(): Promise<void>;
}

/**
 * Decisions only read. On SQLite they get their own read-only connection: the store's one
 * connection is serialised, so reads there would wait for the state consumer's write
 * transactions (WAL lets a second connection read the last commit meanwhile).
 */
function readConnection(store: Store): { db: Kysely<Database>; close(): Promise<void> } {
  const file = store.sqlite?.name;
  if (!store.singleWriter || file === undefined || file === ':memory:' || file === '')
    return { db: store.db, close: async () => undefined };
  const raw = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  raw.pragma('busy_timeout = 10000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  return {
    db,
    async close() {
      await db.destroy();
      if (raw.open) raw.close();
    },
  };
}

/** Wires the storefront over a store and log; seeds the built-in surveys. */
export async function createStorefront(opts: {
  store: Store;
  log: EventLog;
  clock: Clock;
  policy: ContactPolicySettings;
  settings?: StorefrontSettings;
}): Promise<Storefront> {
  const { store, clock } = opts;
  const db = store.db;
  await seedBuiltinSurveys(db, clock.now());
  const surveys = new SurveyStore(db, clock);
  const tokens = new SurveyTokens(db);
  const read = readConnection(store);
  const decider = new Decider({ db: read.db, clock, surveys, tokens, policy: opts.policy }, opts.settings?.decide);
  return {
    access: new StorefrontAccess(db, clock, opts.settings?.access),
    decider,
    identity: new IdentitySecrets(db, clock),
    surveys,
    services: { db, clock, log: opts.log, surveys, tokens },
    close: () => read.close(),
    async iotContext(claims, ctx) {
      const cartId = claims.cart ?? ctx.cartId;
      const orderId = claims.order ?? ctx.orderId;
      const cart =
        cartId === undefined ? undefined : await db.selectFrom('carts').select(['lines']).where('cart_id', '=', cartId).executeTakeFirst();
      const skus = new Set<string>(ctx.sku ? [ctx.sku] : []);
      if (cart) for (const sku of Object.keys(JSON.parse(cart.lines) as Record<string, unknown>)) skus.add(sku);
      if (skus.size === 0 && orderId === undefined) return {};
      const delayed = await listShipments(db, { delayed: true, limit: 1000 });
      const hit = delayed.filter((s) => (orderId !== undefined && s.orderId === orderId) || (s.lines ?? []).some((l) => skus.has(l.sku)));
      return {
        delayed_shipments: hit.slice(0, 20).map((s) => ({
          shipment_id: s.shipmentId,
          carrier: s.carrier ?? null,
          lane: s.origin !== undefined && s.destination !== undefined ? `${s.origin}→${s.destination}` : null,
          status: s.status,
          delay_reasons: s.delayReasons,
        })),
      };
    },
  };
}
