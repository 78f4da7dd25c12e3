/** What a browser may learn: offer codes only for its own customer or cart, whys without internals, stock bands. */
import { expect, it } from 'vitest';
import type { Directive } from '../act/index.ts';
import { browserWhy, codeVisible, SERVER_VIEWER, stockBand, type Viewer } from './viewer.ts';

const dv = (scope: Partial<Directive>): Directive => ({
  key: 'd-1',
  type: 'checkout.offer',
  customerId: undefined,
  cartId: undefined,
  sku: undefined,
  region: undefined,
  payload: { discount: { percent: 10, code: 'X' } },
  expiresAtMs: 1,
  createdAtMs: 0,
  consumedAtMs: undefined,
  ...scope,
});
const browser: Viewer = { kind: 'browser', identity: { status: 'verified', userId: 'u-1' }, anonymousId: 'a-1' };

it("shows a browser an offer's code only when the offer is addressed to its principal or the cart it owns", () => {
  expect(codeVisible(browser, dv({ customerId: 'u-1' }), 'u-1', undefined)).toBe(true);
  expect(codeVisible(browser, dv({ cartId: 'c-1' }), 'u-1', 'c-1')).toBe(true);
  expect(codeVisible(browser, dv({ customerId: 'u-2' }), 'u-1', 'c-1')).toBe(false);
  expect(codeVisible(browser, dv({ cartId: 'c-2' }), 'u-1', 'c-1')).toBe(false);
  expect(codeVisible(browser, dv({ cartId: 'c-1' }), 'u-1', undefined)).toBe(false); // a cart it does not own
  expect(codeVisible(browser, dv({ region: 'DE' }), 'u-1', 'c-1')).toBe(false); // a broadcast offer
  expect(codeVisible(browser, dv({ customerId: 'u-1' }), undefined, undefined)).toBe(false); // nobody
  expect(codeVisible(SERVER_VIEWER, dv({ region: 'DE' }), undefined, undefined)).toBe(true);
});

it('gives a browser the workflow and the signal of a why, not the run, the directive or the audience expression', () => {
  expect(
    browserWhy({ workflow: 'w', run: 'r-1', signal: 'shipment.delayed', signals: ['a', 'shipment.delayed'], directive: 'd-1' }),
  ).toEqual({ workflow: 'w', run: null, signal: 'shipment.delayed' });
  expect(
    browserWhy({ workflow: null, run: null, signal: null, rule: "survey s: automatic page placement, audience store == 'outlet'" }),
  ).toEqual({ workflow: null, run: null, signal: null, rule: 'survey s: automatic page placement' });
});

it('bands stock: out at 0 or less, low at the threshold or under, else in stock', () => {
  expect([-1, 0, 1, 5, 6].map((n) => stockBand(n, 5))).toEqual(['out', 'out', 'low', 'low', 'in_stock']);
});
