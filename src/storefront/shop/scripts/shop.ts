/**
 * Pitstop Parts, the demo storefront: one script for all its pages (`body[data-page]`). It renders
 * its catalogue from its own backend, sends shopper events like analytics.js, and asks Pitwall
 * about each page through the widget's command queue, rendering what `onDecision` hands it.
 */
import { h } from '../../widget/dom.ts';
import { flush, identify, page as pageEvent, track } from './analytics.ts';
import { type Cart, cartValue, clearCart, getCart, newOrderId, saveCart, shopper } from './cart.ts';
import { availabilityBadge, decidedProduct, money, productDecision, recommendations, shippingOptions } from './decisions.ts';

interface ShopProduct {
  sku: string;
  name: string;
  category: string | null;
  price: number;
  currency: string;
  brand: string | null;
  fitment?: { make: string; model: string; yearFrom: number; yearTo: number | null; engine: string | null }[];
}

type Queue = { push(cmd: unknown[]): unknown };
const w = window as unknown as { pitwall?: Queue | unknown[] };
w.pitwall = w.pitwall || [];
const pitwall = (...cmd: unknown[]) => (w.pitwall as Queue).push(cmd);

const main = () => document.getElementById('main') as HTMLElement;
const show = (...nodes: (Node | string)[]) => main().replaceChildren(...nodes);

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const r = await fetch(url);
    return r.ok ? ((await r.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

const lineItems = (c: Cart) => c.lines.map((l) => ({ product_id: l.sku, sku: l.sku, name: l.name, price: l.price, quantity: l.quantity }));

function updateCartCount(): void {
  const n = getCart().lines.reduce((s, l) => s + l.quantity, 0);
  const el = document.getElementById('cart-count');
  if (el) el.textContent = String(n);
}

function addToCart(p: ShopProduct): void {
  const c = getCart();
  const line = c.lines.find((l) => l.sku === p.sku);
  if (line) line.quantity += 1;
  else c.lines.push({ sku: p.sku, name: p.name, price: p.price, currency: p.currency, quantity: 1 });
  saveCart(c);
  const sent = track('Product Added', {
    cart_id: c.cartId,
    product_id: p.sku,
    sku: p.sku,
    name: p.name,
    price: p.price,
    currency: p.currency,
    quantity: 1,
  });
  void flush(sent).then(() => location.assign('/demo/shop/cart'));
}

async function catalogue(): Promise<void> {
  const q = new URLSearchParams(location.search).get('q') ?? '';
  const search = document.getElementById('q') as HTMLInputElement | null;
  if (search) search.value = q;
  const res = await getJson<{ products: ShopProduct[] }>(`/demo/shop/api/products${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  const products = res?.products ?? [];
  if (products.length === 0) {
    show(
      h('h1', {}, q ? `No parts match “${q}”` : 'The catalogue is empty'),
      h(
        'p',
        { class: 'muted', 'data-empty': 'catalogue' },
        q
          ? 'Try another search.'
          : 'No products yet. Import a catalogue (pitwall catalog import) or start the demo world to fill the shelves.',
      ),
    );
    return;
  }
  const cards = products.map((p) =>
    h(
      'li',
      { class: 'card', 'data-sku': p.sku },
      h('span', { class: 'sku' }, p.sku),
      h('h2', {}, h('a', { href: `/demo/shop/product/${encodeURIComponent(p.sku)}` }, p.name)),
      h('p', { class: 'muted' }, [p.brand, p.category].filter(Boolean).join(' · ')),
      h('p', { class: 'price' }, money(p.price, p.currency)),
      h('p', { class: 'availability' }),
    ),
  );
  show(h('h1', {}, q ? `Parts matching “${q}”` : 'Parts for your vehicle'), h('ul', { class: 'grid' }, ...cards));
  pitwall('onDecision', (d: unknown) => {
    for (const card of cards) {
      const badge = availabilityBadge(decidedProduct(d, card.dataset.sku ?? ''));
      if (badge) card.querySelector('.availability')?.replaceChildren(badge);
    }
  });
  pitwall('page', { type: 'other', skus: products.slice(0, 50).map((p) => p.sku) });
}

async function product(): Promise<void> {
  const sku = decodeURIComponent(location.pathname.split('/').pop() ?? '');
  const res = await getJson<{ product: ShopProduct | null }>(`/demo/shop/api/products/${encodeURIComponent(sku)}`);
  const p = res?.product;
  if (!p) {
    show(h('h1', {}, 'Part not found'), h('p', {}, `We do not sell “${sku}”. `, h('a', { href: '/demo/shop' }, 'Back to the catalogue')));
    return;
  }
  track('Product Viewed', { product_id: p.sku, sku: p.sku, name: p.name, price: p.price, currency: p.currency, category: p.category });
  const fits = (p.fitment ?? []).map((f) =>
    h(
      'li',
      {},
      `${f.make} ${f.model} ${f.yearFrom}${f.yearTo === f.yearFrom ? '' : `–${f.yearTo ?? ''}`}${f.engine ? ` (${f.engine})` : ''}`,
    ),
  );
  const decision = h('div', { class: 'panel', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Checking stock and delivery…'));
  const add = h('button', { type: 'button', class: 'primary' }, 'Add to cart');
  add.addEventListener('click', () => addToCart(p));
  show(
    h(
      'div',
      { class: 'product' },
      h(
        'section',
        {},
        h('span', { class: 'sku' }, p.sku),
        h('h1', {}, p.name),
        h('p', { class: 'muted' }, [p.brand, p.category].filter(Boolean).join(' · ')),
        h('h2', {}, 'Vehicle fitment'),
        fits.length
          ? h('ul', { class: 'fitment' }, ...fits)
          : h('p', { class: 'muted' }, 'Universal part — no fitment restrictions listed.'),
      ),
      h('aside', {}, h('div', { class: 'panel' }, h('p', { class: 'price' }, money(p.price, p.currency)), add), decision),
    ),
  );
  pitwall('onDecision', (d: unknown) => {
    decision.replaceChildren(productDecision(decidedProduct(d, p.sku)));
    const more = recommendations(d);
    if (more) decision.append(more);
  });
  pitwall('page', { type: 'product', skus: [p.sku] });
}

function cart(): void {
  const c = getCart();
  if (c.lines.length === 0) {
    show(h('h1', {}, 'Your cart is empty'), h('p', {}, h('a', { href: '/demo/shop' }, 'Browse parts')));
    return;
  }
  const currency = c.lines[0]?.currency ?? 'EUR';
  const rows = c.lines.map((l) => {
    const remove = h('button', { type: 'button' }, 'Remove');
    remove.addEventListener('click', () => {
      const now = getCart();
      now.lines = now.lines.filter((x) => x.sku !== l.sku);
      saveCart(now);
      track('Product Removed', { cart_id: now.cartId, product_id: l.sku, sku: l.sku, quantity: l.quantity, price: l.price });
      cart();
      updateCartCount();
    });
    return h(
      'tr',
      {},
      h('td', {}, l.name, h('br'), h('span', { class: 'sku' }, l.sku)),
      h('td', {}, String(l.quantity)),
      h('td', {}, money(l.price * l.quantity, l.currency)),
      h('td', {}, remove),
    );
  });
  show(
    h('h1', {}, 'Your cart'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'Part'), h('th', {}, 'Qty'), h('th', {}, 'Total'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions'))),
      ),
      h('tbody', {}, ...rows),
    ),
    h('p', { class: 'price' }, `Subtotal ${money(cartValue(c), currency)}`),
    h('p', {}, h('a', { class: 'button', href: '/demo/shop/checkout' }, 'Checkout')),
  );
  track('Cart Viewed', { cart_id: c.cartId, products: lineItems(c) });
  pitwall('page', { type: 'cart', cartId: c.cartId, skus: c.lines.map((l) => l.sku) });
}

async function checkout(): Promise<void> {
  const c = getCart();
  if (c.lines.length === 0) {
    show(h('h1', {}, 'Nothing to check out'), h('p', {}, h('a', { href: '/demo/shop' }, 'Browse parts')));
    return;
  }
  const currency = c.lines[0]?.currency ?? 'EUR';
  const value = cartValue(c);
  const delivery = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Finding delivery options…'));
  const region = h('select', { name: 'region', autocomplete: 'address-level1' });
  let chosen: () => string | undefined = () => 'standard';
  const form = h(
    'form',
    { class: 'panel', id: 'checkout' },
    h('h2', {}, 'Ship to'),
    h('label', { class: 'field' }, 'Full name', h('input', { name: 'name', autocomplete: 'name', required: true })),
    h('label', { class: 'field' }, 'Postal code', h('input', { name: 'postal', autocomplete: 'postal-code', required: true })),
    h('label', { class: 'field' }, 'Deliver to region', region),
    delivery,
    h('p', { class: 'price' }, `Order total ${money(value, currency)}`),
    h('button', { type: 'submit', class: 'primary' }, 'Place order'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const orderId = newOrderId();
    const now = getCart();
    const sent = track('Order Completed', {
      order_id: orderId,
      cart_id: now.cartId,
      total: value,
      revenue: value,
      currency,
      shipping_method: chosen() ?? 'standard',
      products: lineItems(now),
    });
    try {
      sessionStorage.setItem(`shop.order.${orderId}`, JSON.stringify(now.lines));
    } catch {
      // the confirmation page then shows no lines
    }
    clearCart();
    void flush(sent).then(() => location.assign(`/demo/shop/order/${orderId}`));
  });
  show(h('h1', {}, 'Checkout'), form);
  pitwall('onDecision', (d: unknown) => {
    const options = shippingOptions(d, currency);
    chosen = options.chosen;
    delivery.replaceChildren(options.el);
  });
  track('Checkout Started', { cart_id: c.cartId, value, revenue: value, currency, products: lineItems(c) });
  const decide = () =>
    pitwall('page', {
      type: 'checkout',
      cartId: c.cartId,
      skus: c.lines.map((l) => l.sku),
      ...(region.value ? { region: region.value } : {}),
    });
  region.addEventListener('change', decide);
  const res = await getJson<{ destinations: string[] }>('/demo/shop/api/destinations');
  for (const d of res?.destinations ?? []) region.append(h('option', { value: d }, d));
  if (region.options.length === 0) region.append(h('option', { value: '' }, 'Standard delivery area'));
  decide();
}

function order(): void {
  const orderId = decodeURIComponent(location.pathname.split('/').pop() ?? '');
  let skus: string[] = [];
  try {
    skus = (JSON.parse(sessionStorage.getItem(`shop.order.${orderId}`) ?? '[]') as { sku: string }[]).map((l) => l.sku);
  } catch {
    skus = [];
  }
  show(
    h('h1', {}, 'Thank you — your order is in'),
    h('p', {}, 'Order number ', h('strong', { 'data-order': orderId }, orderId), '. We will email you when it ships.'),
    h('p', {}, h('a', { href: '/demo/shop' }, 'Continue shopping')),
  );
  pitwall('page', { type: 'confirmation', orderId, skus });
}

const pages: Record<string, () => void | Promise<void>> = { catalogue, product, cart, checkout, order };

/**
 * A signed-in shopper's id goes to the widget with the userHash the shop's server signs it with
 * (a real shop renders it into the page; this demo, whose sign-in is `?customer=`, asks its backend).
 */
async function signIn(userId: string): Promise<void> {
  identify(userId);
  const signed = await getJson<{ userHash?: string }>(`/demo/shop/api/identity?user=${encodeURIComponent(userId)}`);
  pitwall('identify', { userId, ...(signed?.userHash ? { userHash: signed.userHash } : {}) });
  const v = document.getElementById('vehicle');
  if (v) v.textContent = `Signed in as ${userId}`;
}

async function start(): Promise<void> {
  const who = shopper();
  if (who.userId) await signIn(who.userId);
  updateCartCount();
  pageEvent(document.title);
  const run = pages[document.body.dataset.page ?? ''];
  if (run) await run();
}

start().catch(() => show(h('h1', {}, 'Something went wrong'), h('p', {}, 'Please reload the page.')));
