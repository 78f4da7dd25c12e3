/**
 * The carts projection: one row per cart in table `carts`, folded from commerce events.
 *
 * Rules:
 * - **Which cart**: `properties.cart_id`; without it, an `order_completed` with an `order_id`
 *   already on a cart is that cart; otherwise the customer's (`userid ?? anonymousid`) most
 *   recent open cart (status `active` or `abandoned`, latest `last_activity_ms`). An event that
 *   names no cart and finds none is ignored.
 * - **Event time, not arrival**: `last_activity_ms` is the newest event time seen for the cart;
 *   an older event (out of order, or a late backfill) still changes the lines but never moves
 *   it back. `last_event_id` is the event that set it (the `caused_by` of `cart.abandoned`).
 * - **Idempotent by position**: `updated_seq` is the highest log position applied to the
 *   cart; an event with `seq <= updated_seq` is skipped, so re-applying a batch (a crash
 *   before the consumer acked) changes nothing.
 * - **Lines**: `product_added` adds `quantity` (default 1) of `sku` (else `product_id`) at
 *   `price` (the latest price wins); `product_removed` subtracts it, dropping lines at 0.
 *   `value` is Σ quantity·price, rounded to cents; an order's `total`/`revenue` replaces it.
 *   `currency` is the latest one named, upper-cased.
 * - **Checkout**: `checkout_started` sets `checkout_step` to 0 if unset;
 *   `checkout_step_completed` raises it to `step` (never lowers it).
 * - **Status**: new carts are `active`. Activity on an `abandoned` cart makes it `active` again
 *   (it keeps `abandoned_at_ms`). `order_completed` makes it `recovered` if it was ever
 *   abandoned, else `checked_out`, and records `order_id`.
 * - **Abandoned**: the detector appends `cart.abandoned` when its timer fires (it writes no
 *   row); folding that event marks the cart abandoned at `due_at` only if the cart is still
 *   active and its last event is the one the detector saw (`last_event_id`), so activity the log
 *   took in between wins, live and on rebuild alike.
 * - History-mode events build state like any other; only the detector treats them apart.
 * - A batch is folded in one transaction (IMMEDIATE on SQLite; rows locked FOR UPDATE on
 *   PostgreSQL).
 */
import type { Kysely, Selectable } from 'kysely';
import { type Db, type Projection, type StateDb, writeTransaction } from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { LoggedEvent } from '../log/index.ts';
import type { Database, Dialect } from '../store/index.ts';

export type CartStatus = 'active' | 'checked_out' | 'abandoned' | 'recovered';

export interface CartLine {
  quantity: number;
  price: number | undefined;
}

export interface Cart {
  cartId: string;
  customer: string | undefined;
  status: CartStatus;
  lines: Record<string, CartLine>;
  value: number;
  currency: string | undefined;
  checkoutStep: number | undefined;
  /** Newest event time seen (epoch ms); never moves back. */
  lastActivityMs: number;
  /** The event that set `lastActivityMs`. */
  lastEventId: string | undefined;
  /** Highest log position applied. */
  updatedSeq: number;
  orderId: string | undefined;
  /** When the cart was (last) marked abandoned: the abandonment timer's due time. */
  abandonedAtMs: number | undefined;
}

/** What the projection needs of a store: the Kysely handle and which dialect it speaks. */
export type CartsDb = StateDb;

/** The commerce event types that touch a cart. */
export const CART_EVENT_TYPES = [
  'commerce.product_added',
  'commerce.product_removed',
  'commerce.checkout_started',
  'commerce.checkout_step_completed',
  'commerce.order_completed',
] as const;

const CART_TYPES = new Set<string>(CART_EVENT_TYPES);

export function isCartEvent(e: CloudEvent): boolean {
  return CART_TYPES.has(e.type);
}

type CartRow = Selectable<Database['carts']>;

/** Rows per `IN (...)` query and per multi-row upsert. */
const CHUNK = 500;
const OPEN_STATUSES: readonly CartStatus[] = ['active', 'abandoned'];

/**
 * Folds a batch of logged events into `carts` in one transaction; non-cart events are ignored.
 *
 * The I/O is batched, the semantics are those of applying the events one by one: every cart the
 * batch may touch (named ones, carts holding a named `order_id`, the open carts of the customers
 * of events that name no cart) is loaded up front (FOR UPDATE on PostgreSQL), the events are
 * resolved and folded in order against that in-memory state (so an event sees the carts created
 * or changed earlier in the batch), and the changed carts are written back with multi-row upserts.
 */
