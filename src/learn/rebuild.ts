/**
 * `pitwall learn rebuild`: empty Learn's rollups and fold the whole log into them again — after a
 * change to how Learn classifies events, or to repair a store. Pitwall must be stopped (the live
 * consumer would fold the same events concurrently). Runs, outbox and identity are not Learn's:
 * they are read as they are.
 */
import type { StateDb } from '../detect/index.ts';
import type { EventLog } from '../log/index.ts';
import { LEARN_GROUP } from './consumer.ts';
import { foldLearn } from './fold.ts';

const LEARN_TABLES = [
  'learn_funnel_daily',
  'learn_orders',
  'learn_refunds',
  'learn_promise_views',
  'learn_surveys',
  'learn_segments',
  'learn_progress',
] as const;

export interface LearnRebuild {
  /** Events read from the log. */
  events: number;
  /** The position group `learn` continues from. */
  position: number;
}

export async function rebuildLearn(opts: {
  log: EventLog;
  store: StateDb;
  batchSize?: number;
  onProgress?: (seq: number, head: number) => void;
}): Promise<LearnRebuild> {
  const { log, store } = opts;
  const size = opts.batchSize ?? 5000;
  for (const t of LEARN_TABLES) await store.db.deleteFrom(t).execute();
  const head = await log.head();
  let after = 0;
  let events = 0;
  while (after < head) {
    const batch = await log.read(after, Math.min(size, head - after));
    const last = batch[batch.length - 1];
    if (!last) break;
    await foldLearn(store, batch);
    events += batch.length;
    after = last.seq;
    opts.onProgress?.(after, head);
  }
  await log.ack(LEARN_GROUP, after);
  return { events, position: after };
}
