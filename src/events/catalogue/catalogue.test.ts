import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { EventTypeDefinition } from '../catalogue-types.ts';
import { EVENT_TYPE_PATTERN, snakeCase } from '../envelope.ts';
import { BUILT_IN_TYPES, GENERIC_TRACK } from './index.ts';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);

const byType = new Map<string, EventTypeDefinition>(BUILT_IN_TYPES.map((d) => [d.type, d]));
const compiled = new Map<string, ValidateFunction>();

function validator(type: string): ValidateFunction {
  const cached = compiled.get(type);
  if (cached) return cached;
  const def = byType.get(type);
  if (!def) throw new Error(`no built-in type ${type}`);
  const fn = ajv.compile(def.data);
  compiled.set(type, fn);
  return fn;
}

function errorsFor(type: string, data: unknown): ErrorObject[] {
  const fn = validator(type);
  return fn(data) ? [] : (fn.errors ?? []);
}

/** Deep copy of a type's example, to mutate into a bad payload. */
function exampleOf(type: string): Record<string, unknown> {
  const def = byType.get(type);
  if (!def) throw new Error(`no built-in type ${type}`);
  return structuredClone(def.example) as Record<string, unknown>;
}

function expectRejected(type: string, data: unknown, instancePath: string, keyword: string, extra?: Record<string, unknown>) {
  const errors = errorsFor(type, data);
  expect(errors.length, `${type} should reject ${JSON.stringify(data)}`).toBeGreaterThan(0);
  expect(errors).toContainEqual(expect.objectContaining({ instancePath, keyword, ...(extra ?? {}) }));
}

const SEGMENT_TRACK_NAMES = [
  'Product Viewed',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Checkout Step Completed',
  'Payment Info Entered',
  'Order Completed',
  'Order Refunded',
  'Coupon Applied',
];

const DERIVED = [
  'plan.recommendation_applied',
  'stock.replenished',
  'part.service_cleared',
  'condition.acknowledged',
  'condition.cleared',
  'cart.abandoned',
  'cart.recovered',
  'shipment.delayed',
  'shipment.condition_breach',
  'device.silent',
  'device.back',
  'sensor.sustained',
  'sensor.cleared',
  'part.service_due',
  'stock.low',
  'quality.degraded',
  'quality.recovered',
  'reminder.due',
];

describe('built-in event-type catalogue', () => {
  it('has the expected set of types', () => {
    const expected = [
      ...SEGMENT_TRACK_NAMES.map((n) => `commerce.${snakeCase(n)}`),
      'commerce.track',
      'customer.identified',
      'customer.aliased',
      'customer.consent_updated',
      'storefront.page_viewed',
      'sensor.reading',
      'shipment.created',
      'shipment.position',
      'shipment.status',
      'shipment.condition',
      'shipment.delivered',
      'device.registered',
      'vehicle.signal',
      'survey.response',
      ...DERIVED,
    ];
    expect([...byType.keys()].sort()).toEqual([...expected].sort());
  });

  it('has unique type names', () => {
    const names = BUILT_IN_TYPES.map((d) => d.type);
    expect(new Set(names).size).toBe(names.length);
  });

  it('includes GENERIC_TRACK as commerce.track', () => {
    expect(GENERIC_TRACK.type).toBe('commerce.track');
    expect(byType.get('commerce.track')).toBe(GENERIC_TRACK);
  });

  it('marks exactly the detector outputs as derived', () => {
    const derived = BUILT_IN_TYPES.filter((d) => d.derived === true).map((d) => d.type);
    expect(derived.sort()).toEqual([...DERIVED].sort());
  });

  it('is documented in docs/events.md', () => {
    const doc = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
    const missing = BUILT_IN_TYPES.filter((d) => !doc.includes(`#### \`${d.type}\` (v${d.version})`)).map((d) => d.type);
    expect(missing).toEqual([]);
  });

  it.each(BUILT_IN_TYPES.map((d) => [d.type, d] as const))('%s: well-formed definition', (type, def) => {
    expect(type).toMatch(EVENT_TYPE_PATTERN);
    expect(def.version).toBe(1);
    expect(def.description.length).toBeGreaterThan(10);
    expect(def.description).not.toMatch(/\n/);
    if (def.standard !== undefined) expect(def.standard.length).toBeGreaterThan(0);
    expect(() => ajv.compile(def.data)).not.toThrow();
  });

  it.each(BUILT_IN_TYPES.map((d) => [d.type, d] as const))('%s: example validates', (type, def) => {
    expect(errorsFor(type, def.example)).toEqual([]);
  });

  it.each(BUILT_IN_TYPES.map((d) => [d.type] as const))('%s: allows extra fields', (type) => {
    const data = { ...exampleOf(type), x_sender_field: { anything: [1, 'two'] } };
    expect(errorsFor(type, data)).toEqual([]);
  });

  it.each(BUILT_IN_TYPES.map((d) => [d.type] as const))('%s: rejects a non-object', (type) => {
    expectRejected(type, ['not', 'an', 'object'], '', 'type');
  });
});

