/**
 * The directives workflows left for the storefront (src/act: survey.show, checkout.offer,
 * storefront.message), read as an in-memory snapshot refreshed on the clock, and the "why" of each:
 * the workflow, run and signal behind it (from the outbox row and the run).
 */
import type { Kysely } from 'kysely';
import { activeDirectives, type Directive, type DirectiveScope, rowToDirective } from '../act/index.ts';
import type { Clock } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import { TtlCache } from './cache.ts';

/** Beyond this many active directives the snapshot is not kept: each request queries instead. */
const SNAPSHOT_LIMIT = 5000;

export interface Why {
  workflow: string | null;
  run: string | null;
  /** The event type that triggered the run (the last one of a correlation). */
  signal: string | null;
  signals?: string[];
  directive?: string;
  rule?: string;
}

function matches(dv: Directive, s: DirectiveScope): boolean {
  const one = (have: string | undefined, want: string | undefined) => have === undefined || have === want;
  if (!one(dv.customerId, s.customerId) || !one(dv.cartId, s.cartId) || !one(dv.region, s.region)) return false;
  if (dv.sku !== undefined && !(s.skus ?? []).includes(dv.sku)) return false;
  return s.types === undefined || s.types.includes(dv.type);
}

export class DirectiveSnapshot {
  private snap: { rows: Directive[] | undefined; untilMs: number; atMs: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  invalidate(): void {
    this.snap = undefined;
  }

  /** Same rule as `activeDirectives`: unexpired, unconsumed, every scope the directive names matches. */
  async matching(scope: DirectiveScope): Promise<Directive[]> {
    const now = this.clock.now();
    if (this.ttlMs <= 0) return activeDirectives(this.db, scope, now);
    if (this.snap === undefined || this.snap.untilMs <= now) {
      const rows = await this.db
        .selectFrom('directives')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('expires_ms', '>', now)
        .where('consumed_ms', 'is', null)
        .executeTakeFirst();
      const all = Number(rows?.n ?? 0) > SNAPSHOT_LIMIT ? undefined : await activeAll(this.db, now);
      this.snap = { rows: all, untilMs: now + this.ttlMs, atMs: now };
    }
    if (this.snap.rows === undefined) return activeDirectives(this.db, scope, now);
    return this.snap.rows.filter((dv) => dv.expiresAtMs > now && matches(dv, scope));
  }
}

async function activeAll(db: Kysely<Database>, now: number): Promise<Directive[]> {
  const rows = await db
    .selectFrom('directives')
    .selectAll()
    .where('expires_ms', '>', now)
    .where('consumed_ms', 'is', null)
    .orderBy('created_ms')
    .orderBy('key')
    .limit(SNAPSHOT_LIMIT)
    .execute();
  return rows.map(rowToDirective);
}

const whyCache = new WeakMap<object, TtlCache<Why>>();

/** The workflow, run and signal behind a directive (immutable, so cached per store handle). */
export async function directiveWhy(db: Kysely<Database>, clock: Clock, dv: Directive): Promise<Why> {
  let cache = whyCache.get(db);
  if (cache === undefined) {
    cache = new TtlCache<Why>(clock, 3_600_000, 10_000);
    whyCache.set(db, cache);
  }
  return cache.through(dv.key, async () => {
    const action = await db.selectFrom('outbox').select(['run_id', 'workflow_id']).where('key', '=', dv.key).executeTakeFirst();
    if (action === undefined) return { workflow: null, run: null, signal: null, directive: dv.key };
    const run = await db.selectFrom('runs').select(['trigger_events']).where('id', '=', action.run_id).executeTakeFirst();
    let signals: string[] = [];
    try {
      const events = JSON.parse(run?.trigger_events ?? '[]') as { type?: unknown }[];
      signals = events.map((e) => (typeof e?.type === 'string' ? e.type : '')).filter(Boolean);
    } catch {
      signals = [];
    }
    return { workflow: action.workflow_id, run: action.run_id, signal: signals[signals.length - 1] ?? null, signals, directive: dv.key };
  });
}
