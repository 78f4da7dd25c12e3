/**
 * Decide module: customers and the identity graph (anonymous id ↔ user id ↔ email hash ↔
 * vehicle ↔ device ↔ part serial ↔ order, consent per purpose). One projection, no detector.
 * See docs/decide/identity.md.
 */
import type { DecideContext, DecideModule } from '../../detect/index.ts';
import { createIdentityProjection } from './projection.ts';
import { parseIdentitySettings } from './settings.ts';

export { CONSENT_UPDATED, extractFacts, type Facts, isIdentityEvent } from './facts.ts';
export { emailHash, type Identifier, LINK_KINDS, type LinkKind, normaliseVin, parseIdentifier } from './identifiers.ts';
export {
  type ConsentState,
  type Customer,
  type CustomerDevice,
  type CustomerOrder,
  type CustomerPart,
  type CustomerVehicle,
  getCustomer,
  hasConsent,
  vehiclesOf,
} from './profile.ts';
export { createIdentityProjection, IDENTITY_TABLES } from './projection.ts';
export { type CustomerSummary, customerOfDevice, customerOfVin, listCustomers, resolveCustomerId } from './resolve.ts';
export { DEFAULT_IDENTITY_SETTINGS, type IdentitySettings, parseIdentitySettings } from './settings.ts';

/** `settings` is the config file's `detectors.identity` section (undefined when absent). */
export function createIdentityModule(_ctx: DecideContext, settings: unknown): DecideModule {
  return { name: 'identity', projections: [createIdentityProjection(parseIdentitySettings(settings))], detectors: [] };
}
