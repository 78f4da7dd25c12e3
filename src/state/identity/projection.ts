/**
 * The identity projection: customers and the identity graph, folded from
 * `customer.identified`, `customer.aliased`, `customer.consent_updated`, `device.registered`,
 * `commerce.order_completed` and every other event naming a `userid` or `anonymousid`.
 *
 * Rules (details in facts.ts, graph.ts and latest.ts; docs/decide/identity.md):
 * - **Event time, not arrival**: first/last seen are min/max event times; a trait, a consent
 *   purpose and a link's detail are the latest by event time (ties: event id, then value).
 * - **Order independence**: every write is a join (min, max, union, latest-by-event-time), so
 *   any permutation of the same events, in any batches, gives the same rows, and the canonical
 *   customer id (user id first seen, else anonymous id first seen) does not depend on arrival.
 * - **Idempotent by position** follows: re-applying a batch (a crash before the ack) or a
 *   duplicate event changes nothing, so no `updated_seq` guard is needed.
 * - History-mode events build identity like any other (this module has no detector).
 * - Only this projection writes these tables, inside the `state` group's batch transaction.
 */
import type { Projection, TableName } from '../../detect/index.ts';
import { extractFacts, isIdentityEvent } from './facts.ts';
import { foldIds } from './graph.ts';
import { foldConsent, foldLinks, foldTraits } from './latest.ts';
import type { IdentitySettings } from './settings.ts';

export const IDENTITY_TABLES: readonly TableName[] = ['identity_ids', 'identity_links', 'identity_traits', 'identity_consent'];

export function createIdentityProjection(settings: IdentitySettings): Projection {
  return {
    name: 'identity',
    tables: IDENTITY_TABLES,
    handles: isIdentityEvent,
    async apply(db, events, dialect) {
      const facts = events.map((le) => extractFacts(le.event, settings));
      const lock = dialect === 'postgres';
      await foldIds(db, facts, lock);
      await foldLinks(db, facts, lock);
      await foldTraits(db, facts, lock);
      await foldConsent(db, facts, lock);
    },
  };
}
