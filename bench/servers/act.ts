/**
 * Child process for the actions bench: an embedded Pitwall with Decide on, a workflow that sends an
 * `alert` webhook for every `commerce.product_viewed`, to the receiver URL given; prints {url, key}.
 */
import pino from 'pino';
import { builtInExecutors, executorRegistry, generateWebhookSecret, openSecretStore, parseActSettings } from '../../src/act/index.ts';
import { ConditionEnvironment, saveWorkflow, validateWorkflow, type WorkflowDefinition } from '../../src/automate/index.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SchemaRegistry } from '../../src/events/index.ts';
import { createKey } from '../../src/govern/index.ts';
import { startPitwall } from '../../src/main.ts';
import { Metrics } from '../../src/ops/metrics.ts';

const [receiver, dir] = process.argv.slice(2);
if (!receiver || !dir) throw new Error('usage: act.ts <receiverUrl> <dataDir>');
const cfg = loadConfig(
  {
    PITWALL_DATA_DIR: dir,
    PITWALL_HTTP_PORT: '0',
    PITWALL_MQTT_PORT: 'off',
    PITWALL_LOG_LEVEL: 'silent',
    PITWALL_DECIDE: 'on',
    PITWALL_DECIDE_THREAD: process.env.PITWALL_DECIDE_THREAD ?? 'on',
    PITWALL_WEBHOOK_ALLOW: '127.0.0.0/8',
  },
  dir,
);
const pw = await startPitwall(cfg, { logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) });
const { key } = await createKey(pw.store.db, pw.clock, { name: 'bench', scopes: ['ingest', 'read', 'admin'] });
await openSecretStore(pw.store, pw.clock).set('bench', generateWebhookSecret());
const yaml = `
schemaVersion: 1
id: bench-alert
name: Bench alert
trigger: { event: commerce.product_viewed }
steps:
  - action: alert
    with: { summary: "{{ event.id }}", webhook: { url: "${receiver}", secret: bench } }
`;
const executors = executorRegistry(builtInExecutors(parseActSettings({ PITWALL_WEBHOOK_ALLOW: '127.0.0.0/8' }).settings));
const checked = validateWorkflow(yaml, { environment: new ConditionEnvironment(await new SchemaRegistry().load(pw.store.db)), executors });
if (!checked.definition) throw new Error(JSON.stringify(checked.problems));
await saveWorkflow(pw.store.db, checked.definition as WorkflowDefinition, { source: 'api', nowMs: pw.clock.now() });
for (const e of executors.values()) await e.close?.();
process.stdout.write(`${JSON.stringify({ url: pw.httpUrl, key })}\n`);
process.on('SIGTERM', () => {
  void pw.stop().then(() => process.exit(0));
});
