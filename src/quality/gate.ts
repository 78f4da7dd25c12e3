/**
 * The gate other domains ask: "may automation act on what this source says?" It reads the
 * persisted verdict (table `quality_sources`), so it answers in any process.
 */
import type { Kysely } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import type { Database } from '../store/index.ts';
import { qualitySourceOf } from './observe.ts';
import type { SourceRow } from './rows.ts';

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
  /** The time the verdict is as of: the last receive time, or when the source went stale. */
  updatedMs: number;
  /** When the source goes stale if nothing more arrives; undefined once it is stale. */
  staleAtMs: number | undefined;
}

export interface SourceQualityQuery {
  /** Only trusted (true) or untrusted (false) sources. */
  trusted?: boolean | undefined;
  /** Only degraded (true) or not degraded (false) sources. */
  degraded?: boolean | undefined;
  /** Continue after this source (sources are listed in order). */
  after?: string | undefined;
  limit: number;
}

function fromRow(r: SourceRow): SourceQuality {
  return {
    source: r.source,
    score: r.score,
    trusted: r.trusted === 1,
    degraded: r.degraded === 1,
    flags: JSON.parse(r.flags) as SourceQuality['flags'],
    lastReceivedMs: r.last_received_ms === null ? undefined : Number(r.last_received_ms),
    updatedMs: Number(r.updated_ms),
    staleAtMs: r.stale_at_ms === null ? undefined : Number(r.stale_at_ms),
  };
}

export async function sourceQuality(db: Kysely<Database>, source: string): Promise<SourceQuality | undefined> {
  const r = await db.selectFrom('quality_sources').selectAll().where('source', '=', source).executeTakeFirst();
  return r ? fromRow(r) : undefined;
}

/** Sources in order of their id, filtered; continue with `after` = the last one's `source`. */
export async function listSourceQuality(db: Db, q: SourceQualityQuery): Promise<SourceQuality[]> {
  const rows = await db
    .selectFrom('quality_sources')
    .selectAll()
    .$if(q.trusted !== undefined, (b) => b.where('trusted', '=', q.trusted ? 1 : 0))
    .$if(q.degraded !== undefined, (b) => b.where('degraded', '=', q.degraded ? 1 : 0))
    .$if(q.after !== undefined, (b) => b.where('source', '>', q.after as string))
    .orderBy('source')
    .limit(q.limit)
    .execute();
  return rows.map(fromRow);
}

/**
 * True unless the source is known and untrusted. A source the monitor has never seen is
 * given the benefit of the doubt here (the monitor itself reports it as unknown).
 */
export async function isSourceTrusted(db: Kysely<Database>, source: string): Promise<boolean> {
  const q = await sourceQuality(db, source);
  return q === undefined || q.trusted;
}

/** `isSourceTrusted` for the source an event came from (its `deviceid`, else its `source`). */
export async function isEventTrusted(db: Kysely<Database>, event: CloudEvent): Promise<boolean> {
  return isSourceTrusted(db, qualitySourceOf(event));
}
