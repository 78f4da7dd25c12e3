/**
 * The "rebuild in progress" marker of `pitwall state rebuild`. It is written in the transaction
 * that empties the projections and removed once the fold has reached the head and group `state`
 * has been moved there, so a rebuild that died half-way leaves it behind: the projections are then
 * behind the group's position, and folding on from that position would never fill them in.
 */
import { AppError } from '../core/index.ts';
import type { Db } from '../detect/index.ts';

const NAME = 'state';

export async function markRebuildStarted(db: Db, nowMs: number): Promise<void> {
  await db
    .insertInto('state_rebuild')
    .values({ name: NAME, started_ms: nowMs })
    .onConflict((oc) => oc.column('name').doUpdateSet({ started_ms: nowMs }))
    .execute();
}

export async function markRebuildDone(db: Db): Promise<void> {
  await db.deleteFrom('state_rebuild').where('name', '=', NAME).execute();
}

/** When an unfinished rebuild started (ms), if one did. */
export async function unfinishedRebuild(db: Db): Promise<number | undefined> {
  const r = await db.selectFrom('state_rebuild').select('started_ms').where('name', '=', NAME).executeTakeFirst();
  return r ? Number(r.started_ms) : undefined;
}

/** Throws `PW_STATE_REBUILD_INCOMPLETE` while a rebuild is unfinished: the state must not be folded on. */
export async function assertStateComplete(db: Db): Promise<void> {
  const started = await unfinishedRebuild(db);
  if (started === undefined) return;
  throw new AppError(
    'PW_STATE_REBUILD_INCOMPLETE',
    `a "pitwall state rebuild" started at ${new Date(started).toISOString()} did not finish, so the projections are incomplete; run "pitwall state rebuild" again before starting Pitwall`,
    { status: 503, category: 'operational' },
  );
}
