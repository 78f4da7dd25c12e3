/**
 * Order independence: any permutation of the same identify / alias / track / consent /
 * registration / order events, folded in any batches, gives the same graph (and so the same
 * canonical customer ids) as folding them in order; folding them all again changes nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { FakeClock, isoTime } from '../../core/index.ts';
import { openTimerStore, type Projection, writeTransaction } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type LoggedEvent, openEventLog } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { createIdentityModule, IDENTITY_TABLES } from './index.ts';
import { snapshot } from './snapshot.test-helpers.ts';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const MIN = 60_000;
const USERS = ['u1', 'u2', 'u3', 'u4'];
const ANONS = ['a1', 'a2', 'a3', 'a4'];
const VINS = ['WVWZZZAUZHW123456', '5YJ3E1EA7KF317000'];

const user = fc.constantFrom(...USERS);
const anon = fc.constantFrom(...ANONS);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** Few distinct minutes, so equal event times (ties) are common. */
const minute = fc.nat({ max: 12 });
const ids = fc.oneof(fc.record({ user, anon: maybe(anon) }), fc.record({ user: maybe(user), anon }));
const prefs = fc.dictionary(fc.constantFrom('Advertising', 'analytics'), fc.boolean(), { maxKeys: 2 });

type Spec = { m: number; user?: string | undefined; anon?: string | undefined; type: string; data: Record<string, unknown> };

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc
    .record({
      m: minute,
      ids,
      email: maybe(fc.constantFrom('x@example.com', 'Y@example.com')),
      plan: maybe(fc.constantFrom('free', 'pro')),
      vin: maybe(fc.constantFrom(...VINS)),
    })
    .map(({ m, ids, email, plan, vin }) => ({
      m,
      ...ids,
      type: 'customer.identified',
      data: { traits: { ...(email ? { email } : {}), ...(plan ? { plan } : {}), ...(vin ? { garage_vin: vin } : {}) } },
    })),
  fc
    .record({ m: minute, user, previousId: fc.constantFrom(...USERS, ...ANONS) })
    .map(({ m, user, previousId }) => ({ m, user, type: 'customer.aliased', data: { previousId } })),
  fc.record({ m: minute, ids, prefs }).map(({ m, ids, prefs }) => ({
    m,
    ...ids,
    type: 'commerce.product_viewed',
    data: { event: 'Product Viewed', properties: {}, context: { consent: { categoryPreferences: prefs } } },
  })),
  fc
    .record({ m: minute, ids, prefs })
    .map(({ m, ids, prefs }) => ({ m, ...ids, type: 'customer.consent_updated', data: { purposes: prefs } })),
  fc.record({ m: minute, ids, order: fc.constantFrom('o1', 'o2'), total: fc.nat({ max: 3 }) }).map(({ m, ids, order, total }) => ({
    m,
    ...ids,
    type: 'commerce.order_completed',
    data: { event: 'Order Completed', properties: { order_id: order, total } },
  })),
  fc
    .record({
      m: minute,
      device: fc.constantFrom('d1', 'd2'),
      customer: maybe(user),
      vin: maybe(fc.constantFrom(...VINS)),
      serial: maybe(fc.constantFrom('s1', 's2')),
    })
    .map(({ m, device, customer, vin, serial }) => ({
      m,
      type: 'device.registered',
      data: {
        device_id: device,
        ...(customer ? { customer_id: customer } : {}),
        ...(vin ? { vin } : {}),
        ...(serial ? { part_serial: serial, part_sku: 'SKU' } : {}),
      },
    })),
);

function toLogged(specs: readonly Spec[]): LoggedEvent[] {
  return specs.map((s, i) => {
    const event: CloudEvent = {
      specversion: '1.0',
      id: `p${i}`,
      source: 'shop',
      type: s.type,
      time: isoTime(T0 + s.m * MIN),
      ...(s.user !== undefined ? { userid: s.user } : {}),
      ...(s.anon !== undefined ? { anonymousid: s.anon } : {}),
      data: s.data,
    };
    return { seq: i + 1, event, receivedAt: T0, history: false };
  });
}

describeEachBackend('identity graph is independent of arrival order', (make) => {
  let backend: Backend;
  let store: Store;
  let projection: Projection;

  beforeAll(async () => {
    backend = make();
    store = await backend.open();
    const clock = new FakeClock(T0);
    const module = createIdentityModule({ log: openEventLog(store, clock), store, timers: openTimerStore(store, clock), clock }, undefined);
    projection = module.projections[0] as Projection;
  });
  afterAll(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  const fold = async (batches: readonly LoggedEvent[][]) => {
    await writeTransaction(store, async (db) => {
      for (const t of IDENTITY_TABLES) await db.deleteFrom(t).execute();
    });
    for (const b of batches) await writeTransaction(store, (db) => projection.apply(db, b, store.dialect));
    return snapshot(store.db);
  };

  it('any permutation, in any batches, gives the same graph and canonical ids; folding again changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 14 }),
        fc.array(fc.nat(), { minLength: 14, maxLength: 14 }),
        fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
        async (specs, keys, cuts) => {
          const events = toLogged(specs);
          const inOrder = [...events].sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time) || a.seq - b.seq);
          const ordered = await fold(inOrder.map((e) => [e]));

          const shuffled = events
            .map((e, i) => ({ e, k: keys[i] ?? 0 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          const batches: LoggedEvent[][] = [[]];
          shuffled.forEach((e, i) => {
            (batches[batches.length - 1] as LoggedEvent[]).push(e);
            if (cuts[i]) batches.push([]);
          });
          const permuted = await fold(batches.filter((b) => b.length > 0));
          expect(permuted).toEqual(ordered);

          for (const b of batches) await writeTransaction(store, (db) => projection.apply(db, b, store.dialect));
          expect(await snapshot(store.db)).toEqual(ordered);
        },
      ),
      { numRuns: 30 },
    );
  });
});
