/**
 * Links, traits and consent: per asserting id, the latest assertion by event time wins.
 *
 * "Latest" is the order (event time, event id, value as text), compared here in code, never by
 * SQL collation, so both backends and every arrival order pick the same winner; a duplicate or
 * an older event changes nothing. Links also keep the earliest time they were asserted.
 * A batch is reduced in memory first, then merged with the stored rows it touches; only rows
 * that change are written (multi-row upserts).
 */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import type { Facts } from './facts.ts';
import { chunks } from './graph.ts';

type LinkRow = Selectable<Database['identity_links']>;
type TraitRow = Selectable<Database['identity_traits']>;
type ConsentRow = Selectable<Database['identity_consent']>;

export interface Stamp {
  at: number;
  eventId: string;
  payload: string;
}

/** True when `a` is later than `b` in the "latest wins" order. */
export function isLater(a: Stamp, b: Stamp): boolean {
  if (a.at !== b.at) return a.at > b.at;
  if (a.eventId !== b.eventId) return a.eventId > b.eventId;
  return a.payload > b.payload;
}

const linkStamp = (r: LinkRow): Stamp => ({ at: Number(r.last_ms), eventId: r.event_id, payload: r.detail });
const traitStamp = (r: TraitRow): Stamp => ({ at: Number(r.at_ms), eventId: r.event_id, payload: r.value });
const consentStamp = (r: ConsentRow): Stamp => ({ at: Number(r.at_ms), eventId: r.event_id, payload: String(r.granted) });

function mergeLink(a: LinkRow, b: LinkRow): LinkRow {
  const later = isLater(linkStamp(b), linkStamp(a)) ? b : a;
  return { ...later, first_ms: Math.min(Number(a.first_ms), Number(b.first_ms)), last_ms: Number(later.last_ms) };
}

const key = (...parts: string[]) => parts.join('\u0000');

/** Reduces candidates by key, merges them with the stored rows, returns the rows that change. */
function changedRows<R>(candidates: Map<string, R>, stored: Map<string, R>, merge: (a: R, b: R) => R, same: (a: R, b: R) => boolean): R[] {
  const out: R[] = [];
  for (const [k, c] of candidates) {
    const s = stored.get(k);
    if (!s) out.push(c);
    else {
      const m = merge(s, c);
      if (!same(m, s)) out.push(m);
    }
  }
  return out;
}

export async function foldLinks(db: Db, facts: readonly Facts[], lock: boolean): Promise<void> {
  const candidates = new Map<string, LinkRow>();
  for (const f of facts) {
    if (f.subject === undefined) continue;
    for (const l of f.links) {
      const row: LinkRow = {
        id: f.subject,
        kind: l.kind,
        value: l.value,
        first_ms: f.at,
        last_ms: f.at,
        event_id: f.eventId,
        detail: JSON.stringify(l.detail),
      };
      const k = key(row.id, row.kind, row.value);
      const c = candidates.get(k);
      candidates.set(k, c ? mergeLink(c, row) : row);
    }
  }
  if (candidates.size === 0) return;
  const stored = new Map<string, LinkRow>();
  for (const part of chunks([...candidates.values()], 250)) {
    const rows = await db
      .selectFrom('identity_links')
      .selectAll()
      .where('id', 'in', [...new Set(part.map((r) => r.id))])
      .where('value', 'in', [...new Set(part.map((r) => r.value))])
      .$if(lock, (q) => q.forUpdate())
      .execute();
    for (const r of rows) stored.set(key(r.id, r.kind, r.value), r);
  }
  const same = (a: LinkRow, b: LinkRow) =>
    Number(a.first_ms) === Number(b.first_ms) &&
    Number(a.last_ms) === Number(b.last_ms) &&
    a.event_id === b.event_id &&
    a.detail === b.detail;
  for (const part of chunks(changedRows(candidates, stored, mergeLink, same)))
    await db
      .insertInto('identity_links')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['id', 'kind', 'value']).doUpdateSet((eb) => ({
          first_ms: eb.ref('excluded.first_ms'),
          last_ms: eb.ref('excluded.last_ms'),
          event_id: eb.ref('excluded.event_id'),
          detail: eb.ref('excluded.detail'),
        })),
      )
      .execute();
}

export async function foldTraits(db: Db, facts: readonly Facts[], lock: boolean): Promise<void> {
  const later = (a: TraitRow, b: TraitRow) => (isLater(traitStamp(b), traitStamp(a)) ? b : a);
  const candidates = new Map<string, TraitRow>();
  for (const f of facts) {
    if (f.subject === undefined) continue;
    for (const [name, value] of f.traits) {
      const row: TraitRow = { id: f.subject, name, value: JSON.stringify(value ?? null), at_ms: f.at, event_id: f.eventId };
      const k = key(row.id, name);
      const c = candidates.get(k);
      candidates.set(k, c ? later(c, row) : row);
    }
  }
  if (candidates.size === 0) return;
  const stored = new Map<string, TraitRow>();
  for (const part of chunks([...candidates.values()], 250)) {
    const rows = await db
      .selectFrom('identity_traits')
      .selectAll()
      .where('id', 'in', [...new Set(part.map((r) => r.id))])
      .where('name', 'in', [...new Set(part.map((r) => r.name))])
      .$if(lock, (q) => q.forUpdate())
      .execute();
    for (const r of rows) stored.set(key(r.id, r.name), r);
  }
  for (const part of chunks(changedRows(candidates, stored, later, (a, b) => a === b)))
    await db
      .insertInto('identity_traits')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['id', 'name']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          at_ms: eb.ref('excluded.at_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();
}

export async function foldConsent(db: Db, facts: readonly Facts[], lock: boolean): Promise<void> {
  const later = (a: ConsentRow, b: ConsentRow) => (isLater(consentStamp(b), consentStamp(a)) ? b : a);
  const candidates = new Map<string, ConsentRow>();
  for (const f of facts) {
    if (f.subject === undefined) continue;
    for (const [purpose, granted] of f.consent) {
      const row: ConsentRow = { id: f.subject, purpose, granted: granted ? 1 : 0, at_ms: f.at, event_id: f.eventId };
      const k = key(row.id, purpose);
      const c = candidates.get(k);
      candidates.set(k, c ? later(c, row) : row);
    }
  }
  if (candidates.size === 0) return;
  const stored = new Map<string, ConsentRow>();
  for (const part of chunks([...candidates.values()], 250)) {
    const rows = await db
      .selectFrom('identity_consent')
      .selectAll()
      .where('id', 'in', [...new Set(part.map((r) => r.id))])
      .where('purpose', 'in', [...new Set(part.map((r) => r.purpose))])
      .$if(lock, (q) => q.forUpdate())
      .execute();
    for (const r of rows) stored.set(key(r.id, r.purpose), r);
  }
  for (const part of chunks(changedRows(candidates, stored, later, (a, b) => a === b)))
    await db
      .insertInto('identity_consent')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['id', 'purpose']).doUpdateSet((eb) => ({
          granted: eb.ref('excluded.granted'),
          at_ms: eb.ref('excluded.at_ms'),
          event_id: eb.ref('excluded.event_id'),
        })),
      )
      .execute();
}
