/**
 * What the demo loads besides its world: the 7 starter workflows (switched on and pointed at the
 * demo's own receiver), the secrets their webhooks sign with, and the detector
 * settings the world needs (a cold-room sensor rule).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../workflows/examples/', import.meta.url));

/** The named secrets the starter workflows sign their webhooks with. */
export const STARTER_SECRETS = ['shop-notices', 'ops-alerts', 'erp-purchasing'] as const;

/** The example hosts and where the demo receiver takes their calls instead. */
const HOSTS: [RegExp, string][] = [
  [/https:\/\/shop\.example\.com\/pitwall\//g, 'shop/'],
  [/https:\/\/ops\.example\.com\/hooks\//g, 'ops/'],
  [/https:\/\/erp\.example\.com\/pitwall\//g, 'erp/'],
];

/** The starter workflows as files: `enabled: true`, webhooks sent to `receiverUrl` (e.g. http://127.0.0.1:4567/). */
export function starterWorkflows(receiverUrl: string, examplesDir = EXAMPLES_DIR): { file: string; text: string }[] {
  const base = receiverUrl.endsWith('/') ? receiverUrl : `${receiverUrl}/`;
  return readdirSync(examplesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((file) => {
      let text = readFileSync(path.join(examplesDir, file), 'utf8').replace(/^enabled: false$/m, 'enabled: true');
      for (const [re, to] of HOSTS) text = text.replace(re, `${base}${to}`);
      return { file, text: `# Written by the demo world (pitwall start --demo): a copy of workflows/examples/${file}.\n${text}` };
    });
}

/** Writes the starter workflows into `dir` (replacing earlier copies); returns their file names. */
export function writeStarterWorkflows(dir: string, receiverUrl: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = starterWorkflows(receiverUrl);
  for (const f of files) writeFileSync(path.join(dir, f.file), f.text);
  return files.map((f) => f.file);
}

/** Detector settings the world relies on (merged under what the operator configured). */
export const DEMO_DETECTORS = {
  devices: {
    // Vehicle monitors report every few hours; shelves only when stock moves.
    silent_overrides: [
      { device_prefix: 'bm-', minutes: 480 },
      { device_prefix: 'bw-', minutes: 480 },
      { device_prefix: 'shelf-', minutes: 0 },
    ],
    sensor_rules: [
      {
        name: 'cold-room-temp',
        match: { name: 'coldroom_temp', unit: 'Cel' },
        above: 8,
        clear_below: 7,
        for_minutes: 20,
        severity: 'critical',
      },
    ],
  },
  quality: {
    source_kinds: [
      { match: '^(bm|bw)-', kind: 'fleet' },
      { match: '^shelf-', kind: 'shelf' },
      { match: '^(urn:pitwall-demo:|pitwall:key/)', kind: 'feed' },
    ],
    stale_after_minutes: { default: 15, fleet: 480, shelf: 10080, feed: 720 },
  },
} as const;
