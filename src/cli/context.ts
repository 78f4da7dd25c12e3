/** Opening the configured store for a CLI command, with errors that read like sentences. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, loadConfig } from '../config/index.ts';
import { type Clock, isAppError, scaledClock } from '../core/index.ts';
import { openStore, type Store, sqliteFileIn } from '../store/index.ts';

export function config(): Config {
  return loadConfig();
}

export async function withStore<T>(fn: (store: Store, cfg: Config, clock: Clock) => Promise<T>): Promise<T> {
  const cfg = config();
  const store = await openStore({ databaseUrl: cfg.databaseUrl, sqliteFile: sqliteFileIn(cfg.dataDir), pgSchema: cfg.databaseSchema });
  try {
    return await fn(store, cfg, scaledClock(1));
  } finally {
    await store.close();
  }
}

export function pidFile(cfg: Config): string {
  return path.join(cfg.dataDir, 'pitwall.pid');
}

/** The pid of a Pitwall running on this data dir, if any. */
export function runningPid(cfg: Config): number | undefined {
  const f = pidFile(cfg);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Runs a command body; user errors print their message (never a stack trace) and exit 1. */
export async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (isAppError(e)) console.error(`pitwall: ${e.message}`);
    else
      console.error(
        `pitwall: ${(e as Error).message ?? String(e)}${process.env.PITWALL_DEBUG ? `\n${(e as Error).stack}` : '\n(set PITWALL_DEBUG=1 for details)'}`,
      );
    process.exitCode = 1;
  }
}
