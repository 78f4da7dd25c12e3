import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { FakeClock, isoTime } from '../../core/index.ts';
import { openTimerStore, type TimerStore, writeTransaction } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type EventLog, openEventLog } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { rebuildState, type StateConsumer, startStateConsumer } from '../index.ts';
import {
  createIdentityModule,
  customerOfDevice,
  customerOfVin,
  emailHash,
  getCustomer,
  hasConsent,
  listCustomers,
  resolveCustomerId,
  vehiclesOf,
} from './index.ts';
import { snapshot } from './snapshot.test-helpers.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');
const VIN1 = 'WVWZZZAUZHW123456';
const VIN2 = '5YJ3E1EA7KF317000';

let n = 0;
function ev(
  type: string,
  atMs: number,
  ids: { user?: string; anon?: string },
  data: Record<string, unknown> = {},
  ext: Partial<CloudEvent> = {},
): CloudEvent {
  return {
    specversion: '1.0',
    id: `e${++n}`,
    source: 'shop',
    type,
    time: isoTime(atMs),
    ...(ids.user !== undefined ? { userid: ids.user } : {}),
    ...(ids.anon !== undefined ? { anonymousid: ids.anon } : {}),
    data,
    ...ext,
  };
}
const identify = (at: number, ids: { user?: string; anon?: string }, traits: Record<string, unknown> = {}, ext: Partial<CloudEvent> = {}) =>
  ev('customer.identified', at, ids, { traits }, ext);
const alias = (at: number, user: string, previousId: string) => ev('customer.aliased', at, { user }, { previousId });
const track = (at: number, ids: { user?: string; anon?: string }, event = 'Product Viewed', properties: Record<string, unknown> = {}) =>
  ev(`commerce.${event.toLowerCase().replace(/ /g, '_')}`, at, ids, { event, properties });
/** A Segment track whose `context.consent` states preferences. */
const consent = (at: number, ids: { user?: string; anon?: string }, prefs: Record<string, boolean>) =>
  ev('commerce.product_viewed', at, ids, { event: 'Product Viewed', properties: {}, context: { consent: { categoryPreferences: prefs } } });
const consentUpdated = (at: number, ids: { user?: string; anon?: string }, purposes: Record<string, boolean>) =>
  ev('customer.consent_updated', at, ids, { purposes });
const registered = (at: number, data: Record<string, unknown>) => ev('device.registered', at, {}, data, { source: 'pitwall:api/devices' });

