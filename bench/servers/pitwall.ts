/** Child process for benchmarks: an embedded Pitwall in a temp dir; prints {url, key, mqttPort}. */
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { createDevice, createKey } from '../../src/govern/index.ts';
import { startPitwall } from '../../src/main.ts';
import { Metrics } from '../../src/ops/metrics.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pitwall.ts <dataDir>');
const cfg = loadConfig(
  {
    PITWALL_DATA_DIR: dir,
    PITWALL_HTTP_PORT: '0',
    PITWALL_MQTT_PORT: '0',
    PITWALL_LOG_LEVEL: 'silent',
    PITWALL_DECIDE: process.env.PITWALL_DECIDE ?? 'off',
  },
  dir,
);
const pw = await startPitwall(cfg, { logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) });
const { key } = await createKey(pw.store.db, pw.clock, { name: 'bench', scopes: ['ingest', 'read', 'admin'] });
const device = await createDevice(pw.store.db, pw.clock, 'bench-device');
process.stdout.write(`${JSON.stringify({ url: pw.httpUrl, key, mqttPort: pw.mqtt.port, device: device.id, password: device.password })}\n`);
process.on('SIGTERM', () => {
  void pw.stop().then(() => process.exit(0));
});