export async function applyCartEvents(store: CartsDb, events: readonly LoggedEvent[]): Promise<void> {
  const cartEvents = events.filter((e) => cartsProjection.handles(e.event));
  if (cartEvents.length === 0) return;
  await writeTransaction(store, (db) => foldCarts(db, cartEvents, store.dialect));
}

/** The carts projection: cart events and `cart.abandoned`. */
export const cartsProjection: Projection = {
  name: 'carts',
  tables: ['carts'],
  handles: (e) => isCartEvent(e) || e.type === 'cart.abandoned',
  apply: (db, events, dialect) => foldCarts(db, events, dialect),
};

async function foldCarts(db: Db, events: readonly LoggedEvent[], dialect: Dialect): Promise<void> {
  const state = await loadBatchState(db, events, dialect === 'postgres');
  const changed = new Set<string>();
  for (const le of events) {
    const id = state.resolve(le.event);
    if (id === undefined) continue;
    const before = state.carts.get(id);
    if (before && le.seq <= before.updatedSeq) continue;
    if (le.event.type === 'cart.abandoned') {
      if (!before) continue;
      state.put(foldAbandoned(before, le));
    } else {
      state.put(fold(before, id, le));
    }
    changed.add(id);
  }
  const rows = [...changed]
    .map((id) => state.carts.get(id))
    .filter((c): c is Cart => c !== undefined)
    .map(toRow);
  for (let i = 0; i < rows.length; i += CHUNK) await upsertRows(db, rows.slice(i, i + CHUNK));
}

/** `cart.abandoned` folded: abandoned at `due_at` if nothing happened since the event the detector saw. */
function foldAbandoned(before: Cart, le: LoggedEvent): Cart {
  const d = (le.event.data ?? {}) as Record<string, unknown>;
  const cart: Cart = { ...before, updatedSeq: le.seq };
  const dueAt = typeof d.due_at === 'string' ? Date.parse(d.due_at) : Number.NaN;
  const saw = text(d.last_event_id);
  if (before.status === 'active' && saw !== undefined && saw === before.lastEventId) {
    cart.status = 'abandoned';
    cart.abandonedAtMs = Number.isFinite(dueAt) ? dueAt : Date.parse(le.event.time);
  }
  return cart;
}

/** The carts a batch may touch, in memory, with the lookups `resolveCartId` does in SQL. */
interface BatchState {
  carts: Map<string, Cart>;
  put(cart: Cart): void;
  resolve(e: CloudEvent): string | undefined;
}

async function loadBatchState(db: Db, events: readonly LoggedEvent[], lock: boolean): Promise<BatchState> {
  const named = new Set<string>();
  const orderIds = new Set<string>();
  const customers = new Set<string>();
  for (const { event: e } of events) {
    const p = propertiesOf(e);
    const cartId = namedCartId(e);
    if (cartId !== undefined) {
      named.add(cartId);
      continue;
    }
    const orderId = text(p.order_id);
    if (e.type === 'commerce.order_completed' && orderId !== undefined) orderIds.add(orderId);
    const customer = customerOf(e);
    if (customer !== undefined) customers.add(customer);
  }

  const carts = new Map<string, Cart>();
  const byCustomer = new Map<string, Set<string>>();
  const byOrder = new Map<string, Set<string>>();
  const index = (map: Map<string, Set<string>>, key: string | undefined, cartId: string) => {
    if (key === undefined) return;
    const ids = map.get(key);
    if (ids) ids.add(cartId);
    else map.set(key, new Set([cartId]));
  };
  const put = (cart: Cart) => {
    carts.set(cart.cartId, cart);
    index(byCustomer, cart.customer, cart.cartId);
    index(byOrder, cart.orderId, cart.cartId);
  };
  const load = async (column: 'cart_id' | 'order_id' | 'customer', keys: Set<string>, openOnly: boolean) => {
    const all = [...keys];
    for (let i = 0; i < all.length; i += CHUNK) {
      const rows = await db
        .selectFrom('carts')
        .selectAll()
        .where(column, 'in', all.slice(i, i + CHUNK))
        .$if(openOnly, (q) => q.where('status', 'in', OPEN_STATUSES))
        .$if(lock, (q) => q.forUpdate())
        .execute();
      for (const row of rows) if (!carts.has(row.cart_id)) put(fromRow(row));
    }
  };
  await load('cart_id', named, false);
  await load('order_id', orderIds, false);
  await load('customer', customers, true);

  const resolve = (e: CloudEvent): string | undefined => {
    const p = propertiesOf(e);
    const cartId = namedCartId(e);
    if (cartId !== undefined) return cartId;
    const orderId = text(p.order_id);
    if (e.type === 'commerce.order_completed' && orderId !== undefined) {
      for (const id of byOrder.get(orderId) ?? []) if (carts.get(id)?.orderId === orderId) return id;
    }
    const customer = customerOf(e);
    if (customer === undefined) return undefined;
    let best: Cart | undefined;
    for (const id of byCustomer.get(customer) ?? []) {
      const c = carts.get(id);
      if (!c || c.customer !== customer || !OPEN_STATUSES.includes(c.status)) continue;
      if (!best || c.lastActivityMs > best.lastActivityMs || (c.lastActivityMs === best.lastActivityMs && c.updatedSeq > best.updatedSeq))
        best = c;
    }
    return best?.cartId;
  };
  return { carts, put, resolve };
}

