/** A real, listening Pitwall for end-to-end tests: its own temp data dir, port 0, silent logs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.ts';
import type { Clock } from '../../src/core/index.ts';
import { type Pitwall, startPitwall } from '../../src/main.ts';
import { Metrics } from '../../src/ops/index.ts';

export interface TestServer {
  pw: Pitwall;
  dir: string;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

export async function startTestServer(opts: { name: string; clock?: Clock; env?: Record<string, string> }): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `pitwall-${opts.name}-`));
  const cfg = loadConfig(
    { PITWALL_DATA_DIR: dir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: 'off', PITWALL_LOG_LEVEL: 'silent', ...opts.env },
    dir,
  );
  const pw = await startPitwall(cfg, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    logger: pino({ level: 'silent' }),
    metrics: new Metrics({ defaults: false }),
  });
  return {
    pw,
    dir,
    async close() {
      await pw.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
