/**
 * Child process for `bench decide`: an embedded Pitwall with Decide on (so the ingest load is
 * folded into state while decisions are served), rate limits raised out of the way, and a
 * small catalogue, lanes and stock. Prints {url, key, pk, origin}.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { createKey } from '../../src/govern/index.ts';
import { startPitwall } from '../../src/main.ts';
import { Metrics } from '../../src/ops/metrics.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: decide.ts <dataDir>');
const file = path.join(dir, 'pitwall.config.yaml');
writeFileSync(
  file,
  'storefront:\n  rate_limits:\n    per_ip: { per_second: 10000000, burst: 10000000 }\n    per_key: { per_second: 10000000, burst: 10000000 }\n',
);
const cfg = loadConfig(
  {
    PITWALL_DATA_DIR: dir,
    PITWALL_HTTP_PORT: '0',
    PITWALL_MQTT_PORT: 'off',
    PITWALL_LOG_LEVEL: 'silent',
    PITWALL_DECIDE: process.env.PITWALL_DECIDE ?? 'on',
    PITWALL_DECIDE_THREAD: process.env.PITWALL_DECIDE_THREAD ?? 'on',
    PITWALL_CONFIG: file,
  },
  dir,
);
const pw = await startPitwall(cfg, { logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) });
const { key } = await createKey(pw.store.db, pw.clock, { name: 'bench', scopes: ['ingest', 'read', 'admin'] });
const origin = 'https://shop.example';
const { key: pk } = await createKey(pw.store.db, pw.clock, { name: 'shop', scopes: ['publishable'], origins: [origin] });

const BENCH_SKUS = ['BRK-PAD-F150-F', 'BAT-AGM-70AH', 'FLT-OIL-5W30', 'WIP-600MM', 'SPK-IRIDIUM-4'];
async function put(route: string, body: unknown): Promise<void> {
  const res = await fetch(`${pw.httpUrl}${route}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${await res.text()}`);
}
await put('/v1/catalog', {
  products: BENCH_SKUS.map((sku, i) => ({
    sku,
    name: `Part ${i}`,
    price: 10 + i,
    fitment: [{ make: 'Ford', model: 'F-150', year_from: 2015 }],
  })),
});
await put('/v1/carriers', [
  { id: 'dhl', name: 'DHL' },
  { id: 'ups', name: 'UPS' },
]);
await put('/v1/lanes', [
  { carrier_id: 'dhl', origin: 'wh-north', destination: 'DE', transit_hours_p50: 48, transit_hours_p90: 96, cost: 4.9 },
  {
    carrier_id: 'ups',
    origin: 'wh-north',
    destination: 'DE',
    transit_hours_p50: 20,
    transit_hours_p90: 30,
    cost: 14.9,
    attributes: { service: 'express' },
  },
]);
const t = Math.floor(pw.clock.now() / 1000);
const readings = BENCH_SKUS.map((sku, i) => ({
  specversion: '1.0',
  id: `stock-${i}`,
  source: 'urn:bench',
  type: 'sensor.reading',
  time: new Date(t * 1000).toISOString(),
  data: { n: `urn:dev:mac:0024befffe804ff1:shelf:wh-north:${sku}`, v: 50 + i, t },
}));
await fetch(`${pw.httpUrl}/v1/events`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents-batch+json' },
  body: JSON.stringify(readings),
});
process.stdout.write(`${JSON.stringify({ url: pw.httpUrl, key, pk, origin })}\n`);
process.on('SIGTERM', () => {
  void pw.stop().then(() => process.exit(0));
});
