/** `pitwall learn rebuild`: Learn's rollups folded again from the whole log. */
import type { Command } from '@commander-js/extra-typings';
import { AppError } from '../core/index.ts';
import { rebuildLearn } from '../learn/index.ts';
import { openEventLog } from '../log/index.ts';
import { config, run, runningPid, withStore } from './context.ts';

export async function learnRebuild(): Promise<void> {
  const cfg = config();
  const pid = runningPid(cfg);
  if (pid)
    throw new AppError(
      'PW_LEARN_REBUILD_RUNNING',
      `Pitwall is running on ${cfg.dataDir} (pid ${pid}); stop it, rebuild, then start it again`,
    );
  await withStore(async (store, c, clock) => {
    const log = openEventLog(store, clock, { dedupeWindowMs: c.dedupeRetentionDays * 86_400_000 });
    try {
      const started = Date.now();
      const r = await rebuildLearn({ log, store });
      const s = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`Rebuilt Learn's rollups from ${r.events} events in ${s} s; group "learn" continues from position ${r.position}.`);
    } finally {
      await log.close();
    }
  });
}

export function learnCommands(program: Command): void {
  const learn = program.command('learn').description('the Learn stage: the rollups the reports read');
  learn
    .command('rebuild')
    .description("empty Learn's rollups and fold the whole log again (Pitwall must be stopped)")
    .action(() => run(learnRebuild));
}
