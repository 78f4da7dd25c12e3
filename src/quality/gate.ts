/**
 * The gate other domains ask: "may automation act on what this source says?" It reads the
 * persisted verdict (table `quality_sources`), so it answers in any process.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.ts';

export interface SourceQuality {
  source: string;
  /** 0 (unusable) … 100. */
  score: number;
  /** The gate: score ≥ 60 and none of flat_line, stale, out_of_range in effect. */
  trusted: boolean;
  /** Hysteresis state: true from `quality.degraded` until `quality.recovered`. */
  degraded: boolean;
  flags: { kind: string; detail: string; penalty: number }[];
  lastReceivedMs: number | undefined;
  updatedMs: number;
}

export async function sourceQuality(db: Kysely<Database>, source: string): Promise<SourceQuality | undefined> {
  const r = await db.selectFrom('quality_sources').selectAll().where('source', '=', source).executeTakeFirst();
  if (!r) return undefined;
  return {
    source: r.source,
    score: r.score,
    trusted: r.trusted === 1,
    degraded: r.degraded === 1,
    flags: JSON.parse(r.flags) as SourceQuality['flags'],
    lastReceivedMs: r.last_received_ms === null ? undefined : Number(r.last_received_ms),
    updatedMs: Number(r.updated_ms),
  };
}

/**
 * True unless the source is known and untrusted. A source the monitor has never seen is
 * given the benefit of the doubt here (the monitor itself reports it as unknown).
 */
export async function isSourceTrusted(db: Kysely<Database>, source: string): Promise<boolean> {
  const q = await sourceQuality(db, source);
  return q === undefined || q.trusted;
}
