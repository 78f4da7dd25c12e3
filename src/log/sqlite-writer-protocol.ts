/** Messages between the event log and its SQLite writer thread (sqlite-writer.mjs). */

/** One event row: source, id, type, subject, time_ms, received_ms, history, body. */
export type Row = [string, string, string, string | null, number, number, 0 | 1, string];

export type Request =
  | { op: 'commit'; n: number; rows: Row[] }
  | { op: 'ack'; n: number; group: string; seq: number; now: number }
  | { op: 'prune'; n: number; cutoffMs: number }
  | { op: 'close'; n: number };

export type Reply =
  | { n: number; ok: true; statuses?: Uint8Array; seqs?: Float64Array; head?: number; changes?: number }
  | { n: number; ok: false; error: string };

/** Status codes in `statuses`. */
export const ACCEPTED = 1;
export const DUPLICATE = 2;