describe('Segment-derived types', () => {
  it('maps every Segment ecommerce event name to a catalogue type by snake-casing', () => {
    for (const name of SEGMENT_TRACK_NAMES) {
      const type = `commerce.${snakeCase(name)}`;
      expect(byType.has(type), type).toBe(true);
      expect(exampleOf(type).event).toBe(name);
    }
  });

  it.each(SEGMENT_TRACK_NAMES.map((n) => [`commerce.${snakeCase(n)}`] as const))('%s: requires event', (type) => {
    const data = exampleOf(type);
    delete data.event;
    expectRejected(type, data, '', 'required', { params: { missingProperty: 'event' } });
  });

  it('rejects a string price on commerce.product_added', () => {
    const data = exampleOf('commerce.product_added');
    (data.properties as Record<string, unknown>).price = '64.90';
    expectRejected('commerce.product_added', data, '/properties/price', 'type');
  });

  it('rejects a negative quantity inside cart products', () => {
    const data = exampleOf('commerce.cart_viewed');
    const products = (data.properties as { products: Record<string, unknown>[] }).products;
    (products[1] as Record<string, unknown>).quantity = -1;
    expectRejected('commerce.cart_viewed', data, '/properties/products/1/quantity', 'minimum');
  });

  it('rejects a non-ISO currency on commerce.checkout_started', () => {
    const data = exampleOf('commerce.checkout_started');
    (data.properties as Record<string, unknown>).currency = 'euro';
    expectRejected('commerce.checkout_started', data, '/properties/currency', 'pattern');
  });

  it('rejects a fractional checkout step', () => {
    const data = exampleOf('commerce.checkout_step_completed');
    (data.properties as Record<string, unknown>).step = 2.5;
    expectRejected('commerce.checkout_step_completed', data, '/properties/step', 'type');
  });

  it('requires properties.order_id on commerce.order_completed and commerce.order_refunded', () => {
    for (const type of ['commerce.order_completed', 'commerce.order_refunded']) {
      const data = exampleOf(type);
      delete (data.properties as Record<string, unknown>).order_id;
      expectRejected(type, data, '/properties', 'required', { params: { missingProperty: 'order_id' } });
      const noProps = exampleOf(type);
      delete noProps.properties;
      expectRejected(type, noProps, '', 'required', { params: { missingProperty: 'properties' } });
    }
  });

  it('accepts product events without properties', () => {
    expect(errorsFor('commerce.product_viewed', { event: 'Product Viewed' })).toEqual([]);
  });

  it('rejects properties that are not an object', () => {
    expectRejected('commerce.coupon_applied', { event: 'Coupon Applied', properties: 'WINTER10' }, '/properties', 'type');
  });

  it('accepts context.consent and type-checks categoryPreferences', () => {
    const data = exampleOf('commerce.order_completed');
    expect(errorsFor('commerce.order_completed', data)).toEqual([]);
    (data.context as { consent: { categoryPreferences: Record<string, unknown> } }).consent.categoryPreferences.Advertising = 'no';
    expectRejected('commerce.order_completed', data, '/context/consent/categoryPreferences/Advertising', 'type');
  });

  it('requires previousId on customer.aliased', () => {
    expectRejected('customer.aliased', { context: {} }, '', 'required', { params: { missingProperty: 'previousId' } });
    expectRejected('customer.aliased', { previousId: 42 }, '/previousId', 'type');
  });

  it('rejects non-object traits on customer.identified', () => {
    expect(errorsFor('customer.identified', {})).toEqual([]);
    expectRejected('customer.identified', { traits: 'mara@example.com' }, '/traits', 'type');
    expectRejected('customer.identified', { traits: { email: ['a', 'b'] } }, '/traits/email', 'type');
  });

  it('type-checks storefront.page_viewed properties', () => {
    const data = exampleOf('storefront.page_viewed');
    (data.properties as Record<string, unknown>).url = { href: 'x' };
    expectRejected('storefront.page_viewed', data, '/properties/url', 'type');
  });

  it('GENERIC_TRACK accepts any properties but requires event', () => {
    const generic = 'commerce.track';
    expect(errorsFor(generic, { event: 'Wishlist Product Added', properties: { wishlist_id: 7, sku: 'X' } })).toEqual([]);
    expectRejected(generic, { properties: {} }, '', 'required', { params: { missingProperty: 'event' } });
    expectRejected(generic, { event: '' }, '/event', 'minLength');
  });
});

