/**
 * `pitwall start --demo` and `pitwall demo --no-server` as real child processes: the banner with a
 * key that works, the clock speed, refusing a server whose clock does not fit, usage errors as
 * sentences (never a stack trace), and a clean stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { exited, outputOf, PITWALL_BIN } from './support/process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STACK_LINE = /^\s+at /m;

const dirs: string[] = [];
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function spawnCli(args: string[], dataDir: string): ChildProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITWALL_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { PITWALL_DATA_DIR: dataDir, PITWALL_HTTP_PORT: '0', PITWALL_MQTT_PORT: 'off', PITWALL_LOG_LEVEL: 'warn' });
  const child = spawn(process.execPath, [PITWALL_BIN, ...args], { cwd: ROOT, env });
  children.add(child);
  return child;
}

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'pitwall-demo-cli-'));
  dirs.push(d);
  return d;
}

describe('pitwall start --demo', () => {
  test('prints the demo banner with a working key, runs at the given speed, refuses a demo at another speed, and stops cleanly', async () => {
    const dataDir = tempDir();
    const child = spawnCli(['start', '--demo', '--speed', '600', '--seed', '3'], dataDir);
    let out = '';
    let err = '';
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner within 40 s:\n${out}\n${err}`)), 40_000);
      child.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        if (/sign in with this key: pw_\S+/.test(out)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before the banner:\n${out}\n${err}`)));
    });
    const url = /^ {2}HTTP {3}(http:\/\/\S+)/m.exec(banner)?.[1] ?? '';
    const key = /sign in with this key: (pw_\S+)/.exec(banner)?.[1] ?? '';
    expect(banner).toContain('Clock  600× real time');
    expect(banner).toContain(`Store  ${path.join(dataDir, 'demo', 'pitwall.db')}`);
    const clock = (await (await fetch(`${url}/v1/clock`, { headers: { authorization: `Bearer ${key}` } })).json()) as { speed: number };
    expect(clock.speed).toBe(600);

    const refused = await outputOf(spawnCli(['demo', '--no-server', '--url', url, '--key', key, '--speed', '60'], tempDir()));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the server's clock runs at 600× but the demo was asked for 60×");
    expect(refused.stderr).not.toMatch(STACK_LINE);

    child.kill('SIGTERM');
    const exit = await exited(child);
    expect(exit.code).toBe(0);
    expect(out + err).toContain('Pitwall stopped.');
    expect(out + err).not.toMatch(STACK_LINE);
  }, 60_000);

  test('usage errors are sentences, not stack traces', async () => {
    const [bad, noUrl, history] = await Promise.all([
      outputOf(spawnCli(['start', '--demo', '--speed', 'fast'], tempDir())),
      outputOf(spawnCli(['demo', '--no-server'], tempDir())),
      outputOf(spawnCli(['demo', '--history', 'lots'], tempDir())),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--speed must be a number');
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toContain('needs --url');
    expect(history.code).toBe(1);
    expect(history.stderr).toContain('--history takes days like 90d');
    for (const r of [bad, noUrl, history]) expect(r.stderr).not.toMatch(STACK_LINE);
  }, 60_000);
});
