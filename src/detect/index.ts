/**
 * Detect: durable timers now; detectors that derive events (abandoned carts, delayed
 * shipments, silent devices, …) from the log and these timers next.
 */
import type { Clock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { PostgresTimerStore } from './postgres-timers.ts';
import { SqliteTimerStore } from './sqlite-timers.ts';
import type { TimerStore } from './timers.ts';

export { backoffMs, type TickResult, type TimerHandler, TimerRunner, type TimerRunnerOptions } from './timer-runner.ts';
export { type ClaimedTimer, firingId, type Json, type NewTimer, type ScheduleOptions, type Timer, type TimerStore } from './timers.ts';

/** The timer store for the configured store: single writer (SQLite) or SKIP LOCKED (PostgreSQL). */
export function openTimerStore(store: Store, clock: Clock): TimerStore {
  return store.singleWriter ? new SqliteTimerStore(store, clock) : new PostgresTimerStore(store, clock);
}
export {
  acknowledgementEvent,
  CONDITION_ACKNOWLEDGED,
  CONDITION_CLEARED,
  type Condition,
  type ConditionQuery,
  type ConditionStatus,
  clearanceEvent,
  conditionId,
  createConditionsProjection,
  getCondition,
  listConditions,
} from './conditions.ts';
export {
  type ConditionRule,
  type Db,
  type DecideContext,
  type DecideModule,
  type DerivedEventInit,
  type Detector,
  dataOf,
  derivedEvent,
  detectorSource,
  emit,
  eventTimeMs,
  type Projection,
  type Severity,
  type StateDb,
  type TableName,
  writeTransaction,
} from './framework.ts';
