/**
 * The demo storefront's server side (`/demo/shop`): its pages (one HTML shell, rendered by the
 * shop's own script), its product API over the catalogue, and its keys. It uses Pitwall the way a
 * real shop would: the widget's script tag carries a publishable key, shopper events go to the
 * Segment-compatible endpoints with a write key, and every page is served with the strict CSP
 * (`script-src 'self'; style-src 'self'; connect-src 'self'`) the widget must work under.
 *
 * Keys: on the first page view from an origin, this process creates a publishable key bound to
 * that origin and an ingest write key (named "demo shop (automatic) …"), after revoking the ones an earlier
 * run left; at most MAX_ORIGINS origins per process. The origin is never taken from the request's
 * `Host` header: it is the configured public URL (`PITWALL_PUBLIC_URL`), else this server's own
 * address as the connection reached it — the `Host` header only picks `localhost` over `127.0.0.1`
 * for a loopback connection, so a forged header can neither mint keys for another origin nor use up
 * MAX_ORIGINS.
 *
 * Sign-in: `?customer=<id>` signs the shopper in as anyone (a demo has no passwords), and
 * `/demo/shop/api/identity` signs that id with store `main`'s identity secret as a shop's server
 * would. So while the demo shop is on, store `main`'s identity proof is only as good as this.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { getProduct, listLanes, listProducts, type Product } from '../../catalog/index.ts';
import { AppError, type Clock } from '../../core/index.ts';
import { createKey, listKeys, revokeKey } from '../../govern/index.ts';
import type { Database } from '../../store/index.ts';
import { IdentitySecrets } from '../identity.ts';
import { bundle, SHOP_ENTRY, staticText } from './bundle.ts';

export interface DemoShopDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  /** `PITWALL_PUBLIC_URL`: the origin shoppers use (behind a proxy); else the server's own address. */
  publicUrl?: string | undefined;
}

/** The store the demo shop's publishable key serves (and whose identity secret signs its shoppers). */
const SHOP_STORE = 'main';

const originOf = (url: string): string | undefined => {
  try {
    const o = new URL(url).origin;
    return o === 'null' ? undefined : o;
  } catch {
    return undefined;
  }
};

/**
 * The origin the shop's pages are for: the configured public URL, else the address this connection
 * reached (the socket's, not the `Host` header's). On a loopback address the header may pick one of
 * the loopback names of the same port (`localhost`, `127.0.0.1`, `[::1]`), as browsers send them.
 */
