/**
 * The Decide stage running inside a real server: Segment events in over HTTP, the state
 * consumer folds them into a cart, the timer runner fires `cart.abandoned` once the cart
 * has been idle for PITWALL_CART_ABANDON_MINUTES — on a FakeClock, without sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Pitwall } from '../src/main.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
let server: TestServer;
let pw: Pitwall;
let key: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'decide', clock, env: { PITWALL_CART_ABANDON_MINUTES: '30' } });
  pw = server.pw;
  expect(pw.state).toBeDefined();
  key = (await createKey(pw.store.db, clock, { name: 't', scopes: ['ingest', 'read'] })).key;
});
afterAll(async () => {
  await server?.close();
});

async function track(body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${pw.httpUrl}/v1/track`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { seq: number }).seq;
}

async function cart(id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${pw.httpUrl}/v1/carts/${id}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const abandoned = async () =>
  (await pw.log.query({ type: 'cart.abandoned', order: 'asc', limit: 10 })).map((e) => e.event.data as { cart_id: string });

describe('decide, wired into the server', () => {
  it('folds a cart, fires cart.abandoned after the idle window, and records recovery on the order', async () => {
    const now = () => new Date(clock.now()).toISOString();
    const seq = await track({
      userId: 'u-7',
      event: 'Product Added',
      messageId: 'm1',
      timestamp: now(),
      properties: { cart_id: 'c-7', sku: 'BRK-PAD-1', price: 40, quantity: 2 },
    });
    await pw.state?.caughtUp(seq);
    expect(await cart('c-7')).toMatchObject({ cart_id: 'c-7', customer: 'u-7', status: 'active', value: 80, abandoned_at: null });

    clock.advance(29 * 60_000);
    await pw.timerRunner?.tick();
    expect(await abandoned()).toEqual([]);

    clock.advance(2 * 60_000);
    await pw.timerRunner?.tick();
    expect((await abandoned()).map((d) => d.cart_id)).toEqual(['c-7']);
    expect(await cart('c-7')).toMatchObject({ status: 'abandoned', abandoned_at: '2026-06-01T09:30:00.000Z' });

    const order = await track({
      userId: 'u-7',
      event: 'Order Completed',
      messageId: 'm2',
      timestamp: now(),
      properties: { cart_id: 'c-7', order_id: 'o-7', total: 80 },
    });
    await pw.state?.caughtUp(order);
    const recovered = await pw.log.query({ type: 'cart.recovered', order: 'asc', limit: 10 });
    expect(recovered.map((e) => (e.event.data as { order_id: string }).order_id)).toEqual(['o-7']);
    expect(await cart('c-7')).toMatchObject({ status: 'recovered', order_id: 'o-7' });
  });

  it('answers 404 problem+json for an unknown cart', async () => {
    const res = await fetch(`${pw.httpUrl}/v1/carts/nope`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('PW_CART_NOT_FOUND');
  });

  it('runs no Decide stage with PITWALL_DECIDE=off (an ingest-only process)', async () => {
    const other = await startTestServer({ name: 'ingest-only', env: { PITWALL_DECIDE: 'off' } });
    try {
      expect(other.pw.state).toBeUndefined();
      expect(other.pw.timerRunner).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
