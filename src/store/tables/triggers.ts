/** Table shapes for trigger matching and flow control (src/automate/runner). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/**
 * A pending half of an absence or correlation trigger: an event kept for pairing until
 * `expires_ms`. One row per element of the event's key (a key may be a list), so a later event
 * finds it by any shared element.
 */
export interface TriggerPendingTable {
  workflow_id: string;
  /** The trigger entry the event matched: 0 `first` / `correlate[0]`, 1 `missing` / `correlate[1]`. */
  side: number;
  key_value: string;
  event_source: string;
  event_id: string;
  /** The CloudEvent, JSON. */
  event: string;
  /** When the runner handled the event (its clock). */
  at_ms: Int64;
  expires_ms: Int64;
}

/** A run admitted under a flow control (`idempotency` | `throttle` | `concurrency`) and its key. */
export interface TriggerFlowTable {
  workflow_id: string;
  control: string;
  flow_key: string;
  run_id: string;
  at_ms: Int64;
}

/** A match waiting for a concurrency slot of its key, first in first out by `position`. */
export interface TriggerQueueTable {
  workflow_id: string;
  flow_key: string;
  position: Int64;
  /** The run id the match will start (a replayed match is queued once). */
  run_id: string;
  /** The match's canonical customer, for "why" (null when it names none). */
  customer_id: string | null;
  /** The serialised trigger match (kind, key, events). */
  match: string;
  at_ms: Int64;
}

export interface TriggerTables {
  trigger_pending: TriggerPendingTable;
  trigger_flow: TriggerFlowTable;
  trigger_queue: TriggerQueueTable;
}
