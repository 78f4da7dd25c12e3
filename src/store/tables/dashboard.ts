import type { Int64 } from '../schema.ts';

export interface DashboardSessionsTable {
  /** SHA-256 of the session token; the token itself lives only in the browser's cookie. */
  id_hash: string;
  key_id: string;
  csrf: string;
  created_ms: Int64;
  seen_ms: Int64;
  expires_ms: Int64;
}

export interface DashboardTables {
  dashboard_sessions: DashboardSessionsTable;
}
