/** Opening the configured store for a CLI command, with errors that read like sentences. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, loadConfig } from '../config/index.ts';
import { AppError, type Clock, isAppError, scaledClock } from '../core/index.ts';
import { type EventLog, openEventLog } from '../log/index.ts';
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

/**
 * Runs `fn` with the store and an open event log, refusing (with `code`) while a Pitwall server
 * runs on the same data dir — for the rebuilds, which must not fold beside a live consumer.
 */
export async function withStoppedLog<T>(
  code: string,
  what: string,
  fn: (log: EventLog, store: Store, cfg: Config, clock: Clock) => Promise<T>,
): Promise<T> {
  const cfg = config();
  const pid = runningPid(cfg);
  if (pid) throw new AppError(code, `Pitwall is running on ${cfg.dataDir} (pid ${pid}); stop it, ${what}, then start it again`);
  return withStore(async (store, c, clock) => {
    const log = openEventLog(store, clock, { dedupeWindowMs: c.dedupeRetentionDays * 86_400_000 });
    try {
      return await fn(log, store, c, clock);
    } finally {
      await log.close();
    }
  });
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
