/** `pitwall actions …`: the outbox's dead letters, replay, and webhook endpoints disabled by a 410. */
import type { Command } from '@commander-js/extra-typings';
import { enableEndpoint, listDisabledEndpoints, openOutbox, type StoredAction } from '../act/index.ts';
import { AppError } from '../core/index.ts';
import { run, withStore } from './context.ts';

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

function line(a: StoredAction): string {
  return `${a.key}\t${a.type}\t${a.workflowId}@${a.workflowVersion}\t${a.attempts} attempt${a.attempts === 1 ? '' : 's'}\t${iso(a.finishedAtMs ?? a.updatedAtMs)}\t${a.lastError ?? ''}`;
}

export async function actionsDead(opts: { workflow?: string; limit: string; json?: boolean }): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    const { actions } = await openOutbox(store, clock).list({
      status: 'dead',
      limit: Math.min(Math.max(Number(opts.limit) || 50, 1), 1000),
      ...(opts.workflow ? { workflowId: opts.workflow } : {}),
    });
    if (actions.length === 0 && !opts.json) console.log('No dead-lettered actions.');
    for (const a of actions) console.log(opts.json ? JSON.stringify(a) : line(a));
  });
}

export async function actionsReplay(keys: string[], opts: { all?: boolean; workflow?: string }): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    const outbox = openOutbox(store, clock);
    let targets = keys;
    if (opts.all) {
      targets = [];
      for (let cursor: string | undefined, page = 0; page < 1000; page++) {
        const r = await outbox.list({
          status: 'dead',
          limit: 500,
          ...(opts.workflow ? { workflowId: opts.workflow } : {}),
          ...(cursor ? { cursor } : {}),
        });
        targets.push(...r.actions.map((a) => a.key));
        if (!r.nextCursor) break;
        cursor = r.nextCursor;
      }
    }
    if (targets.length === 0) {
      if (!opts.all) throw new AppError('PW_ACTION_NOT_FOUND', 'name action keys to replay, or pass --all');
      console.log('No dead-lettered actions to replay.');
      return;
    }
    let replayed = 0;
    for (const key of targets) {
      if (await outbox.replay(key)) replayed++;
      else {
        const a = await outbox.get(key);
        console.error(a ? `${key}: ${a.status}, not dead: left as it is` : `${key}: no such action`);
        process.exitCode = 1;
      }
    }
    console.log(`Replayed ${replayed} action${replayed === 1 ? '' : 's'}; a running dispatcher sends them on its next round.`);
  });
}

export async function actionsEndpoints(opts: { enable?: string }): Promise<void> {
  await withStore(async (store) => {
    if (opts.enable !== undefined) {
      if (!(await enableEndpoint(store.db, opts.enable)))
        throw new AppError('PW_WEBHOOK_ENDPOINT_NOT_DISABLED', `"${opts.enable}" is not disabled`);
      console.log(`Enabled ${opts.enable}. Replay its dead-lettered actions with pitwall actions replay.`);
      return;
    }
    const list = await listDisabledEndpoints(store.db);
    if (list.length === 0) console.log('No disabled webhook endpoints.');
    for (const e of list) console.log(`${e.url}\tdisabled ${iso(e.disabledAtMs)}\t${e.reason}`);
  });
}

export function actionsCommands(program: Command): void {
  const actions = program.command('actions').description('the action outbox: dead letters and replay');
  actions
    .command('dead')
    .description('dead-lettered actions, newest first, with their last error')
    .option('--workflow <id>', 'only this workflow')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'one JSON object per line')
    .action((o) => run(() => actionsDead(o)));
  actions
    .command('replay')
    .argument('[keys...]', 'action keys (from actions dead)')
    .option('--all', 'every dead-lettered action (of --workflow, if given)')
    .option('--workflow <id>', 'with --all: only this workflow')
    .description('make dead-lettered actions pending again (attempts reset; same idempotency key)')
    .action((keys, o) => run(() => actionsReplay(keys, o)));
  actions
    .command('endpoints')
    .description('webhook endpoints disabled after a 410 Gone')
    .option('--enable <url>', 'send to this URL again')
    .action((o) => run(() => actionsEndpoints(o)));
}
