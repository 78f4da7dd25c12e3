/** `pitwall state rebuild`: every projection folded again from the log. */
import type { Command } from '@commander-js/extra-typings';
import { openTimerStore } from '../detect/index.ts';
import { rebuildState } from '../state/index.ts';
import { run, withStoppedLog } from './context.ts';

export async function stateRebuild(): Promise<void> {
  await withStoppedLog('PW_STATE_REBUILD_RUNNING', 'rebuild', async (log, store, c, clock) => {
    const started = Date.now();
    const r = await rebuildState({ log, store, timers: openTimerStore(store, clock), clock, detectors: c.detectors });
    const s = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`Rebuilt ${r.projections.length} projections (${r.projections.join(', ')}) from ${r.events} events in ${s} s.`);
    console.log(`Group "state" is at position ${r.position}; detectors continue from there when Pitwall starts.`);
  });
}

export function stateCommands(program: Command): void {
  const state = program.command('state').description('the Decide stage: projections folded from the log');
  state
    .command('rebuild')
    .description('empty every projection and fold the whole log again (Pitwall must be stopped; timers are kept)')
    .action(() => run(stateRebuild));
}
