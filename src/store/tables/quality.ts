/** Table shapes for data quality (src/quality). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/** The latest verdict per source; `flags` is JSON `[{ kind, detail, penalty }]`; booleans are 0/1. */
export interface QualitySourcesTable {
  source: string;
  score: number;
  trusted: number;
  degraded: number;
  flags: string;
  last_received_ms: Int64 | null;
  updated_ms: Int64;
}

export interface QualityTables {
  quality_sources: QualitySourcesTable;
}
