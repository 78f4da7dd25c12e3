/**
 * `rebuildLearn` on each backend: events appended to a real log and folded live in small batches,
 * then the rollups emptied and rebuilt from the log in one pass — the same tables, and group
 * `learn` continues from the head.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { CloudEvent } from '../events/index.ts';
import { type EventLog, openEventLog } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { foldLearn } from './fold.ts';
import { rebuildLearn } from './rebuild.ts';

const T0 = Date.parse('2026-04-06T08:00:00Z');
let n = 0;
const ev = (type: string, at: number, user: string, properties: Record<string, unknown>): CloudEvent => ({
  specversion: '1.0',
  id: `r${++n}`,
  source: 'urn:rebuild',
  type,
  time: new Date(at).toISOString(),
  userid: user,
  store: 'de',
  data: { properties },
});

describeEachBackend('learn rebuild', (make: () => Backend) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  const clock = new FakeClock(T0 + 10 * 86_400_000);
  beforeAll(async () => {
    backend = make();
    store = await backend.open();
    log = openEventLog(store, clock);
  });
  afterAll(async () => {
    await log?.close();
    await store?.close();
    await backend?.cleanup();
  });

  const snapshot = async () => ({
    funnel: await store.db.selectFrom('learn_funnel_daily').selectAll().orderBy(['day', 'category', 'device', 'segment']).execute(),
    orders: await store.db.selectFrom('learn_orders').selectAll().orderBy('order_id').execute(),
  });

  it('rebuilds nothing from an empty log, and leaves the group at 0', async () => {
    expect(await rebuildLearn({ log, store })).toEqual({ events: 0, position: 0 });
  });

  it('folds the whole log again into the same rollups and moves group learn to the head', async () => {
    const events: CloudEvent[] = [];
    for (let day = 0; day < 5; day++) {
      for (let u = 0; u < 7; u++) {
        const at = T0 + day * 86_400_000 + u * 1000;
        events.push(ev('commerce.product_viewed', at, `u${u}`, { category: u % 2 ? 'Brakes' : 'Filters', sku: `S${u}` }));
        if (u % 3 === 0) events.push(ev('commerce.product_added', at + 10, `u${u}`, { category: 'Brakes', sku: `S${u}`, price: 20 }));
        if (u === 3)
          events.push(
            ev('commerce.order_completed', at + 20, `u${u}`, {
              order_id: `o${day}`,
              revenue: 40 + day,
              products: [{ sku: `S${u}`, price: 20, quantity: 2 }],
            }),
          );
      }
    }
    await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
    // Live: the consumer folds in batches of 7.
    for (let after = 0; ; ) {
      const batch = await log.read(after, 7);
      if (batch.length === 0) break;
      await foldLearn(store, batch);
      after = batch[batch.length - 1]?.seq ?? after;
    }
    const live = await snapshot();
    expect(live.orders).toHaveLength(5);
    expect(live.funnel.reduce((s, r) => s + Number(r.views), 0)).toBe(35);

    const r = await rebuildLearn({ log, store, batchSize: 11 });
    expect(r.events).toBe(events.length);
    expect(r.position).toBe(await log.head());
    expect(await log.position('learn')).toBe(r.position);
    expect(await snapshot()).toEqual(live);
  });
});
