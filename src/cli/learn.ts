/** `pitwall learn rebuild`: Learn's rollups folded again from the whole log. */
import type { Command } from '@commander-js/extra-typings';
import { rebuildLearn } from '../learn/index.ts';
import { run, withStoppedLog } from './context.ts';

export async function learnRebuild(): Promise<void> {
  await withStoppedLog('PW_LEARN_REBUILD_RUNNING', 'rebuild', async (log, store) => {
    const started = Date.now();
    const r = await rebuildLearn({ log, store });
    const s = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`Rebuilt Learn's rollups from ${r.events} events in ${s} s; group "learn" continues from position ${r.position}.`);
  });
}

export function learnCommands(program: Command): void {
  const learn = program.command('learn').description('the Learn stage: the rollups the reports read');
  learn
    .command('rebuild')
    .description("empty Learn's rollups and fold the whole log again (Pitwall must be stopped)")
    .action(() => run(learnRebuild));
}