describe('sensor.reading (SenML)', () => {
  const T = 'sensor.reading';

  it.each(['v', 'vs', 'vb', 'vd', 's'] as const)('accepts a record whose only value is %s', (key) => {
    const values = { v: 12.6, vs: 'ok', vb: true, vd: 'aGVsbG8', s: 1042.5 };
    const data = { n: 'urn:dev:ow:10e2073a01080063:voltage', t: 1767258000, [key]: values[key] };
    expect(errorsFor(T, data)).toEqual([]);
  });

  it('rejects a record with no value', () => {
    expectRejected(T, { n: 'urn:dev:ow:10e2073a01080063:voltage', u: 'V', t: 1767258000 }, '', 'anyOf');
  });

  it('requires n and t', () => {
    expectRejected(T, { v: 1, t: 1767258000 }, '', 'required', { params: { missingProperty: 'n' } });
    expectRejected(T, { n: 'dev1:temp', v: 1 }, '', 'required', { params: { missingProperty: 't' } });
  });

  it('rejects names outside the SenML charset', () => {
    expectRejected(T, { ...exampleOf(T), n: 'cold room temp' }, '/n', 'pattern');
    expectRejected(T, { ...exampleOf(T), n: '-leading-dash' }, '/n', 'pattern');
  });

  it('rejects unresolved (relative) times and wrong value types', () => {
    expectRejected(T, { ...exampleOf(T), t: -60 }, '/t', 'minimum');
    expectRejected(T, { ...exampleOf(T), v: '4.2' }, '/v', 'type');
    expectRejected(T, { ...exampleOf(T), vb: 'true' }, '/vb', 'type');
  });
});

describe('shipment types', () => {
  it('requires the booking fields on shipment.created', () => {
    for (const field of ['shipment_id', 'carrier', 'origin', 'destination', 'promised_at']) {
      const data = exampleOf('shipment.created');
      delete data[field];
      expectRejected('shipment.created', data, '', 'required', { params: { missingProperty: field } });
    }
  });

  it('rejects a non date-time promised_at and a bad line', () => {
    expectRejected('shipment.created', { ...exampleOf('shipment.created'), promised_at: 'Friday' }, '/promised_at', 'format');
    const data = exampleOf('shipment.created');
    (data.lines as Record<string, unknown>[])[0] = { sku: 'BRK-PAD-F-4471', quantity: '2' };
    expectRejected('shipment.created', data, '/lines/0/quantity', 'type');
  });

  it('bounds latitude and longitude', () => {
    expectRejected('shipment.position', { ...exampleOf('shipment.position'), lat: 91 }, '/lat', 'maximum');
    expectRejected('shipment.position', { ...exampleOf('shipment.position'), lon: -180.5 }, '/lon', 'minimum');
  });

  it('restricts shipment.status to its vocabulary', () => {
    expectRejected('shipment.status', { ...exampleOf('shipment.status'), status: 'lost' }, '/status', 'enum');
    expect(
      errorsFor('shipment.status', {
        shipment_id: 's1',
        status: 'in_transit',
        biz_step: 'urn:epcglobal:cbv:bizstep:departing',
        disposition: 'https://ref.gs1.org/cbv/Disp-in_transit',
      }),
    ).toEqual([]);
    expectRejected('shipment.status', { ...exampleOf('shipment.status'), biz_step: 'Left The Hub' }, '/biz_step', 'pattern');
  });

  it('restricts shipment.condition kind and value', () => {
    expectRejected('shipment.condition', { ...exampleOf('shipment.condition'), kind: 'vibration' }, '/kind', 'enum');
    expectRejected('shipment.condition', { ...exampleOf('shipment.condition'), value: 'high' }, '/value', 'type');
  });
});

