/** Test helper: folds identity events (identify, consent) straight into the identity projection. */
import { isoTime } from '../../src/core/index.ts';
import type { CloudEvent } from '../../src/events/index.ts';
import { createIdentityProjection, parseIdentitySettings } from '../../src/state/identity/index.ts';
import { applyProjections } from '../../src/state/index.ts';
import type { Store } from '../../src/store/index.ts';

let n = 0;

export function identityFolder(store: Store) {
  const projection = createIdentityProjection(parseIdentitySettings(undefined));
  const fold = (events: CloudEvent[]) =>
    applyProjections(
      store,
      [projection],
      events.map((event) => ({ seq: ++n, event, receivedAt: Date.parse(event.time), history: false })),
    );
  const ev = (type: string, atMs: number, ids: { user?: string; anon?: string }, data: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0',
    id: `ev-${++n}`,
    source: 'shop',
    type,
    time: isoTime(atMs),
    ...(ids.user !== undefined ? { userid: ids.user } : {}),
    ...(ids.anon !== undefined ? { anonymousid: ids.anon } : {}),
    data,
  });
  return {
    /** `customer.identified` with traits; both ids merge the anonymous shopper into the user. */
    identify: (atMs: number, ids: { user?: string; anon?: string }, traits: Record<string, unknown> = {}) =>
      fold([ev('customer.identified', atMs, ids, { traits })]),
    /** An anonymous page view: the id exists in the graph. */
    seen: (atMs: number, anon: string) =>
      fold([ev('commerce.product_viewed', atMs, { anon }, { event: 'Product Viewed', properties: {} })]),
    consent: (atMs: number, ids: { user?: string; anon?: string }, purposes: Record<string, boolean>) =>
      fold([ev('customer.consent_updated', atMs, ids, { purposes })]),
  };
}
