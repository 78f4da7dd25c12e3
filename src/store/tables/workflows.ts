/** Table shapes for workflow definitions (src/automate/definitions). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/**
 * One version of one workflow. `definition` is the `WorkflowDefinition` JSON; `yaml` the text it
 * was read from (YAML or JSON). `source` is `file` (from PITWALL_WORKFLOWS_DIR; read-only in the
 * API while `file_path` is set) or `api`. `enabled` (0/1) mirrors the definition's.
 */
export interface WorkflowsTable {
  id: string;
  version: number;
  definition: string;
  yaml: string | null;
  source: string;
  file_path: string | null;
  enabled: number;
  created_ms: Int64;
  created_by: string | null;
}

export interface WorkflowTables {
  workflows: WorkflowsTable;
}