describe('vehicle and device types', () => {
  it('requires a COVESA VSS path on vehicle.signal', () => {
    expectRejected('vehicle.signal', { signal: 'Powertrain.TractionBattery.StateOfHealth', value: 80 }, '/signal', 'pattern');
    expectRejected('vehicle.signal', { signal: 'Vehicle', value: 80 }, '/signal', 'pattern');
    expect(errorsFor('vehicle.signal', { signal: 'Vehicle.Speed', value: 88.5 })).toEqual([]);
    expect(errorsFor('vehicle.signal', { signal: 'Vehicle.Body.Lights.IsBrakeOn', value: false })).toEqual([]);
  });

  it('rejects object values and missing value on vehicle.signal', () => {
    expectRejected('vehicle.signal', { signal: 'Vehicle.Speed', value: { kmh: 88 } }, '/value', 'anyOf');
    expectRejected('vehicle.signal', { signal: 'Vehicle.Speed' }, '', 'required', { params: { missingProperty: 'value' } });
  });

  it('validates VINs on device.registered', () => {
    expectRejected('device.registered', { device_id: 'd1', vin: 'WVWZZZAUZHW12345' }, '/vin', 'pattern');
    expectRejected('device.registered', { device_id: 'd1', vin: 'WVWZZZAUZHW12345O' }, '/vin', 'pattern');
    expectRejected('device.registered', { vin: 'WVWZZZAUZHW123456' }, '', 'required', {
      params: { missingProperty: 'device_id' },
    });
  });
});

describe('survey.response', () => {
  it('requires answers with a question_id and a scalar or string-array value', () => {
    const T = 'survey.response';
    expectRejected(T, { survey_id: 'srv1' }, '', 'required', { params: { missingProperty: 'answers' } });
    expectRejected(T, { survey_id: 'srv1', answers: [] }, '/answers', 'minItems');
    expectRejected(T, { survey_id: 'srv1', answers: [{ value: 9 }] }, '/answers/0', 'required', {
      params: { missingProperty: 'question_id' },
    });
    expectRejected(T, { survey_id: 'srv1', answers: [{ question_id: 'q', value: [1, 2] }] }, '/answers/0/value', 'anyOf');
  });
});

describe('derived types', () => {
  it('require their key ids', () => {
    expectRejected('cart.recovered', { cart_id: 'c1' }, '', 'required', { params: { missingProperty: 'order_id' } });
    expectRejected('stock.low', { sku: 'BRK-PAD-F-4471' }, '', 'required', { params: { missingProperty: 'warehouse' } });
    expectRejected('part.service_due', { part: 'BAT-AGM-70AH' }, '', 'required', { params: { missingProperty: 'reason' } });
  });

  it('type-check known fields', () => {
    expectRejected('sensor.sustained', { ...exampleOf('sensor.sustained'), direction: 'sideways' }, '/direction', 'enum');
    expectRejected('quality.degraded', { source: 's', score: 0.5, reasons: 'late' }, '/reasons', 'type');
    expectRejected('shipment.delayed', { shipment_id: 's1', predicted_p90: 'soon' }, '/predicted_p90', 'format');
  });

  it.each(DERIVED.map((t) => [t] as const))('%s: caused_by must be an array of ids', (type) => {
    expect(errorsFor(type, { ...exampleOf(type), caused_by: ['evt_1', 'evt_2'] })).toEqual([]);
    expectRejected(type, { ...exampleOf(type), caused_by: [42] }, '/caused_by/0', 'type');
    expectRejected(type, { ...exampleOf(type), caused_by: 'evt_1' }, '/caused_by', 'type');
  });
});
