/**
 * Duplicate counts for the quality monitor (docs/decide/quality.md#duplicates). The log drops a
 * resent event before any consumer sees it; ingest knows each event's outcome, so it counts the
 * duplicates of a request per (minute, source, device, type) and adds them to
 * `ingest_duplicates` with one upsert — only for requests that had any, so ordinary ingest writes
 * nothing more. The quality module reads closed minutes after its cursor.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.ts';

export const DUPLICATE_MINUTE_MS = 60_000;

/** One dropped duplicate: the event's `source`, its `deviceid` extension ('' when none) and type. */
export interface DuplicateSeen {
  source: string;
  device: string;
  type: string;
}

/** PostgreSQL text cannot hold U+0000. */
const clean = (s: string) => s.replaceAll('\u0000', '\uFFFD');

/**
 * Adds `seen` to the counts of the minute of `atMs` — the clock when this is written, so a row is
 * only ever added to in its own minute (the quality module reads a minute once it has ended and settled).
 */
export async function recordDuplicates(db: Kysely<Database>, atMs: number, seen: readonly DuplicateSeen[]): Promise<void> {
  const minute = atMs - (atMs % DUPLICATE_MINUTE_MS);
  const counts = new Map<string, { minute_ms: number; source: string; device: string; type: string; count: number }>();
  for (const d of seen) {
    const k = JSON.stringify([d.source, d.device, d.type]);
    const row = counts.get(k);
    if (row) row.count += 1;
    else counts.set(k, { minute_ms: minute, source: clean(d.source), device: clean(d.device), type: clean(d.type), count: 1 });
  }
  const rows = [...counts.values()];
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto('ingest_duplicates')
      .values(rows.slice(i, i + 500))
      .onConflict((oc) =>
        oc.columns(['minute_ms', 'source', 'device', 'type']).doUpdateSet((eb) => ({
          count: eb('ingest_duplicates.count', '+', eb.ref('excluded.count')),
        })),
      )
      .execute();
  }
}
