import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { identityFolder } from '../../../test/support/identity.ts';
import { writeTransaction } from '../../detect/index.ts';
import type { Store } from '../../store/index.ts';
import { assignHoldout, getHoldoutAssignment, groupOf, holdoutBucket } from './index.ts';

const T0 = Date.parse('2026-01-05T12:00:00Z');
const N = 10_000;

/** Holdouts among N ids are Binomial(N, p): allow 5 standard deviations either side. */
function expectBinomial(count: number, n: number, percent: number): void {
  const p = percent / 100;
  const sd = Math.sqrt(n * p * (1 - p));
  expect(count).toBeGreaterThanOrEqual(n * p - 5 * sd);
  expect(count).toBeLessThanOrEqual(n * p + 5 * sd);
}

/** The first id of the form `${prefix}${i}` whose bucket puts it in `group` at `percent`. */
function idIn(workflowId: string, prefix: string, group: 'holdout' | 'treatment', percent: number): string {
  for (let i = 0; ; i++) if (groupOf(holdoutBucket(workflowId, `${prefix}${i}`), percent) === group) return `${prefix}${i}`;
}

describe('holdout buckets', () => {
  it('keeps out about the percent of 10,000 ids, with nested holdouts as the percent grows', () => {
    const ids = Array.from({ length: N }, (_, i) => `cus_${i}`);
    for (const percent of [1, 5, 10, 25, 50])
      expectBinomial(ids.filter((id) => groupOf(holdoutBucket('wf-a', id), percent) === 'holdout').length, N, percent);
    const at5 = ids.filter((id) => groupOf(holdoutBucket('wf-a', id), 5) === 'holdout');
    expect(at5.every((id) => groupOf(holdoutBucket('wf-a', id), 10) === 'holdout')).toBe(true);
  });

  it('hashes the workflow id with the customer id, so workflows hold out different customers', () => {
    const ids = Array.from({ length: N }, (_, i) => `cus_${i}`);
    const a = new Set(ids.filter((id) => groupOf(holdoutBucket('wf-a', id), 10) === 'holdout'));
    const both = ids.filter((id) => a.has(id) && groupOf(holdoutBucket('wf-b', id), 10) === 'holdout').length;
    // Independent 10 % holdouts overlap on about 1 % of customers.
    expectBinomial(both, N, 1);
    expect(holdoutBucket('wf-a', 'cus_1')).toBe(holdoutBucket('wf-a', 'cus_1'));
    expect(holdoutBucket('wf-a', 'cus_1')).toBeGreaterThanOrEqual(0);
    expect(holdoutBucket('wf-a', 'cus_1')).toBeLessThan(N);
  });
});

describeEachBackend('holdout assignments', (make) => {
  let backend: Backend;
  let store: Store;
  let identity: ReturnType<typeof identityFolder>;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    identity = identityFolder(store);
  });
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  // The share over 10,000 ids is the pure test above; here 2,000 stored assignments follow the hash.
  it('stores about the percent of 2,000 customers as holdout, as the hash says', async () => {
    const n = 2_000;
    const groups = await writeTransaction(store, async (db) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(await assignHoldout(db, 'wf-share', `cus_${i}`, 10, T0));
      return out;
    });
    const holdouts = groups.filter((g) => g === 'holdout').length;
    expectBinomial(holdouts, n, 10);
    expect(groups.every((g, i) => g === groupOf(holdoutBucket('wf-share', `cus_${i}`), 10))).toBe(true);
    const stored = await store.db
      .selectFrom('holdout_assignments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('grp', '=', 'holdout')
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(holdouts);
  });

  it('never recomputes an assignment when the percent changes', async () => {
    const inHoldout = idIn('wf-1', 'cus_', 'holdout', 10);
    const inTreatment = idIn('wf-1', 'cus_', 'treatment', 10);
    expect(await assignHoldout(store.db, 'wf-1', inHoldout, 10, T0)).toBe('holdout');
    expect(await assignHoldout(store.db, 'wf-1', inTreatment, 10, T0)).toBe('treatment');
    for (const percent of [0, 50, 10]) {
      expect(await assignHoldout(store.db, 'wf-1', inHoldout, percent, T0 + 1000)).toBe('holdout');
      expect(await assignHoldout(store.db, 'wf-1', inTreatment, percent, T0 + 1000)).toBe('treatment');
    }
    expect(await getHoldoutAssignment(store.db, 'wf-1', inHoldout)).toMatchObject({
      group: 'holdout',
      percent: 10,
      bucket: holdoutBucket('wf-1', inHoldout),
      assignedMs: T0,
      viaCustomerId: undefined,
    });
  });

  it('stores nothing for a workflow without a holdout', async () => {
    expect(await assignHoldout(store.db, 'wf-0', idIn('wf-0', 'cus_', 'holdout', 50), 0, T0)).toBe('treatment');
    expect(await store.db.selectFrom('holdout_assignments').selectAll().execute()).toEqual([]);
  });

  it('keeps an anonymous shopper in their group after they identify', async () => {
    // Ids chosen so that hashing the later canonical user id would flip each group.
    const anonHeld = idIn('wf-1', 'anon-h', 'holdout', 10);
    const userHeld = idIn('wf-1', 'user-t', 'treatment', 10);
    const anonTreated = idIn('wf-1', 'anon-t', 'treatment', 10);
    const userTreated = idIn('wf-1', 'user-h', 'holdout', 10);
    await identity.seen(T0 - 1000, anonHeld);
    await identity.seen(T0 - 1000, anonTreated);
    expect(await assignHoldout(store.db, 'wf-1', anonHeld, 10, T0)).toBe('holdout');
    expect(await assignHoldout(store.db, 'wf-1', anonTreated, 10, T0)).toBe('treatment');

    await identity.identify(T0 + 60_000, { user: userHeld, anon: anonHeld });
    await identity.identify(T0 + 60_000, { user: userTreated, anon: anonTreated });
    // The runner asks with the canonical id, which is now the user id.
    expect(await assignHoldout(store.db, 'wf-1', userHeld, 10, T0 + 120_000)).toBe('holdout');
    expect(await assignHoldout(store.db, 'wf-1', userTreated, 10, T0 + 120_000)).toBe('treatment');
    expect(await getHoldoutAssignment(store.db, 'wf-1', userHeld)).toMatchObject({
      customerId: userHeld,
      group: 'holdout',
      viaCustomerId: anonHeld,
      bucket: holdoutBucket('wf-1', anonHeld),
      assignedMs: T0 + 120_000,
    });
    // Asked again (fast path, its own row) and by the old anonymous id: still the same.
    expect(await assignHoldout(store.db, 'wf-1', userHeld, 10, T0 + 180_000)).toBe('holdout');
    expect(await assignHoldout(store.db, 'wf-1', anonHeld, 10, T0 + 180_000)).toBe('holdout');
    // Another workflow has its own assignment, hashed for the canonical id.
    expect(await assignHoldout(store.db, 'wf-2', userHeld, 10, T0)).toBe(groupOf(holdoutBucket('wf-2', userHeld), 10));
  });

  it('gives a customer asked about by an alias the assignment of their canonical id', async () => {
    const anon = 'anon-z';
    const user = idIn('wf-3', 'user-z', 'holdout', 20);
    await identity.identify(T0, { user, anon });
    expect(await assignHoldout(store.db, 'wf-3', anon, 20, T0)).toBe('holdout');
    const rows = await store.db.selectFrom('holdout_assignments').select(['customer_id', 'via_customer_id']).execute();
    expect(rows).toEqual([{ customer_id: user, via_customer_id: null }]);
  });
});
