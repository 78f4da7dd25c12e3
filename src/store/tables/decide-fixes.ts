/** Table shapes of migration 0017 (Decide fixes). Times are epoch ms. */
import type { Int64 } from '../schema.ts';

/** Duplicates the log dropped, per minute (of the write), source, device ('' for none) and event type. */
export interface IngestDuplicatesTable {
  minute_ms: Int64;
  source: string;
  device: string;
  type: string;
  count: Int64;
}

/** A terminal clear of a condition (kind, key): later raises for it are ignored (src/detect/conditions.ts). */
export interface ConditionTerminalsTable {
  kind: string;
  key: string;
  cleared_ms: Int64;
  event_id: string;
  updated_seq: Int64;
}

/** Present while `pitwall state rebuild` has emptied the projections but not finished folding. */
export interface StateRebuildTable {
  name: string;
  started_ms: Int64;
}

export interface DecideFixTables {
  ingest_duplicates: IngestDuplicatesTable;
  condition_terminals: ConditionTerminalsTable;
  state_rebuild: StateRebuildTable;
}