describeEachBackend('identity graph', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let timers: TimerStore;
  let clock: FakeClock;
  let state: StateConsumer;

  beforeEach(async () => {
    backend = make();
    clock = new FakeClock(T0);
    store = await backend.open();
    log = openEventLog(store, clock);
    timers = openTimerStore(store, clock);
    state = startStateConsumer({ log, store, timers, clock, pollMs: 20 });
  });
  afterEach(async () => {
    await state?.stop();
    await log?.close();
    await store?.close();
    await backend?.cleanup();
  });

  const send = async (...events: CloudEvent[]) => {
    const out = await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
    await state.caughtUp(Math.max(...out.map((o) => o.seq)));
  };
  const db = () => store.db;

  it('identify links the anonymous visitor to the user; the email is kept only as a hash', async () => {
    await send(track(T0, { anon: 'anon-1' }), track(T0 + MIN, { anon: 'anon-1' }));
    expect(await resolveCustomerId(db(), 'anon-1')).toBe('anon-1');
    await send(identify(T0 + 2 * MIN, { user: 'u1', anon: 'anon-1' }, { email: ' Mara.Keller@Example.com ', firstName: 'Mara' }));

    const c = await getCustomer(db(), 'anon-1');
    expect(c).toMatchObject({
      customerId: 'u1',
      userIds: ['u1'],
      anonymousIds: ['anon-1'],
      emailHashes: [emailHash('mara.keller@example.com')],
      traits: { firstName: 'Mara' },
      firstSeen: T0,
      lastSeen: T0 + 2 * MIN,
    });
    expect(await resolveCustomerId(db(), 'email:MARA.KELLER@example.com')).toBe('u1');
    expect(await resolveCustomerId(db(), `email_sha256:${emailHash('mara.keller@example.com')}`)).toBe('u1');
    const stored = JSON.stringify(await snapshot(db()));
    expect(stored.toLowerCase()).not.toContain('mara.keller@example.com');
  });

  it('a track call carrying both ids after login merges them (Segment semantics)', async () => {
    await send(track(T0, { anon: 'a-2' }), track(T0 + MIN, { user: 'u2' }));
    expect(await resolveCustomerId(db(), 'a-2')).toBe('a-2');
    await send(track(T0 + 2 * MIN, { user: 'u2', anon: 'a-2' }, 'Product Added'));
    expect(await resolveCustomerId(db(), 'a-2')).toBe('u2');
    expect((await getCustomer(db(), 'u2'))?.anonymousIds).toEqual(['a-2']);
  });

  it('alias merges two users; the user id first seen by event time stays canonical, whatever arrives first', async () => {
    // u-new is identified first (arrival), but u-old was seen earlier (event time).
    await send(identify(T0 + 10 * MIN, { user: 'u-new', anon: 'a-new' }, { plan: 'pro' }));
    await send(track(T0, { user: 'u-old' }));
    await send(alias(T0 + 20 * MIN, 'u-new', 'u-old'));
    for (const id of ['u-new', 'a-new', 'u-old']) expect(await resolveCustomerId(db(), id)).toBe('u-old');
    expect(await getCustomer(db(), 'a-new')).toMatchObject({ customerId: 'u-old', userIds: ['u-old', 'u-new'], anonymousIds: ['a-new'] });
  });

  it('chains: anonymous → user, alias to a second and a third id, all one customer', async () => {
    await send(
      identify(T0, { user: 'c1', anon: 'anon-x' }),
      alias(T0 + MIN, 'c2', 'c1'),
      alias(T0 + 2 * MIN, 'c3', 'c2'),
      track(T0 + 3 * MIN, { anon: 'anon-y' }),
      identify(T0 + 4 * MIN, { user: 'c3', anon: 'anon-y' }),
    );
    const c = await getCustomer(db(), 'anon-y');
    expect(c).toMatchObject({ customerId: 'c1', userIds: ['c1', 'c2', 'c3'], anonymousIds: ['anon-x', 'anon-y'] });
    // An alias whose previousId was only ever anonymous: canonical stays a user id.
    await send(alias(T0 - MIN, 'c9', 'anon-z'));
    expect(await resolveCustomerId(db(), 'anon-z')).toBe('c9');
  });

  it('merging combines traits (latest event time per trait wins), consent (latest per purpose) and orders', async () => {
    await send(
      identify(T0 + 5 * MIN, { anon: 'a-3' }, { firstName: 'Anon', city: 'Hamburg' }),
      consent(T0 + 5 * MIN, { anon: 'a-3' }, { Advertising: true }),
      track(T0 + 6 * MIN, { anon: 'a-3' }, 'Order Completed', { order_id: 'ord-a', total: 40, currency: 'eur' }),
      identify(T0, { user: 'u3' }, { firstName: 'Mara', lastName: 'Keller' }),
      consentUpdated(T0 + MIN, { user: 'u3' }, { advertising: false, analytics: true }),
      track(T0 + 2 * MIN, { user: 'u3' }, 'Order Completed', { order_id: 'ord-u', revenue: 99 }),
    );
    expect(await hasConsent(db(), 'u3', 'advertising')).toBe(false);
    await send(identify(T0 + 10 * MIN, { user: 'u3', anon: 'a-3' }));
    const c = await getCustomer(db(), 'u3');
    expect(c?.traits).toEqual({ city: 'Hamburg', firstName: 'Anon', lastName: 'Keller' });
    expect(c?.consent).toEqual({ advertising: { granted: true, at: T0 + 5 * MIN }, analytics: { granted: true, at: T0 + MIN } });
    expect(c?.orders).toEqual([
      { orderId: 'ord-u', at: T0 + 2 * MIN, total: 99, currency: undefined },
      { orderId: 'ord-a', at: T0 + 6 * MIN, total: 40, currency: 'EUR' },
    ]);
    expect(await resolveCustomerId(db(), 'order:ord-a')).toBe('u3');
  });

  it('consent: the latest statement by event time wins, an older one arriving later does not', async () => {
    await send(consent(T0 + 2 * MIN, { user: 'u4' }, { Advertising: false }));
    await send(consentUpdated(T0 + MIN, { user: 'u4' }, { advertising: true })); // older, arrives later
    expect(await hasConsent(db(), 'u4', 'Advertising')).toBe(false);
    await send(consentUpdated(T0 + 3 * MIN, { user: 'u4' }, { advertising: true }));
    expect(await hasConsent(db(), 'u4', 'advertising')).toBe(true);
    expect(await hasConsent(db(), 'u4', 'email')).toBeUndefined();
    expect(await hasConsent(db(), 'nobody', 'advertising')).toBeUndefined();
  });

  it('device.registered links customer ↔ device ↔ VIN ↔ part serial; a later registration moves them, an older one does not', async () => {
    await send(
      registered(T0, {
        device_id: 'dev-1',
        kind: 'battery_monitor',
        customer_id: 'cus-1',
        vin: VIN1,
        part_sku: 'BAT-AGM-70AH',
        part_serial: 'SER-1',
        firmware: '2.4.1',
      }),
      identify(T0 + MIN, { user: 'cus-1' }, { garage_vin: VIN2 }),
    );
    expect(await customerOfDevice(db(), 'dev-1')).toBe('cus-1');
    expect(await customerOfVin(db(), VIN1.toLowerCase())).toBe('cus-1');
    expect(await resolveCustomerId(db(), 'serial:SER-1')).toBe('cus-1');
    expect(await vehiclesOf(db(), 'device:dev-1')).toEqual([
      { vin: VIN1, devices: ['dev-1'], parts: [{ sku: 'BAT-AGM-70AH', serial: 'SER-1' }], firstLinkedAt: T0, lastLinkedAt: T0 },
      { vin: VIN2, devices: [], parts: [], firstLinkedAt: T0 + MIN, lastLinkedAt: T0 + MIN },
    ]);
    expect((await getCustomer(db(), 'cus-1'))?.devices).toEqual([
      {
        deviceId: 'dev-1',
        kind: 'battery_monitor',
        vin: VIN1,
        partSku: 'BAT-AGM-70AH',
        partSerial: 'SER-1',
        firmware: '2.4.1',
        registeredAt: T0,
      },
    ]);

    // Resold: registered to cus-2 later; a stale registration to cus-3 arrives after it.
    await send(registered(T0 + 60 * MIN, { device_id: 'dev-1', customer_id: 'cus-2', vin: VIN1 }));
    await send(registered(T0 + 30 * MIN, { device_id: 'dev-1', customer_id: 'cus-3', vin: VIN1 }));
    expect(await customerOfDevice(db(), 'dev-1')).toBe('cus-2');
    expect(await customerOfVin(db(), VIN1)).toBe('cus-2');
    expect((await vehiclesOf(db(), 'cus-1')).map((v) => v.vin)).toEqual([VIN2]);
    expect((await vehiclesOf(db(), 'cus-2')).map((v) => v.vin)).toEqual([VIN1]);
    expect(await vehiclesOf(db(), 'cus-3')).toEqual([]);
    expect(await customerOfVin(db(), 'not-a-vin')).toBeUndefined();
  });

  it('history-mode events build identity like any other', async () => {
    await send(track(T0 - 90 * MIN, { anon: 'h-a' }, 'Product Viewed', {}), {
      ...identify(T0 - 80 * MIN, { user: 'h-u', anon: 'h-a' }, { email: 'h@example.com' }),
      pitwallhistory: true,
    });
    expect(await resolveCustomerId(db(), 'email:h@example.com')).toBe('h-u');
    expect(await getCustomer(db(), 'h-a')).toMatchObject({ customerId: 'h-u', firstSeen: T0 - 90 * MIN });
    expect(await timers.count()).toBe(0);
  });

  it('re-applying a batch (a crash before the ack) and duplicate events change nothing', async () => {
    await send(
      identify(T0, { user: 'r1', anon: 'ra' }, { email: 'r@example.com', tier: 'gold' }),
      alias(T0 + MIN, 'r2', 'r1'),
      consentUpdated(T0 + 2 * MIN, { user: 'r2' }, { analytics: true }),
      registered(T0 + 3 * MIN, { device_id: 'dev-r', customer_id: 'r2', vin: VIN2 }),
      track(T0 + 4 * MIN, { user: 'r2' }, 'Order Completed', { order_id: 'ord-r' }),
    );
    const before = await snapshot(db());
    const batch = await log.read(0, 100);
    const [projection] = createIdentityModule({ log, store, timers, clock }, undefined).projections;
    if (!projection) throw new Error('no projection');
    await writeTransaction(store, (tx) => projection.apply(tx, batch, store.dialect));
    await writeTransaction(store, (tx) => projection.apply(tx, [...batch].reverse(), store.dialect));
    expect(await snapshot(db())).toEqual(before);
  });

  it('pitwall state rebuild folds the log into the same graph', async () => {
    await send(identify(T0 + 10 * MIN, { user: 'b2', anon: 'ba' }, { email: 'b@example.com' }), track(T0 + 11 * MIN, { anon: 'bb' }));
    await send(alias(T0 + 12 * MIN, 'b2', 'b1'), track(T0, { user: 'b1' }), consent(T0 + 13 * MIN, { anon: 'bb' }, { Analytics: false }));
    await send(
      registered(T0 + 14 * MIN, { device_id: 'dev-b', customer_id: 'b2', vin: VIN1, part_serial: 'S-b' }),
      identify(T0 + 15 * MIN, { user: 'b1', anon: 'bb' }),
    );
    const live = await snapshot(db());
    expect(await resolveCustomerId(db(), 'bb')).toBe('b1');
    await state.stop();
    const result = await rebuildState({ log, store, timers, clock, batchSize: 2 });
    expect(result.tables).toEqual(expect.arrayContaining(['identity_ids', 'identity_links', 'identity_traits', 'identity_consent']));
    expect(await snapshot(db())).toEqual(live);
  });

  it('lists customers with a cursor', async () => {
    await send(identify(T0, { user: 'l1', anon: 'la' }), track(T0, { anon: 'l2' }), track(T0, { user: 'l3' }));
    const first = await listCustomers(db(), { limit: 2 });
    expect(first.map((c) => c.customerId)).toEqual(['l1', 'l2']);
    expect(first[0]).toMatchObject({ userIds: ['l1'], anonymousIds: ['la'] });
    const next = await listCustomers(db(), { after: 'l2', limit: 2 });
    expect(next.map((c) => c.customerId)).toEqual(['l3']);
  });
});
