/** `pitwall start`: the embedded (or configured) server, with a banner of where everything is. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAppError } from '../core/index.ts';
import { dashboardBuild } from '../dashboard/index.ts';
import { createKey, listKeys } from '../govern/index.ts';
import { startPitwall } from '../main.ts';
import { config, pidFile } from './context.ts';
import { type DemoCliOptions, type DemoSession, prepareDemo } from './demo.ts';

export async function startCommand(opts: DemoCliOptions = {}): Promise<void> {
  let cfg = config();
  // --demo: a failing demo never stops the server; only a usage error (a bad --speed) does.
  let demo: DemoSession | undefined;
  if (opts.demo) {
    try {
      demo = await prepareDemo(cfg, opts);
      cfg = demo.config;
    } catch (e) {
      if (isAppError(e)) throw e;
      console.error(`pitwall: the demo could not be prepared (${(e as Error).message}); starting without it`);
    }
  }
  let pw: Awaited<ReturnType<typeof startPitwall>>;
  // Build the dashboard while the server starts, so the first visit does not wait for it.
  dashboardBuild().catch((e: unknown) => console.error(`The dashboard could not be built: ${(e as Error).message}`));
  try {
    pw = await startPitwall(cfg);
  } catch (e) {
    await demo?.stop();
    throw e;
  }
  const lines: string[] = [];
  const embedded = pw.store.dialect === 'sqlite';
  lines.push(`Pitwall is running (${embedded ? 'embedded' : 'scale-out store'})`);
  lines.push(
    `  HTTP   ${pw.httpUrl}${pw.httpFellBack ? `   (port ${cfg.httpPort} was taken, so a free one was picked; set PITWALL_HTTP_PORT to choose)` : ''}`,
  );
  lines.push(`  Dashboard ${pw.httpUrl}/   (sign in with an API key that has the read or admin scope)`);
  if (pw.mqtt.mode === 'embedded') {
    lines.push(
      `  MQTT   ${pw.mqtt.url}${pw.mqtt.fellBack ? `   (port ${cfg.mqttPort} was taken — another broker? — so a free one was picked; set PITWALL_MQTT_PORT to choose)` : ''}`,
    );
  } else if (pw.mqtt.mode === 'external') lines.push(`  MQTT   subscribed to ${pw.mqtt.url} (shared group "${cfg.mqttShareGroup}")`);
  else lines.push('  MQTT   off (PITWALL_MQTT_PORT=off)');
  lines.push(`  Store  ${pw.store.location}`);
  if (cfg.clockSpeed !== 1) lines.push(`  Clock  ${cfg.clockSpeed}× real time`);
  lines.push(`  Health ${pw.httpUrl}/readyz   Metrics ${pw.httpUrl}/metrics`);
  if (demo) lines.push(...(await demo.attach(pw)));

  if ((await listKeys(pw.store.db)).length === 0) {
    const { key } = await createKey(pw.store.db, pw.clock, {
      name: 'first key (created at first start)',
      scopes: ['ingest', 'read', 'admin'],
    });
    lines.push('');
    lines.push('  First start: an admin key was created. It is shown only now — keep it:');
    lines.push(`    ${key}`);
  }
  lines.push('');
  lines.push(`  Try:  curl -s -u "<key>:" ${pw.httpUrl}/v1/track -H 'content-type: application/json' \\`);
  lines.push(`          -d '{"userId":"u1","event":"Product Viewed","properties":{"sku":"BRK-PAD-001"}}'`);
  if (pw.mqtt.mode === 'embedded') {
    lines.push(`        mosquitto_pub -p ${pw.mqtt.port} -u <device> -P <password> -q 1 -t pitwall/devices/<device>/senml \\`);
    lines.push(`          -m '[{"n":"cold-room-1:temp","u":"Cel","v":4.2}]'   (npm run pitwall -- devices create <device>)`);
  }
  if (embedded) {
    mkdirSync(cfg.dataDir, { recursive: true });
    writeFileSync(pidFile(cfg), String(process.pid));
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping — draining requests and committing what was accepted…`);
    let code = 0;
    try {
      await demo?.stop();
      await pw.stop();
      console.log('Pitwall stopped.');
    } catch (e) {
      console.error(`pitwall: stopping failed: ${(e as Error).message}`);
      code = 1;
    } finally {
      if (embedded) rmSync(pidFile(cfg), { force: true });
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Only now: whoever reads the banner as "ready" may signal us at once.
  console.log(lines.join('\n'));
}
