import { type TSchema, Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';

/**
 * Segment-derived ecommerce events (Segment Spec v2, "Ecommerce Events"). `data` mirrors the
 * Segment track message minus the envelope: `{ event, properties, context }`. `event` keeps
 * the original Segment name (`Product Added`); the type is `commerce.` + snakeCase(event).
 */

const SEGMENT_ECOMMERCE = 'Segment Spec v2 (Ecommerce Events)';

const Text = Type.String();
const NonEmpty = Type.String({ minLength: 1 });
const Money = Type.Number();
const Quantity = Type.Number({ minimum: 0 });
/** ISO 4217 alphabetic code, upper case (`EUR`, `USD`). */
const Currency = Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 currency code, e.g. EUR (any case: SDKs send "usd" too)' });
const Step = Type.Integer({ minimum: 0 });

/** Segment `context.consent` (Consent Management): per-category opt-in. */
export const SegmentConsent = Type.Object({
  categoryPreferences: Type.Record(Type.String(), Type.Boolean()),
});

/**
 * Segment `context` object. Only the fields whose types Segment defines are typed; anything
 * else a sender adds is allowed.
 */
export const SegmentContext = Type.Object({
  consent: Type.Optional(SegmentConsent),
  ip: Type.Optional(Text),
  locale: Type.Optional(Text),
  timezone: Type.Optional(Text),
  userAgent: Type.Optional(Text),
  groupId: Type.Optional(Text),
  page: Type.Optional(Type.Object({})),
  campaign: Type.Optional(Type.Object({})),
  device: Type.Optional(Type.Object({})),
  library: Type.Optional(Type.Object({})),
  location: Type.Optional(Type.Object({})),
  network: Type.Optional(Type.Object({})),
  os: Type.Optional(Type.Object({})),
  screen: Type.Optional(Type.Object({})),
  traits: Type.Optional(Type.Object({})),
});

/** One product, as in Segment's product events and in `products[]`. */
const productFields = {
  product_id: Type.Optional(Text),
  sku: Type.Optional(Text),
  category: Type.Optional(Text),
  name: Type.Optional(Text),
  brand: Type.Optional(Text),
  variant: Type.Optional(Text),
  price: Type.Optional(Money),
  quantity: Type.Optional(Quantity),
  coupon: Type.Optional(Text),
  position: Type.Optional(Type.Number()),
  url: Type.Optional(Text),
  image_url: Type.Optional(Text),
};

export const SegmentProduct = Type.Object(productFields);
const Products = Type.Array(SegmentProduct);

/** Track-shaped `data`: `event` required; `properties` optional unless `propertiesRequired`. */
function trackData(properties: TSchema, propertiesRequired = false) {
  return Type.Object({
    event: NonEmpty,
    properties: propertiesRequired ? properties : Type.Optional(properties),
    context: Type.Optional(SegmentContext),
  });
}

const productEventProperties = Type.Object({
  ...productFields,
  cart_id: Type.Optional(Text),
  currency: Type.Optional(Currency),
  value: Type.Optional(Money),
});

/**
 * A product view may say which delivery promise the page showed: `promise_days`, days from the view
 * to the promised date (e.g. the P90 Pitwall's decision API answered). Learn keeps such views and
 * Plan fits how conversion falls with the promise (docs/plan.md). Any number is accepted here;
 * Learn uses 0–60.
 */
const productViewedProperties = Type.Object({
  ...productFields,
  cart_id: Type.Optional(Text),
  currency: Type.Optional(Currency),
  value: Type.Optional(Money),
  promise_days: Type.Optional(Type.Number()),
});

const brakePads = {
  product_id: 'bp-4471',
  sku: 'BRK-PAD-F-4471',
  category: 'Brakes/Pads',
  name: 'Ceramic front brake pads',
  brand: 'Brembo',
  variant: 'Front axle',
  price: 64.9,
  quantity: 1,
  position: 3,
  url: 'https://parts.example.com/p/brk-pad-f-4471',
  image_url: 'https://parts.example.com/img/brk-pad-f-4471.jpg',
};

const battery = {
  product_id: 'bat-70ah',
  sku: 'BAT-AGM-70AH',
  category: 'Electrical/Batteries',
  name: 'AGM start-stop battery 70 Ah',
  brand: 'Varta',
  price: 189,
  quantity: 1,
};

const storefrontContext = {
  ip: '203.0.113.24',
  locale: 'de-DE',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  page: { path: '/p/brk-pad-f-4471', url: 'https://parts.example.com/p/brk-pad-f-4471' },
  consent: { categoryPreferences: { Analytics: true, Advertising: false } },
};

export const COMMERCE_TYPES: EventTypeDefinition[] = [
  {
    type: 'commerce.product_viewed',
    version: 1,
    description:
      'A shopper viewed a product detail page (Segment "Product Viewed"); properties.promise_days may say the delivery promise shown.',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(productViewedProperties),
    example: {
      event: 'Product Viewed',
      properties: { ...brakePads, currency: 'EUR', value: 64.9, promise_days: 2.5 },
      context: storefrontContext,
    },
  },
  {
    type: 'commerce.product_added',
    version: 1,
    description: 'A shopper added a product to their cart (Segment "Product Added").',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(productEventProperties),
    example: {
      event: 'Product Added',
      properties: { ...brakePads, quantity: 2, cart_id: 'cart_8f2k1', currency: 'EUR' },
      context: storefrontContext,
    },
  },
  {
    type: 'commerce.product_removed',
    version: 1,
    description: 'A shopper removed a product from their cart (Segment "Product Removed").',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(productEventProperties),
    example: {
      event: 'Product Removed',
      properties: { ...battery, cart_id: 'cart_8f2k1' },
    },
  },
  {
    type: 'commerce.cart_viewed',
    version: 1,
    description: 'A shopper viewed their cart (Segment "Cart Viewed").',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(
      Type.Object({
        cart_id: Type.Optional(Text),
        products: Type.Optional(Products),
      }),
    ),
    example: {
      event: 'Cart Viewed',
      properties: { cart_id: 'cart_8f2k1', products: [{ ...brakePads, quantity: 2 }, battery] },
    },
  },
  {
    type: 'commerce.checkout_started',
    version: 1,
    description: 'A shopper started checkout (Segment "Checkout Started").',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(
      Type.Object({
        order_id: Type.Optional(Text),
        affiliation: Type.Optional(Text),
        value: Type.Optional(Money),
        revenue: Type.Optional(Money),
        shipping: Type.Optional(Money),
        tax: Type.Optional(Money),
        discount: Type.Optional(Money),
        coupon: Type.Optional(Text),
        currency: Type.Optional(Currency),
        products: Type.Optional(Products),
      }),
    ),
    example: {
      event: 'Checkout Started',
      properties: {
        order_id: 'ord_50314',
        affiliation: 'parts.example.com',
        value: 318.8,
        revenue: 318.8,
        shipping: 5.9,
        tax: 50.9,
        currency: 'EUR',
        products: [{ ...brakePads, quantity: 2 }, battery],
      },
      context: storefrontContext,
    },
  },
  {
    type: 'commerce.checkout_step_completed',
    version: 1,
    description: 'A shopper completed a checkout step (Segment "Checkout Step Completed").',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(
      Type.Object({
        checkout_id: Type.Optional(Text),
        step: Type.Optional(Step),
        shipping_method: Type.Optional(Text),
        payment_method: Type.Optional(Text),
      }),
    ),
    example: {
      event: 'Checkout Step Completed',
      properties: { checkout_id: 'chk_77a01', step: 2, shipping_method: 'DHL Express' },
    },
  },
  {
    type: 'commerce.payment_info_entered',
    version: 1,
    description: 'A shopper entered payment details (Segment "Payment Info Entered").',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(
      Type.Object({
        checkout_id: Type.Optional(Text),
        order_id: Type.Optional(Text),
        step: Type.Optional(Step),
        shipping_method: Type.Optional(Text),
        payment_method: Type.Optional(Text),
      }),
    ),
    example: {
      event: 'Payment Info Entered',
      properties: {
        checkout_id: 'chk_77a01',
        order_id: 'ord_50314',
        step: 3,
        shipping_method: 'DHL Express',
        payment_method: 'card',
      },
    },
  },
  {
    type: 'commerce.order_completed',
    version: 1,
    description: 'An order was placed and paid (Segment "Order Completed"); properties.order_id is required.',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(
      Type.Object({
        checkout_id: Type.Optional(Text),
        order_id: NonEmpty,
        affiliation: Type.Optional(Text),
        subtotal: Type.Optional(Money),
        total: Type.Optional(Money),
        revenue: Type.Optional(Money),
        shipping: Type.Optional(Money),
        tax: Type.Optional(Money),
        discount: Type.Optional(Money),
        coupon: Type.Optional(Text),
        currency: Type.Optional(Currency),
        products: Type.Optional(Products),
      }),
      true,
    ),
    example: {
      event: 'Order Completed',
      properties: {
        checkout_id: 'chk_77a01',
        order_id: 'ord_50314',
        affiliation: 'parts.example.com',
        subtotal: 318.8,
        total: 307.7,
        revenue: 256.8,
        shipping: 5.9,
        tax: 50.9,
        discount: 17,
        coupon: 'WINTER10',
        currency: 'EUR',
        products: [{ ...brakePads, quantity: 2 }, battery],
      },
      context: storefrontContext,
    },
  },
  {
    type: 'commerce.order_refunded',
    version: 1,
    description: 'An order was refunded, fully or in part (Segment "Order Refunded"); properties.order_id is required.',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(
      Type.Object({
        order_id: NonEmpty,
        total: Type.Optional(Money),
        currency: Type.Optional(Currency),
        products: Type.Optional(Products),
      }),
      true,
    ),
    example: {
      event: 'Order Refunded',
      properties: { order_id: 'ord_50314', total: 189, currency: 'EUR', products: [battery] },
    },
  },
  {
    type: 'commerce.coupon_applied',
    version: 1,
    description: 'A coupon was applied to a cart or order (Segment "Coupon Applied").',
    standard: SEGMENT_ECOMMERCE,
    data: trackData(
      Type.Object({
        order_id: Type.Optional(Text),
        cart_id: Type.Optional(Text),
        coupon_id: Type.Optional(Text),
        coupon_name: Type.Optional(Text),
        discount: Type.Optional(Money),
      }),
    ),
    example: {
      event: 'Coupon Applied',
      properties: { cart_id: 'cart_8f2k1', coupon_id: 'WINTER10', coupon_name: '10% off winter tyres and batteries', discount: 17 },
    },
  },
];

/**
 * Schema for any Segment track event whose `commerce.` + snakeCase(event) name is not in the
 * catalogue (e.g. `Products Searched` → `commerce.products_searched`): only `event` is required.
 */
export const GENERIC_TRACK: EventTypeDefinition = {
  type: 'commerce.track',
  version: 1,
  description: 'Any other Segment track event; the schema used for commerce.* names not in the catalogue.',
  standard: 'Segment Spec v2 (Track)',
  data: Type.Object({
    event: NonEmpty,
    properties: Type.Optional(Type.Object({})),
    context: Type.Optional(SegmentContext),
  }),
  example: {
    event: 'Products Searched',
    properties: { query: 'brake pads golf 7', vehicle_vin: 'WVWZZZAUZHW123456' },
    context: storefrontContext,
  },
};
