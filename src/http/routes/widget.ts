/**
 * Browser code: `GET /widget.js` (the embeddable widget, bundled in memory at start),
 * `GET /widget.css` (its styles, linked from its shadow root), and the demo shop at `/demo/shop`
 * when `PITWALL_DEMO_SHOP` is on (`pitwall start --demo` turns it on).
 * No key: a script tag cannot send one; the widget's calls carry the publishable key.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/index.ts';
import { bundleWidget, demoShopRoutes, staticText, WIDGET_CSS } from '../../storefront/index.ts';
import type { HttpDeps } from '../deps.ts';

const unavailable = (e: unknown) =>
  new AppError('PW_WIDGET_UNAVAILABLE', 'the widget bundle could not be built; see the server log', {
    status: 503,
    category: 'operational',
    cause: e,
  });

export function widgetRoutes(app: FastifyInstance, d: HttpDeps): void {
  bundleWidget().then(
    (b) => d.logger.info({ bytes: b.bytes, gzip_bytes: b.gzipBytes }, `widget.js bundled: ${b.bytes} bytes, ${b.gzipBytes} gzipped`),
    (e) => d.logger.error({ err: e }, 'widget.js could not be bundled'),
  );

  // Any page may load these (a shop on another origin); CORP says so for pages with COEP.
  const shared = {
    'cross-origin-resource-policy': 'cross-origin',
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
  };

  app.get('/widget.js', async (_req, reply) => {
    const b = await bundleWidget().catch((e) => {
      throw unavailable(e);
    });
    return reply.headers(shared).header('cache-control', 'public, max-age=300').type('application/javascript; charset=utf-8').send(b.code);
  });
  app.get('/widget.css', async (_req, reply) => {
    const css = await staticText(WIDGET_CSS).catch((e) => {
      throw unavailable(e);
    });
    return reply.headers(shared).header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(css);
  });

  // Its pages carry an ingest write key (the shop's analytics): only where a demo is wanted.
  if (d.demoShop) demoShopRoutes(app, { db: d.store.db, clock: d.clock, logger: d.logger, publicUrl: d.publicUrl });
}
