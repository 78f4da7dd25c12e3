/** Types of the writer thread's module (plain JavaScript, see sqlite-writer.mjs), for tests. */
export interface WriterCommit {
  statuses: Uint8Array;
  seqs: Float64Array;
  head: number;
}

export interface Writer {
  commit(rows: (string | number | null)[][]): WriterCommit;
  ack(group: string, seq: number, now: number): void;
  prune(cutoffMs: number): number;
  close(): void;
}

export function walSyncer(file: string): { sync(): void; close(): void };
export function openWriter(file: string, dedupeSinceMs: number, opts?: { walSync?: () => void }): Writer;
export function hash53(str: string, seed?: number): number;
