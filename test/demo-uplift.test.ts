/**
 * The honest uplift test (issue 6): the demo world drives an embedded Pitwall with the
 * `delivery-concern-rescue` starter workflow for simulated days, and the treated-vs-holdout
 * conversion difference is read from the public report (`GET /v1/reports/uplift`, the numbers the
 * dashboard shows). With the world's `offer` effect on, shoppers who are shown the express offer buy
 * more often, and the 95 % interval lies above zero; with it off they do not react, and the interval
 * contains zero — so the measurement is not built in.
 *
 * The world runs with `focus: 'delivery-concern'` (shoppers come for parts held up on the road and
 * leave over delivery time), the workflow copy with a 50 % holdout (balanced groups: the most power
 * per customer) and an outcome window of 1.5 days (a shopper comes back within about a day; the
 * offer lasts 24 h). Everything else — the abandonment and delay detectors, the correlation, the
 * contact policy, the holdout assignment, the storefront's offer, the report — is Pitwall's own.
 * Fixed seeds and a FakeClock moved in one-hour steps: no sleeps, and the same numbers every run.
 * Each case simulates 3.5 days of a shop in about 20–25 s on a quiet machine; measured sizes and
 * times are in docs/demo.md (`PITWALL_UPLIFT_DAYS` runs longer or shorter).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { generateWebhookSecret, openSecretStore } from '../src/act/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { FakeClock } from '../src/core/index.ts';
import { DEMO_DETECTORS, DemoRunner, type Effects, STARTER_SECRETS, starterWorkflows, startReceiver } from '../src/demo/index.ts';
import { createKey } from '../src/govern/index.ts';
import { startPitwall } from '../src/main.ts';
import { Metrics } from '../src/ops/index.ts';

const MIN = 60_000;
const START = Date.parse('2026-03-02T05:00:00Z');
const WORKFLOW = 'delivery-concern-rescue';
/** Simulated days of shopping; the last `WINDOW_DAYS` of runs are still pending when the report is read. */
const DAYS = Number(process.env.PITWALL_UPLIFT_DAYS ?? 3.5);
const WINDOW_DAYS = 1.5;

interface Lift {
  estimate: number;
  lower: number;
  upper: number;
}
interface Uplift {
  treated: { customers: number; converted: number };
  holdout: { customers: number; converted: number };
  pending: number;
  conversion_lift: Lift | null;
  verdict: string;
}

/** Runs the world against a fresh embedded Pitwall and returns the workflow's uplift as the API reports it. */
async function experiment(seed: number, effects: Partial<Effects>): Promise<Uplift> {
  // SQLite commits with fsync; a RAM-backed directory keeps a long simulated run within the test budget.
  const dir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pitwall-uplift-'));
  const clock = new FakeClock(START);
  const receiver = await startReceiver();
  const cfg = loadConfig(
    {
      PITWALL_DATA_DIR: dir,
      PITWALL_HTTP_PORT: '0',
      PITWALL_MQTT_PORT: 'off',
      PITWALL_LOG_LEVEL: 'silent',
      PITWALL_WEBHOOK_ALLOW: '127.0.0.1/32',
    },
    dir,
  );
  const workflowsDir = path.join(dir, 'workflows');
  mkdirSync(workflowsDir);
  const starter = starterWorkflows(receiver.url).find((f) => f.file === `${WORKFLOW}.yaml`);
  if (!starter) throw new Error(`no starter workflow ${WORKFLOW}`);
  writeFileSync(path.join(workflowsDir, starter.file), starter.text.replace(/^holdout: .*$/m, 'holdout: 50%'));
  const pw = await startPitwall(
    { ...cfg, workflowsDir, detectors: structuredClone(DEMO_DETECTORS) as unknown as Record<string, unknown> },
    { clock, logger: pino({ level: 'silent' }), metrics: new Metrics({ defaults: false }) },
  );
  try {
    const secrets = openSecretStore(pw.store, clock);
    for (const s of STARTER_SECRETS) await secrets.set(s, generateWebhookSecret());
    const key = (await createKey(pw.store.db, clock, { name: 'demo', scopes: ['ingest', 'read', 'admin'] })).key;
    const notes: string[] = [];
    const runner = new DemoRunner({
      url: pw.httpUrl,
      key,
      seed,
      effects,
      focus: 'delivery-concern',
      trouble: 10,
      sessionsPerHour: 20,
      vehicles: 0,
      sensorMinutes: 720,
      note: (m) => notes.push(m),
    });
    const settle = async () => {
      for (let round = 0; round < 3; round++) {
        const head = await pw.log.head();
        await pw.state?.caughtUp(head);
        await pw.automation?.caughtUp(head);
        const fired = await pw.timerRunner?.tick();
        await pw.automation?.caughtUp(await pw.log.head());
        const sent = await pw.dispatcher.tick();
        if ((fired?.claimed ?? 0) === 0 && sent.claimed === 0 && (await pw.log.head()) === head) break;
      }
      await pw.learn?.caughtUp(await pw.log.head());
    };
    await runner.setup();
    for (let h = 0; h < DAYS * 24; h++) {
      clock.advance(60 * MIN);
      await runner.tick();
      await settle();
    }
    await runner.stop();
    expect(notes).toEqual([]);
    expect(runner.client.counts.rejected).toBe(0);
    const res = await fetch(`${pw.httpUrl}/v1/reports/uplift?workflow=${WORKFLOW}&window_days=${WINDOW_DAYS}&from=2026-03-01`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { workflows: (Uplift & { workflow_id: string })[] };
    const u = body.workflows.find((w) => w.workflow_id === WORKFLOW);
    if (!u) throw new Error('the report has no row for the workflow');
    console.log(`uplift (${JSON.stringify(effects)}): ${JSON.stringify(u)} — world ${JSON.stringify(runner.world?.stats)}`);
    return u;
  } finally {
    await pw.stop();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('delivery-concern rescue: treated vs holdout, through the uplift report', () => {
  test('with the offer effect on, the 95 % interval of the conversion lift lies above zero', async () => {
    const u = await experiment(3, {});
    expect(u.treated.customers).toBeGreaterThanOrEqual(30);
    expect(u.holdout.customers).toBeGreaterThanOrEqual(30);
    expect(u.conversion_lift?.lower).toBeGreaterThan(0);
    expect(u.verdict).toMatch(/^Lifts conversion/);
  }, 300_000);

  test('with the offer effect off, the interval contains zero', async () => {
    const u = await experiment(3, { offer: false });
    expect(u.treated.customers).toBeGreaterThanOrEqual(30);
    expect(u.holdout.customers).toBeGreaterThanOrEqual(30);
    expect(u.conversion_lift?.lower).toBeLessThanOrEqual(0);
    expect(u.conversion_lift?.upper).toBeGreaterThanOrEqual(0);
  }, 300_000);
});
