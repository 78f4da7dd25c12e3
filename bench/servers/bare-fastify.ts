/** The same-run baseline for `bench decide`: a bare Fastify POST route answering a fixed JSON body of similar size. Prints {url}. */
import Fastify from 'fastify';

const answer = {
  products: [
    {
      sku: 'BRK-PAD-F150-F',
      known: true,
      name: 'Part 0',
      price: 10,
      availability: { inStock: true, total: 50, warehouses: [{ warehouse: 'wh-north', onHand: 50, daysOfCover: null }] },
      promise: { p50: '2026-12-01', p90: '2026-12-03', carrier: 'dhl', lane: 'wh-north→DE', reliability: null, note: null },
      fitment: null,
      messages: [],
      why: [
        'availability from live stock levels in 1 warehouse(s)',
        'promise: lane dhl wh-north → DE: window from the catalogue lane prior',
      ],
    },
  ],
  survey: null,
  decidedAt: new Date().toISOString(),
};
const app = Fastify({ logger: false });
app.post('/v1/decide/product', async () => answer);
await app.listen({ host: '127.0.0.1', port: 0 });
const a = app.server.address();
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
