import { type TProperties, Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';
import { SENML_NAME_PATTERN } from './sensor.ts';
import { CONDITION_KINDS } from './shipment.ts';
import { VIN_PATTERN } from './vehicle.ts';

/**
 * Events Pitwall's detectors emit. Permissive (extra fields allowed) but with their key ids
 * required. Each may carry `caused_by`: the ids of the events that caused it.
 */

const Id = Type.String({ minLength: 1 });
const Text = Type.String();
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const DateTime = Type.String({ format: 'date-time' });

/** `Type.Object` plus the optional `caused_by` every derived event may carry. */
function derivedData<T extends TProperties>(properties: T) {
  return Type.Object({
    ...properties,
    caused_by: Type.Optional(Type.Array(Id, { description: 'ids of the events that caused this one' })),
  });
}

export const DERIVED_TYPES: EventTypeDefinition[] = [
  {
    type: 'cart.abandoned',
    version: 1,
    description: 'A cart with products has been idle past the abandonment threshold.',
    derived: true,
    data: derivedData({
      cart_id: Id,
      idle_minutes: Type.Optional(Type.Number({ minimum: 0 })),
      value: Type.Optional(Type.Number()),
      currency: Type.Optional(Currency),
    }),
    example: {
      cart_id: 'cart_8f2k1',
      idle_minutes: 45,
      value: 318.8,
      currency: 'EUR',
      caused_by: ['evt_01JH8Z6Q2M5T3K9V1B7C4D0E2F'],
    },
  },
  {
    type: 'cart.recovered',
    version: 1,
    description: 'A previously abandoned cart turned into an order.',
    derived: true,
    data: derivedData({ cart_id: Id, order_id: Id }),
    example: { cart_id: 'cart_8f2k1', order_id: 'ord_50314', caused_by: ['evt_01JH8ZC4W0N6R2Y5X8A3S1D7G9'] },
  },
  {
    type: 'shipment.delayed',
    version: 1,
    description: 'A shipment is predicted to miss its promised delivery time.',
    derived: true,
    data: derivedData({
      shipment_id: Id,
      predicted_p90: Type.Optional(DateTime),
      promised_at: Type.Optional(DateTime),
      reason: Type.Optional(Text),
    }),
    example: {
      shipment_id: 'shp_20260114_0042',
      predicted_p90: '2026-01-17T14:00:00Z',
      promised_at: '2026-01-16T18:00:00Z',
      reason: 'stuck_at_hub',
    },
  },
  {
    type: 'shipment.condition_breach',
    version: 1,
    description: 'A shipment condition (shock, temperature, …) went past its threshold.',
    derived: true,
    data: derivedData({
      shipment_id: Id,
      kind: Type.Enum([...CONDITION_KINDS]),
      value: Type.Optional(Type.Number()),
    }),
    example: { shipment_id: 'shp_20260114_0042', kind: 'shock', value: 9.3, caused_by: ['evt_01JH9A0B4C6D8E0F2G4H6J8K0M'] },
  },
  {
    type: 'device.silent',
    version: 1,
    description: 'A registered device has sent nothing for longer than its expected interval.',
    derived: true,
    data: derivedData({ device_id: Id, silent_minutes: Type.Optional(Type.Number({ minimum: 0 })) }),
    example: { device_id: 'dev_bm12_00417', silent_minutes: 180 },
  },
  {
    type: 'device.back',
    version: 1,
    description: 'A device that was silent is sending again.',
    derived: true,
    data: derivedData({ device_id: Id }),
    example: { device_id: 'dev_bm12_00417', caused_by: ['evt_01JH9B1C3D5E7F9G1H3J5K7M9N'] },
  },
  {
    type: 'sensor.sustained',
    version: 1,
    description: 'A sensor stayed above or below a threshold for a sustained duration.',
    derived: true,
    data: derivedData({
      n: Type.String({ minLength: 1, pattern: SENML_NAME_PATTERN }),
      threshold: Type.Number(),
      direction: Type.Enum(['above', 'below']),
      duration_s: Type.Number({ minimum: 0 }),
    }),
    example: {
      n: 'urn:dev:mac:0024befffe804ff1:coldroom_temp',
      threshold: 8,
      direction: 'above',
      duration_s: 900,
    },
  },
  {
    type: 'sensor.cleared',
    version: 1,
    description: 'A sustained sensor condition is over.',
    derived: true,
    data: derivedData({ n: Type.String({ minLength: 1, pattern: SENML_NAME_PATTERN }) }),
    example: { n: 'urn:dev:mac:0024befffe804ff1:coldroom_temp' },
  },
  {
    type: 'part.service_due',
    version: 1,
    description: 'A fitted part (battery, brake pads, …) is due for service or replacement.',
    derived: true,
    data: derivedData({
      part: Id,
      vin: Type.Optional(Type.String({ pattern: VIN_PATTERN })),
      device_id: Type.Optional(Text),
      reason: Id,
    }),
    example: {
      part: 'BAT-AGM-70AH',
      vin: 'WVWZZZAUZHW123456',
      device_id: 'dev_bm12_00417',
      reason: 'cranking voltage below 9.6 V on 3 cold starts',
    },
  },
  {
    type: 'stock.low',
    version: 1,
    description: 'A SKU in a warehouse fell below its reorder point or days of cover.',
    derived: true,
    data: derivedData({
      sku: Id,
      warehouse: Id,
      on_hand: Type.Optional(Type.Number()),
      reorder_point: Type.Optional(Type.Number()),
      days_of_cover: Type.Optional(Type.Number()),
    }),
    example: { sku: 'BRK-PAD-F-4471', warehouse: 'DE-HAM-1', on_hand: 14, reorder_point: 40, days_of_cover: 2.5 },
  },
  {
    type: 'stock.replenished',
    version: 1,
    description: 'A SKU in a warehouse that was low is back above its clear level (ends a stock.low episode).',
    derived: true,
    data: derivedData({
      sku: Id,
      warehouse: Id,
      on_hand: Type.Optional(Type.Number()),
      available: Type.Optional(Type.Number()),
      reorder_point: Type.Optional(Type.Number()),
      days_of_cover: Type.Optional(Type.Number()),
      episode: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
    example: { sku: 'BRK-PAD-F-4471', warehouse: 'DE-HAM-1', on_hand: 120, available: 112, reorder_point: 40, episode: 1 },
  },
  {
    type: 'part.service_cleared',
    version: 1,
    description: 'A part that was due for service was replaced or its signal recovered (ends a part.service_due episode).',
    derived: true,
    data: derivedData({
      part: Id,
      vin: Type.Optional(Type.String({ pattern: VIN_PATTERN })),
      device_id: Type.Optional(Text),
      reason: Type.Enum(['replaced', 'recovered']),
    }),
    example: { part: 'BAT-AGM-70AH', vin: 'WVWZZZAUZHW123456', device_id: 'dev_bm12_00417', reason: 'replaced' },
  },
  {
    type: 'quality.degraded',
    version: 1,
    description: 'The data quality of a source (device, feed, storefront) dropped below its threshold.',
    derived: true,
    data: derivedData({
      source: Id,
      score: Type.Number({ minimum: 0, maximum: 100, description: 'quality score, 0 (unusable) to 100' }),
      reasons: Type.Optional(Type.Array(Text)),
    }),
    example: {
      source: 'mqtt://fleet/coldroom-sensors',
      score: 55,
      reasons: ['late readings: 18% over 5 min', 'duplicate ids'],
    },
  },
  {
    type: 'quality.recovered',
    version: 1,
    description: 'The data quality of a source is back above its threshold.',
    derived: true,
    data: derivedData({ source: Id, score: Type.Number({ minimum: 0, maximum: 100 }) }),
    example: { source: 'mqtt://fleet/coldroom-sensors', score: 97 },
  },
  {
    type: 'condition.acknowledged',
    version: 1,
    description: 'Someone acknowledged a raised condition (POST /v1/conditions/:id/acknowledge).',
    derived: true,
    data: derivedData({
      condition_id: Id,
      by: Type.String({ minLength: 1, description: 'the API key id (or a name) that acknowledged it' }),
      note: Type.Optional(Type.String({ maxLength: 2000 })),
    }),
    example: { condition_id: '5f0c5b1e3b9a4d2c8e7f6a5b4c3d2e1f', by: 'key_01JH8Z', note: 'cold room door closed, watching' },
  },
  {
    type: 'condition.cleared',
    version: 1,
    description: 'Someone cleared an open condition by hand (POST /v1/conditions/:id/clear); a recurrence opens a new one.',
    derived: true,
    data: derivedData({
      condition_id: Id,
      by: Type.String({ minLength: 1, description: 'the API key id (or a name) that cleared it' }),
      note: Type.Optional(Type.String({ maxLength: 2000 })),
    }),
    example: { condition_id: '5f0c5b1e3b9a4d2c8e7f6a5b4c3d2e1f', by: 'key_01JH8Z', note: 'false alarm: sensor was being recalibrated' },
  },
];
