/** Table shapes for data quality (src/quality). Times are epoch ms; JSON is stored as text. */
import type { ColumnType, Generated } from 'kysely';
import type { Int64 } from '../schema.ts';

/**
 * The latest verdict per source, and the monitor state it came from (docs/decide/quality.md).
 * `flags` is JSON `[{ kind, detail, penalty }]`; booleans are 0/1. The module's own columns have
 * defaults, so a test can still insert a verdict by hand (the next fold of that source replaces it).
 */
export interface QualitySourcesTable {
  source: string;
  score: number;
  trusted: number;
  degraded: number;
  flags: string;
  last_received_ms: Int64 | null;
  /** The time the verdict is as of: the last receive time, or when the source went stale. */
  updated_ms: Int64;
  /** The monitor's state for this source (JSON `SourceSnapshot`; '' for a row written by hand). */
  state: Generated<string>;
  /** Highest log position folded for this source. */
  updated_seq: ColumnType<number, number | bigint | undefined, number | bigint>;
  /** When the source goes stale if nothing more arrives; null once it has been judged stale. */
  stale_at_ms: Int64 | null;
  /** The last log event folded for this source (what a stale `quality.degraded` was caused by). */
  last_event_id: string | null;
  /** Transitions not yet seen back in the log as `quality.*` events: JSON `PendingTransition[]`. */
  pending: Generated<string>;
  /**
   * 0 when `pending` is empty; else the highest log position among its transitions
   * (`Number.MAX_SAFE_INTEGER` for the stale timer's), so "what is left to emit" is a range scan.
   */
  has_pending: ColumnType<number, number | bigint | undefined, number | bigint>;
}

/** Named positions of the quality module outside the log (the quarantine read so far). */
export interface QualityCursorsTable {
  name: string;
  value: string;
}

export interface QualityTables {
  quality_sources: QualitySourcesTable;
  quality_cursors: QualityCursorsTable;
}
