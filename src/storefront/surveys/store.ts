/** Stored survey definitions (table `surveys`), cached in memory; built-ins seeded when missing. */
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/index.ts';
import type { Database } from '../../store/index.ts';
import { BUILTIN_SURVEYS } from './builtin.ts';
import { parseSurvey, type SurveyDefinition } from './definition.ts';

export interface StoredSurvey {
  definition: SurveyDefinition;
  version: number;
  source: 'api' | 'builtin';
  updatedAt: number;
}

/** Inserts the built-in surveys that are not stored yet (a stored one, even edited, is kept). */
export async function seedBuiltinSurveys(db: Kysely<Database>, nowMs: number): Promise<void> {
  for (const def of BUILTIN_SURVEYS)
    await db
      .insertInto('surveys')
      .values({ id: def.id, version: 1, definition: JSON.stringify(def), source: 'builtin', updated_ms: nowMs })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
}

/** Reads surveys through a short cache: the decide path looks them up on every request. */
export class SurveyStore {
  private cache: { all: Map<string, StoredSurvey>; untilMs: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly ttlMs = 2000,
  ) {}

  async all(): Promise<Map<string, StoredSurvey>> {
    const now = this.clock.now();
    if (this.cache && this.cache.untilMs > now) return this.cache.all;
    const rows = await this.db.selectFrom('surveys').selectAll().orderBy('id').execute();
    const all = new Map<string, StoredSurvey>();
    for (const r of rows)
      all.set(r.id, {
        definition: JSON.parse(r.definition) as SurveyDefinition,
        version: r.version,
        source: r.source === 'builtin' ? 'builtin' : 'api',
        updatedAt: Number(r.updated_ms),
      });
    this.cache = { all, untilMs: now + this.ttlMs };
    return all;
  }

  async get(id: string): Promise<StoredSurvey | undefined> {
    return (await this.all()).get(id);
  }

  /** Validates and saves (a new version); returns the stored survey. */
  async put(id: string, raw: unknown): Promise<StoredSurvey> {
    const definition = parseSurvey(raw, id);
    const now = this.clock.now();
    const prev = await this.db.selectFrom('surveys').select(['version']).where('id', '=', id).executeTakeFirst();
    const version = (prev?.version ?? 0) + 1;
    const values = { definition: JSON.stringify(definition), version, source: 'api', updated_ms: now };
    if (prev) await this.db.updateTable('surveys').set(values).where('id', '=', id).execute();
    else
      await this.db
        .insertInto('surveys')
        .values({ id, ...values })
        .execute();
    this.cache = undefined;
    return { definition, version, source: 'api', updatedAt: now };
  }
}
