import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError, deterministicId } from '../../core/index.ts';
import { canonicalJson, SHIPMENT_EVENTS, shipmentToEvents } from './shipment.ts';

const NOW_MS = Date.parse('2026-01-05T09:00:00Z');
const shipmentId = 'shp_20260114_0042';
const source = `mqtt://pitwall/shipments/${shipmentId}`;
const opts = { nowMs: NOW_MS, source, shipmentId };

function shipmentError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    const err = e as AppError;
    expect(err.code).toBe('PW_SHIPMENT_INVALID');
    expect(err.status).toBe(400);
    return err;
  }
  throw new Error('expected shipmentToEvents to throw');
}

const pointerOf = (payload: unknown) => shipmentError(() => shipmentToEvents(payload, opts)).pointer;

describe('shipmentToEvents', () => {
  it('makes a shipment.<event> CloudEvent with the topic’s shipment id in data and subject', () => {
    const events = shipmentToEvents({ event: 'position', time: '2026-01-15T07:42:10Z', lat: 51.3127, lon: 9.4797, speed_kmh: 84 }, opts);
    expect(events).toEqual([
      {
        specversion: '1.0',
        id: deterministicId(shipmentId, 'position', '2026-01-15T07:42:10.000Z', '{"lat":51.3127,"lon":9.4797,"speed_kmh":84}'),
        source,
        type: 'shipment.position',
        time: '2026-01-15T07:42:10.000Z',
        subject: shipmentId,
        datacontenttype: 'application/json',
        data: { shipment_id: shipmentId, lat: 51.3127, lon: 9.4797, speed_kmh: 84 },
      },
    ]);
  });

  it('handles every event kind', () => {
    const payload = SHIPMENT_EVENTS.map((event) => ({ event, time: '2026-01-15T07:42:10Z' }));
    expect(shipmentToEvents(payload, opts).map((e) => e.type)).toEqual([
      'shipment.created',
      'shipment.position',
      'shipment.status',
      'shipment.condition',
      'shipment.delivered',
    ]);
  });

  it('uses the payload id when given, and keeps id and time out of data', () => {
    const [event] = shipmentToEvents(
      { event: 'status', id: 'carrier-evt-991', time: '2026-01-15T07:42:10Z', status: 'at_hub', location: 'DHL Hub Kassel' },
      opts,
    );
    expect(event?.id).toBe('carrier-evt-991');
    expect(event?.data).toEqual({ shipment_id: shipmentId, status: 'at_hub', location: 'DHL Hub Kassel' });
  });

  it('normalises time to UTC and uses now when there is none', () => {
    expect(shipmentToEvents({ event: 'delivered', time: '2026-01-16T17:02:00+01:00' }, opts)[0]?.time).toBe('2026-01-16T16:02:00.000Z');
    expect(shipmentToEvents({ event: 'delivered' }, opts)[0]?.time).toBe('2026-01-05T09:00:00.000Z');
  });

  it('accepts a payload shipment_id that matches the topic, with the same id as without it', () => {
    const base = { event: 'condition', time: '2026-01-15T07:42:10Z', kind: 'shock', value: 9.3, unit: 'g' };
    const [withId] = shipmentToEvents({ ...base, shipment_id: shipmentId }, opts);
    const [without] = shipmentToEvents(base, opts);
    expect(withId).toEqual(without);
    expect(withId?.data).toEqual({ shipment_id: shipmentId, kind: 'shock', value: 9.3, unit: 'g' });
  });

  it('accepts an array of messages', () => {
    const events = shipmentToEvents(
      [
        { event: 'created', time: '2026-01-14T10:00:00Z', carrier: 'dhl', origin: 'DE-HAM-1', destination: 'DE-BY' },
        { event: 'status', time: '2026-01-14T12:00:00Z', status: 'picked_up' },
      ],
      opts,
    );
    expect(events.map((e) => [e.type, e.time])).toEqual([
      ['shipment.created', '2026-01-14T10:00:00.000Z'],
      ['shipment.status', '2026-01-14T12:00:00.000Z'],
    ]);
  });

  it('marks backfills with pitwallhistory', () => {
    expect(shipmentToEvents({ event: 'delivered' }, { ...opts, history: true })[0]?.pitwallhistory).toBe(true);
    expect(shipmentToEvents({ event: 'delivered' }, opts)[0]).not.toHaveProperty('pitwallhistory');
  });

  it('deterministic ids: key order does not matter, content and time do', () => {
    const time = '2026-01-15T07:42:10Z';
    const id = (payload: Record<string, unknown>) => shipmentToEvents({ event: 'created', time, ...payload }, opts)[0]?.id;
    const a = id({ carrier: 'dhl', lines: [{ sku: 'A', quantity: 2 }], meta: { b: 1, a: { d: 1, c: 2 } } });
    const b = id({ meta: { a: { c: 2, d: 1 }, b: 1 }, lines: [{ quantity: 2, sku: 'A' }], carrier: 'dhl' });
    expect(a).toBe(b);
    expect(id({ carrier: 'ups', lines: [{ sku: 'A', quantity: 2 }], meta: { b: 1, a: { d: 1, c: 2 } } })).not.toBe(a);
    expect(shipmentToEvents({ event: 'created', time: '2026-01-15T07:42:11Z', carrier: 'dhl' }, opts)[0]?.id).not.toBe(
      shipmentToEvents({ event: 'created', time, carrier: 'dhl' }, opts)[0]?.id,
    );
    // the same instant written with another offset is the same event
    expect(shipmentToEvents({ event: 'created', time: '2026-01-15T08:42:10+01:00', carrier: 'dhl' }, opts)[0]?.id).toBe(
      shipmentToEvents({ event: 'created', time, carrier: 'dhl' }, opts)[0]?.id,
    );
    // another shipment or event kind is another event
    expect(shipmentToEvents({ event: 'created', time, carrier: 'dhl' }, { ...opts, shipmentId: 'shp_other' })[0]?.id).not.toBe(
      shipmentToEvents({ event: 'created', time, carrier: 'dhl' }, opts)[0]?.id,
    );
    expect(shipmentToEvents({ event: 'delivered', time }, opts)[0]?.id).not.toBe(shipmentToEvents({ event: 'created', time }, opts)[0]?.id);
  });

  it('a "__proto__" member stays plain data', () => {
    const payload = JSON.parse('{"event":"status","status":"at_hub","__proto__":{"polluted":true}}');
    const [event] = shipmentToEvents(payload, opts);
    const data = event?.data as Record<string, unknown>;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.hasOwn(data, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('shipmentToEvents: errors carry the JSON pointer of the offending field', () => {
  it('rejects payloads that are neither an object nor an array, and an empty array', () => {
    for (const payload of ['{"event":"created"}', 3, null, undefined, false]) expect(pointerOf(payload)).toBe('');
    expect(pointerOf([])).toBe('');
    expect(pointerOf([{ event: 'delivered' }, 'x'])).toBe('/1');
  });

  it('rejects a missing or unknown event', () => {
    expect(pointerOf({ status: 'at_hub' })).toBe('/event');
    expect(pointerOf({ event: 'shipped' })).toBe('/event');
    expect(pointerOf({ event: 'Status' })).toBe('/event');
    expect(pointerOf({ event: 1 })).toBe('/event');
    expect(pointerOf([{ event: 'delivered' }, { event: 'lost' }])).toBe('/1/event');
  });

  it('rejects a bad time', () => {
    expect(pointerOf({ event: 'delivered', time: '2026-01-16' })).toBe('/time');
    expect(pointerOf({ event: 'delivered', time: 1768582920000 })).toBe('/time');
    expect(pointerOf({ event: 'delivered', time: '2026-02-30T10:00:00Z' })).toBe('/time');
    expect(pointerOf([{ event: 'delivered', time: 'soon' }])).toBe('/0/time');
  });

  it('rejects an id that is not a non-empty string', () => {
    expect(pointerOf({ event: 'delivered', id: '' })).toBe('/id');
    expect(pointerOf({ event: 'delivered', id: 42 })).toBe('/id');
  });

  it('rejects a shipment_id that disagrees with the topic', () => {
    const err = shipmentError(() => shipmentToEvents({ event: 'delivered', shipment_id: 'shp_other' }, opts));
    expect(err.pointer).toBe('/shipment_id');
    expect(err.message).toContain(shipmentId);
    expect(pointerOf([{ event: 'delivered' }, { event: 'delivered', shipment_id: 42 }])).toBe('/1/shipment_id');
  });

  it('rejects a missing shipment id from the topic', () => {
    expect(shipmentError(() => shipmentToEvents({ event: 'delivered' }, { ...opts, shipmentId: '' })).pointer).toBeUndefined();
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [{ z: 1, y: 2 }, 3], c: { e: null, d: 'x' } })).toBe(
      '{"a":[{"y":2,"z":1},3],"b":1,"c":{"d":"x","e":null}}',
    );
  });

  it('is insensitive to key order for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reversed = JSON.parse(JSON.stringify(value), (_k, v: unknown) =>
          v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        );
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
      }),
    );
  });
});
