/** The shop's cart and shopper, kept in localStorage the way small shops keep them. */

export interface CartLine {
  sku: string;
  name: string;
  price: number;
  currency: string;
  quantity: number;
}

export interface Cart {
  cartId: string;
  lines: CartLine[];
}

const CART = 'shop.cart';

function id(prefix: string): string {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  return prefix + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function load<T>(key: string): T | undefined {
  try {
    const s = localStorage.getItem(key);
    return s ? (JSON.parse(s) as T) : undefined;
  } catch {
    return undefined;
  }
}

function save(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage refused: the cart lives for this page only
  }
}

export function getCart(): Cart {
  const c = load<Cart>(CART);
  if (c && typeof c.cartId === 'string' && Array.isArray(c.lines)) return c;
  const fresh = { cartId: id('cart-'), lines: [] };
  save(CART, fresh);
  return fresh;
}

export function saveCart(c: Cart): void {
  save(CART, c);
}

/** Starts a new cart (after an order). */
export function clearCart(): void {
  save(CART, { cartId: id('cart-'), lines: [] });
}

export const newOrderId = () => id('order-');

export const cartValue = (c: Cart) => Math.round(c.lines.reduce((s, l) => s + l.price * l.quantity, 0) * 100) / 100;

/** The shopper: the widget's anonymous id (shared, so events and decisions meet) and a user id once signed in. */
export function shopper(): { anonymousId: string; userId?: string } {
  let aid = '';
  try {
    aid = localStorage.getItem('pitwall.aid') ?? '';
    if (!aid) {
      aid = crypto.randomUUID ? crypto.randomUUID() : id('anon-');
      localStorage.setItem('pitwall.aid', aid);
    }
  } catch {
    aid ||= id('anon-');
  }
  const fromUrl = new URLSearchParams(location.search).get('customer');
  if (fromUrl) save('shop.customer', fromUrl);
  const userId = fromUrl ?? load<string>('shop.customer');
  return userId ? { anonymousId: aid, userId } : { anonymousId: aid };
}
