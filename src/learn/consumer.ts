/** Consumer group `learn`: reads the log from its start and folds it into Learn's rollups (ADR 0017). */
import type { StateDb } from '../detect/index.ts';
import { type EventLog, type Subscription, subscribe } from '../log/index.ts';
import { foldLearn } from './fold.ts';

export const LEARN_GROUP = 'learn';

export interface LearnConsumerOptions {
  log: EventLog;
  store: StateDb;
  onError?: (e: unknown) => void;
  batchSize?: number;
}

export function startLearnConsumer(opts: LearnConsumerOptions): Subscription {
  return subscribe(opts.log, LEARN_GROUP, (batch) => foldLearn(opts.store, batch), {
    from: 'start',
    batchSize: opts.batchSize ?? 2000,
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
}