/** Many carts by id, with one query per 500. */
export async function getCarts(store: CartsDb, cartIds: readonly string[]): Promise<Map<string, Cart>> {
  const out = new Map<string, Cart>();
  for (let i = 0; i < cartIds.length; i += CHUNK) {
    const rows = await store.db
      .selectFrom('carts')
      .selectAll()
      .where('cart_id', 'in', cartIds.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(r.cart_id, fromRow(r));
  }
  return out;
}

export async function getCart(store: CartsDb | Kysely<Database>, cartId: string): Promise<Cart | undefined> {
  const db = 'dialect' in store ? store.db : store;
  const row = await selectCart(db, cartId, false);
  return row ? fromRow(row) : undefined;
}

/** The customer key of an event: `userid`, else `anonymousid`. */
export function customerOf(e: CloudEvent): string | undefined {
  const u = typeof e.userid === 'string' && e.userid !== '' ? e.userid : undefined;
  const a = typeof e.anonymousid === 'string' && e.anonymousid !== '' ? e.anonymousid : undefined;
  return u ?? a;
}

/** The cart an event is about (see the rules at the top); undefined when it names none and none is open. */
export async function resolveCartId(db: Db, e: CloudEvent, lock = false): Promise<string | undefined> {
  const p = propertiesOf(e);
  const named = text(p.cart_id);
  if (named !== undefined) return named;
  const orderId = text(p.order_id);
  if (e.type === 'commerce.order_completed' && orderId !== undefined) {
    const byOrder = await db.selectFrom('carts').select('cart_id').where('order_id', '=', orderId).executeTakeFirst();
    if (byOrder) return byOrder.cart_id;
  }
  const customer = customerOf(e);
  if (customer === undefined) return undefined;
  const open = await db
    .selectFrom('carts')
    .select('cart_id')
    .where('customer', '=', customer)
    .where('status', 'in', ['active', 'abandoned'])
    .orderBy('last_activity_ms', 'desc')
    .orderBy('updated_seq', 'desc')
    .limit(1)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  return open?.cart_id;
}

function selectCart(db: Db, cartId: string, lock: boolean): Promise<CartRow | undefined> {
  return db
    .selectFrom('carts')
    .selectAll()
    .where('cart_id', '=', cartId)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
}

/** One event applied to a cart (or to a new one); pure. */
export function fold(before: Cart | undefined, cartId: string, le: LoggedEvent): Cart {
  const e = le.event;
  const p = propertiesOf(e);
  const parsed = Date.parse(e.time);
  const at = Number.isFinite(parsed) ? parsed : le.receivedAt;
  const cart: Cart = before
    ? { ...before, lines: structuredClone(before.lines) }
    : {
        cartId,
        customer: customerOf(e),
        status: 'active',
        lines: {},
        value: 0,
        currency: undefined,
        checkoutStep: undefined,
        lastActivityMs: at,
        lastEventId: e.id,
        updatedSeq: le.seq,
        orderId: undefined,
        abandonedAtMs: undefined,
      };
  cart.customer ??= customerOf(e);
  const currency = text(p.currency);
  if (currency !== undefined) cart.currency = currency.toUpperCase();

  switch (e.type) {
    case 'commerce.product_added':
    case 'commerce.product_removed': {
      const sku = text(p.sku) ?? text(p.product_id);
      if (sku === undefined) break;
      const qty = num(p.quantity) ?? 1;
      const line = cart.lines[sku] ?? { quantity: 0, price: undefined };
      const price = num(p.price);
      if (price !== undefined) line.price = price;
      line.quantity += e.type === 'commerce.product_added' ? qty : -qty;
      if (line.quantity > 0) cart.lines[sku] = line;
      else delete cart.lines[sku];
      break;
    }
    case 'commerce.checkout_started':
      cart.checkoutStep ??= 0;
      break;
    case 'commerce.checkout_step_completed': {
      const step = num(p.step);
      if (step !== undefined) cart.checkoutStep = Math.max(cart.checkoutStep ?? 0, step);
      break;
    }
    case 'commerce.order_completed':
      cart.orderId = text(p.order_id) ?? cart.orderId;
      break;
  }

  cart.value = Math.round(Object.values(cart.lines).reduce((s, l) => s + l.quantity * (l.price ?? 0), 0) * 100) / 100;
  if (e.type === 'commerce.order_completed') {
    const total = num(p.total) ?? num(p.revenue);
    if (total !== undefined) cart.value = total;
    cart.status = cart.abandonedAtMs !== undefined || cart.status === 'abandoned' ? 'recovered' : 'checked_out';
  } else if (cart.status === 'abandoned') {
    cart.status = 'active';
  }
  if (at > cart.lastActivityMs) {
    cart.lastActivityMs = at;
    cart.lastEventId = e.id;
  }
  cart.updatedSeq = le.seq;
  return cart;
}

function upsertRows(db: Db, rows: CartRow[]): Promise<unknown> {
  return db
    .insertInto('carts')
    .values(rows)
    .onConflict((oc) =>
      oc.column('cart_id').doUpdateSet((eb) => ({
        customer: eb.ref('excluded.customer'),
        status: eb.ref('excluded.status'),
        lines: eb.ref('excluded.lines'),
        value: eb.ref('excluded.value'),
        currency: eb.ref('excluded.currency'),
        checkout_step: eb.ref('excluded.checkout_step'),
        last_activity_ms: eb.ref('excluded.last_activity_ms'),
        last_event_id: eb.ref('excluded.last_event_id'),
        updated_seq: eb.ref('excluded.updated_seq'),
        order_id: eb.ref('excluded.order_id'),
        abandoned_at_ms: eb.ref('excluded.abandoned_at_ms'),
      })),
    )
    .execute();
}

function toRow(c: Cart): CartRow {
  return {
    cart_id: c.cartId,
    customer: c.customer ?? null,
    status: c.status,
    lines: JSON.stringify(c.lines),
    value: c.value,
    currency: c.currency ?? null,
    checkout_step: c.checkoutStep ?? null,
    last_activity_ms: c.lastActivityMs,
    last_event_id: c.lastEventId ?? null,
    updated_seq: c.updatedSeq,
    order_id: c.orderId ?? null,
    abandoned_at_ms: c.abandonedAtMs ?? null,
  };
}

function fromRow(r: CartRow): Cart {
  const lines = JSON.parse(r.lines) as Record<string, { quantity: number; price?: number | null }>;
  return {
    cartId: r.cart_id,
    customer: r.customer ?? undefined,
    status: r.status as CartStatus,
    lines: Object.fromEntries(Object.entries(lines).map(([k, l]) => [k, { quantity: l.quantity, price: l.price ?? undefined }])),
    value: Number(r.value),
    currency: r.currency ?? undefined,
    checkoutStep: r.checkout_step ?? undefined,
    lastActivityMs: Number(r.last_activity_ms),
    lastEventId: r.last_event_id ?? undefined,
    updatedSeq: Number(r.updated_seq),
    orderId: r.order_id ?? undefined,
    abandonedAtMs: r.abandoned_at_ms === null ? undefined : Number(r.abandoned_at_ms),
  };
}

/** The cart an event names: `properties.cart_id`, or `cart_id` of a `cart.*` derived event. */
export function namedCartId(e: CloudEvent): string | undefined {
  if (e.type.startsWith('cart.')) return text((e.data as Record<string, unknown> | undefined)?.cart_id);
  return text(propertiesOf(e).cart_id);
}

function propertiesOf(e: CloudEvent): Record<string, unknown> {
  const data = e.data;
  if (typeof data !== 'object' || data === null) return {};
  const p = (data as { properties?: unknown }).properties;
  return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : {};
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