export function shopOrigin(req: FastifyRequest, publicUrl: string | undefined): string | undefined {
  if (publicUrl !== undefined) return originOf(publicUrl);
  const local = req.socket?.localAddress;
  const port = req.socket?.localPort;
  if (local === undefined || port === undefined || !ipaddr.isValid(local)) return undefined;
  const addr = ipaddr.process(local);
  const own = originOf(`http://${addr.kind() === 'ipv6' ? `[${addr.toString()}]` : addr.toString()}:${port}`);
  if (addr.range() !== 'loopback') return own;
  const loopback = [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`].map(originOf);
  const host = req.headers.host;
  const asked = typeof host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? originOf(`http://${host.toLowerCase()}`) : undefined;
  return asked !== undefined && loopback.includes(asked) ? asked : own;
}

interface ShopKeys {
  publishable: string;
  write: string;
}

const MAX_ORIGINS = 8;
const KEY_NAME = 'demo shop (automatic)';
const here = (p: string) => new URL(p, import.meta.url).pathname;
const SHELL = here('./pages/shell.html');
const CSS = here('./assets/shop.css');

const PAGES: Record<string, string> = {
  catalogue: 'Catalogue',
  product: 'Product',
  cart: 'Your cart',
  checkout: 'Checkout',
  order: 'Order confirmed',
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The policy from the Storefront issue; the shop and Pitwall share an origin, so 'self' is Pitwall. */
export const DEMO_SHOP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function productWire(p: Product) {
  const brand = typeof p.attributes.brand === 'string' ? p.attributes.brand : null;
  return { sku: p.sku, name: p.name, category: p.category ?? null, price: p.price, currency: p.currency ?? 'EUR', brand };
}

export function demoShopRoutes(app: FastifyInstance, d: DemoShopDeps): void {
  const keysByOrigin = new Map<string, Promise<ShopKeys | undefined>>();
  let cleaned: Promise<void> | undefined;

  const keysFor = (origin: string): Promise<ShopKeys | undefined> => {
    let p = keysByOrigin.get(origin);
    if (p) return p;
    if (keysByOrigin.size >= MAX_ORIGINS) return Promise.resolve(undefined);
    cleaned ??= (async () => {
      for (const k of await listKeys(d.db)) if (k.revokedAt === null && k.name.startsWith(KEY_NAME)) await revokeKey(d.db, d.clock, k.id);
    })();
    p = (async () => {
      await cleaned;
      const publishable = await createKey(d.db, d.clock, {
        name: `${KEY_NAME} publishable ${origin}`,
        scopes: ['publishable'],
        origins: [origin],
        store: SHOP_STORE,
      });
      const write = await createKey(d.db, d.clock, { name: `${KEY_NAME} write key ${origin}`, scopes: ['ingest'] });
      d.logger.info({ origin, publishable: publishable.info.id, write: write.info.id }, 'demo shop keys created');
      return { publishable: publishable.key, write: write.key };
    })();
    p.catch((e) => {
      keysByOrigin.delete(origin);
      d.logger.warn({ err: e, origin }, 'demo shop keys could not be created; the shop runs without Pitwall');
    });
    keysByOrigin.set(origin, p);
    return p;
  };

  const page = (name: keyof typeof PAGES & string) => async (req: FastifyRequest, reply: FastifyReply) => {
    const origin = shopOrigin(req, d.publicUrl);
    const keys = origin ? await keysFor(origin).catch(() => undefined) : undefined;
    const html = (await staticText(SHELL))
      .replaceAll('{{title}}', esc(PAGES[name] ?? ''))
      .replaceAll('{{page}}', name)
      .replaceAll('{{publishableKey}}', esc(keys?.publishable ?? ''))
      .replaceAll('{{writeKey}}', esc(keys?.write ?? ''));
    return reply
      .header('content-security-policy', DEMO_SHOP_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  };

  app.get('/demo/shop', page('catalogue'));
  app.get('/demo/shop/', page('catalogue'));
  app.get('/demo/shop/product/:sku', page('product'));
  app.get('/demo/shop/cart', page('cart'));
  app.get('/demo/shop/checkout', page('checkout'));
  app.get('/demo/shop/order/:orderId', page('order'));

  app.get('/demo/shop/assets/shop.js', async (_req, reply) =>
    reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(
        (
          await bundle(SHOP_ENTRY).catch((e) => {
            throw new AppError('PW_WIDGET_UNAVAILABLE', 'the demo shop script could not be built; see the server log', {
              status: 503,
              category: 'operational',
              cause: e,
            });
          })
        ).code,
      ),
  );
  app.get('/demo/shop/assets/shop.css', async (_req, reply) =>
    reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(await staticText(CSS)),
  );

  // The shop's own backend: its catalogue, read from Pitwall's (a real shop has its own).
  app.get<{ Querystring: { q?: string; category?: string } }>(
    '/demo/shop/api/products',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { q: { type: 'string', maxLength: 100 }, category: { type: 'string', maxLength: 100 } },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const products = await listProducts(d.db, { q: req.query.q, category: req.query.category, limit: 48 });
      return { products: products.map(productWire) };
    },
  );
  // The shop's server signs its signed-in shopper's id for the widget (a real shop renders it into the page).
  const identity = new IdentitySecrets(d.db, d.clock);
  app.get<{ Querystring: { user: string } }>(
    '/demo/shop/api/identity',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { user: { type: 'string', minLength: 1, maxLength: 200 } },
          required: ['user'],
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      return { userId: req.query.user, userHash: await identity.sign(SHOP_STORE, req.query.user) };
    },
  );
  // Where the shop delivers: the destinations of the catalogue's lanes (regions such as DE-BY).
  app.get('/demo/shop/api/destinations', async () => {
    const lanes = await listLanes(d.db, {});
    return { destinations: [...new Set(lanes.map((l) => l.destination))].sort() };
  });
  app.get<{ Params: { sku: string } }>('/demo/shop/api/products/:sku', async (req, reply) => {
    const p = req.params.sku.length <= 100 ? await getProduct(d.db, req.params.sku) : undefined;
    if (!p) return reply.code(200).send({ product: null });
    return {
      product: {
        ...productWire(p),
        fitment: p.fitment.map((f) => ({
          make: f.make,
          model: f.model,
          yearFrom: f.yearFrom,
          yearTo: f.yearTo ?? null,
          engine: f.engine ?? null,
        })),
      },
    };
  });
}
