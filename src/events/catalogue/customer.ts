import { Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';
import { SegmentContext } from './commerce.ts';

/**
 * Segment identify / alias / page calls. `data` mirrors the Segment message minus the
 * envelope; `userId` / `anonymousId` travel as the `userid` / `anonymousid` extension
 * attributes, not in `data`.
 */

const Text = Type.String();

/** Segment reserved identify traits that Pitwall reads; any other trait is allowed. */
const Traits = Type.Object({
  email: Type.Optional(Text),
  name: Type.Optional(Text),
  firstName: Type.Optional(Text),
  lastName: Type.Optional(Text),
  phone: Type.Optional(Text),
  username: Type.Optional(Text),
  address: Type.Optional(Type.Object({})),
});

export const CUSTOMER_TYPES: EventTypeDefinition[] = [
  {
    type: 'customer.identified',
    version: 1,
    description: 'A customer was identified and/or their traits changed (Segment identify).',
    standard: 'Segment Spec v2 (Identify)',
    data: Type.Object({
      traits: Type.Optional(Traits),
      context: Type.Optional(SegmentContext),
    }),
    example: {
      traits: {
        email: 'mara.keller@example.com',
        firstName: 'Mara',
        lastName: 'Keller',
        garage_vin: 'WVWZZZAUZHW123456',
        preferred_warehouse: 'DE-HAM-1',
      },
      context: { consent: { categoryPreferences: { Analytics: true, Advertising: false, Functional: true } } },
    },
  },
  {
    type: 'customer.aliased',
    version: 1,
    description: 'Two customer identities were merged: previousId is now the userid on the envelope (Segment alias).',
    standard: 'Segment Spec v2 (Alias)',
    data: Type.Object({
      previousId: Type.String({ minLength: 1 }),
      context: Type.Optional(SegmentContext),
    }),
    example: { previousId: 'anon_5c1e9a0b-77d2-4c1b-9e5e-3f0f8f6c2d11' },
  },
  {
    type: 'customer.consent_updated',
    version: 1,
    description: 'A customer granted or withdrew consent per purpose (banner, preference centre, support).',
    data: Type.Object({
      purposes: Type.Record(Type.String({ minLength: 1 }), Type.Boolean(), { minProperties: 1 }),
      method: Type.Optional(Type.String()),
      context: Type.Optional(SegmentContext),
    }),
    example: { purposes: { advertising: false, analytics: true }, method: 'preference_center' },
  },
  {
    type: 'storefront.page_viewed',
    version: 1,
    description: 'A shopper viewed a storefront page (Segment page).',
    standard: 'Segment Spec v2 (Page)',
    data: Type.Object({
      name: Type.Optional(Text),
      category: Type.Optional(Text),
      properties: Type.Optional(
        Type.Object({
          url: Type.Optional(Text),
          path: Type.Optional(Text),
          referrer: Type.Optional(Text),
          title: Type.Optional(Text),
          search: Type.Optional(Text),
        }),
      ),
      context: Type.Optional(SegmentContext),
    }),
    example: {
      name: 'Vehicle parts finder',
      category: 'Catalogue',
      properties: {
        url: 'https://parts.example.com/vehicle/WVWZZZAUZHW123456/brakes?axle=front',
        path: '/vehicle/WVWZZZAUZHW123456/brakes',
        referrer: 'https://www.google.com/',
        title: 'Brakes for your Golf VII | Parts Example',
        search: '?axle=front',
      },
      context: { locale: 'de-DE', consent: { categoryPreferences: { Analytics: true } } },
    },
  },
];
