/**
 * Test fixture (src/act/dispatch-crash.test.ts): a dispatcher process on a SQLite file that
 * the test SIGKILLs mid-dispatch. Env: PITWALL_FIXTURE_DB (file), PITWALL_WEBHOOK_ALLOW,
 * PITWALL_FIXTURE_LEASE_MS. Prints "ready" once its loop runs; SIGTERM stops it cleanly.
 */
import { systemClock } from '../core/index.ts';
import { openEventLog } from '../log/index.ts';
import { openStore } from '../store/index.ts';
import { builtInExecutors, Dispatcher, executorRegistry, openOutbox, openSecretStore, parseActSettings, seededRandom } from './index.ts';

const file = process.env.PITWALL_FIXTURE_DB;
if (!file) throw new Error('PITWALL_FIXTURE_DB is required');
const store = await openStore({ sqliteFile: file });
const clock = systemClock;
const log = openEventLog(store, clock);
const { settings } = parseActSettings(process.env);
const executors = builtInExecutors(settings, { webhookTimeoutMs: 5_000 });
const dispatcher = new Dispatcher(
  openOutbox(store, clock),
  executorRegistry(executors),
  { clock, log, db: store.db, secrets: openSecretStore(store, clock) },
  {
    batch: 8,
    leaseMs: Number(process.env.PITWALL_FIXTURE_LEASE_MS ?? 2_000),
    backoffBaseMs: 100,
    maxIdleMs: 50,
    random: seededRandom(process.pid),
  },
);
dispatcher.start();
console.log('ready');
process.once('SIGTERM', () => {
  void (async () => {
    await dispatcher.stop();
    for (const e of executors) await e.close?.();
    await log.close();
    await store.close();
    process.exit(0);
  })();
});
