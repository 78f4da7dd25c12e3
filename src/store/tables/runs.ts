/** Table shapes for workflow runs and their traces (src/automate/runner). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/** One run of one workflow version for one trigger match. */
export interface RunsTable {
  /** deterministicId('pitwall.run', workflow id, trigger kind, trigger key…): a replayed trigger finds it. */
  id: string;
  workflow_id: string;
  workflow_version: number;
  /** Canonical customer id at the run's start; null when the trigger names no customer. */
  customer_id: string | null;
  /** running | waiting | completed | cancelled | skipped | holdout | failed */
  status: string;
  /** event (this session); absence | correlation | schedule later. */
  trigger_kind: string;
  /** JSON array of the triggering events' ids. */
  trigger_event_ids: string;
  /** JSON array of the triggering CloudEvents: the `event` of every later step's activation. */
  trigger_events: string;
  /** What the run is about (cart, shipment, sku…): the trigger event's subject or key id. */
  subject: string | null;
  /** The step the run is at while waiting; the last step executed once finished. */
  step_path: string | null;
  /** While waiting: when its timer fires, and why it waits (`wait` step or policy `defer`). */
  wake_ms: Int64 | null;
  wake_kind: string | null;
  /** Action requests written to the outbox so far. */
  actions: number;
  /** Trace entries so far (the next entry's seq). */
  trace_count: number;
  /** Why the run ended the way it did (a short code: `conditions_false`, `holdout`, `cancelled_by`…). */
  outcome: string | null;
  started_ms: Int64;
  updated_ms: Int64;
  ended_ms: Int64 | null;
}

/** What happened in a run, in order: trigger, condition, policy, holdout, action, wait, cancel, error. */
export interface RunTraceTable {
  run_id: string;
  seq: number;
  at_ms: Int64;
  kind: string;
  step_path: string | null;
  detail: string;
}

/** Which waiting runs an event type may cancel (a run's `cancelOn`), kept only while it waits. */
export interface RunCancelOnTable {
  event_type: string;
  run_id: string;
  /** The run's customer: an entry without `match` cancels only on an event of the same customer. */
  customer_id: string | null;
  /** 1 when the entry has a `match` expression: every event of the type is a candidate. */
  any_customer: number;
}

export interface RunTables {
  runs: RunsTable;
  run_trace: RunTraceTable;
  run_cancel_on: RunCancelOnTable;
}
