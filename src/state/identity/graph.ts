/**
 * The merge graph: ids (user and anonymous) grouped into customers, Segment-style.
 *
 * Rules (every one a join, so the result does not depend on arrival order or on duplicates):
 * - An id's `first_seen_ms` / `last_seen_ms` are the min / max event time of the events naming
 *   it; `is_user` is set once any event names it as a user id.
 * - Merges only ever join (Segment has no un-merge): ids a merge connects, directly or through
 *   a chain, are one customer, whatever order the merges arrive in.
 * - **Canonical customer id** of a component: its user id first seen by event time (ties: the
 *   smaller id), else its anonymous id first seen (same ties). A later-arriving older event can
 *   change it; the old canonical id still resolves (it is one of the customer's ids).
 * - Every id row stores its component's canonical id in `customer_id`, so a merge rewrites the
 *   labels of both components and nothing else: traits, consent and links stay keyed by the id
 *   that asserted them and are combined per customer when read.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import type { Facts } from './facts.ts';

type IdRow = Selectable<Database['identity_ids']>;

/** Rows per `IN (...)` query and per multi-row upsert. */
export const CHUNK = 500;

export function* chunks<T>(items: readonly T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Folds the ids and merges of a batch into `identity_ids`. */
export async function foldIds(db: Db, facts: readonly Facts[], lock: boolean): Promise<void> {
  const seen = new Map<string, { user: boolean; first: number; last: number }>();
  for (const f of facts)
    for (const m of f.ids) {
      const s = seen.get(m.id);
      if (!s) seen.set(m.id, { user: m.user, first: f.at, last: f.at });
      else {
        s.user ||= m.user;
        s.first = Math.min(s.first, f.at);
        s.last = Math.max(s.last, f.at);
      }
    }
  if (seen.size === 0) return;

  // The stored rows of every id named, then the whole components they belong to.
  const before = new Map<string, IdRow>();
  const load = async (column: 'id' | 'customer_id', keys: readonly string[]) => {
    for (const part of chunks(keys)) {
      const rows = await db
        .selectFrom('identity_ids')
        .selectAll()
        .where(column, 'in', part)
        .$if(lock, (q) => q.forUpdate())
        .execute();
      for (const r of rows) before.set(r.id, { ...r, first_seen_ms: Number(r.first_seen_ms), last_seen_ms: Number(r.last_seen_ms) });
    }
  };
  await load('id', [...seen.keys()]);
  await load('customer_id', [...new Set([...before.values()].map((r) => r.customer_id))]);

  const uf = new UnionFind();
  const next = new Map<string, IdRow>();
  for (const r of before.values()) {
    next.set(r.id, { ...r });
    uf.union(r.id, r.customer_id);
  }
  for (const [id, s] of seen) {
    const r = next.get(id);
    if (!r) next.set(id, { id, is_user: s.user ? 1 : 0, first_seen_ms: s.first, last_seen_ms: s.last, customer_id: id });
    else {
      if (s.user) r.is_user = 1;
      r.first_seen_ms = Math.min(Number(r.first_seen_ms), s.first);
      r.last_seen_ms = Math.max(Number(r.last_seen_ms), s.last);
    }
  }
  for (const f of facts) for (const [a, b] of f.merges) uf.union(a, b);

  const canonical = new Map<string, IdRow>();
  for (const r of next.values()) {
    const root = uf.find(r.id);
    const best = canonical.get(root);
    if (!best || ranksBefore(r, best)) canonical.set(root, r);
  }
  const changed: IdRow[] = [];
  for (const r of next.values()) {
    r.customer_id = (canonical.get(uf.find(r.id)) as IdRow).id;
    const b = before.get(r.id);
    if (
      !b ||
      b.customer_id !== r.customer_id ||
      b.is_user !== r.is_user ||
      Number(b.first_seen_ms) !== r.first_seen_ms ||
      Number(b.last_seen_ms) !== r.last_seen_ms
    )
      changed.push(r);
  }
  for (const part of chunks(changed))
    await db
      .insertInto('identity_ids')
      .values(part)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          is_user: eb.ref('excluded.is_user'),
          first_seen_ms: eb.ref('excluded.first_seen_ms'),
          last_seen_ms: eb.ref('excluded.last_seen_ms'),
          customer_id: eb.ref('excluded.customer_id'),
        })),
      )
      .execute();
}

/** The canonical-id order: user ids first, then earliest first seen, then the smaller id. */
function ranksBefore(a: IdRow, b: IdRow): boolean {
  if (a.is_user !== b.is_user) return a.is_user > b.is_user;
  const fa = Number(a.first_seen_ms);
  const fb = Number(b.first_seen_ms);
  if (fa !== fb) return fa < fb;
  return a.id < b.id;
}

class UnionFind {
  private readonly parent = new Map<string, string>();

  find(x: string): string {
    let root = x;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root)) root = p;
    for (let y = x; y !== root; ) {
      const p = this.parent.get(y) as string;
      this.parent.set(y, root);
      y = p;
    }
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}
