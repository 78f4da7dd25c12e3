import { Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';

const EPCIS = 'GS1 EPCIS 2.0 ObjectEvent (modelled)';

const Id = Type.String({ minLength: 1 });
const Text = Type.String();

export const SHIPMENT_STATUSES = [
  'label_created',
  'picked_up',
  'in_transit',
  'at_hub',
  'out_for_delivery',
  'delayed',
  'exception',
  'returned',
] as const;

export const CONDITION_KINDS = ['shock', 'temperature', 'humidity', 'tilt', 'light'] as const;

/**
 * An EPCIS 2.0 / CBV 2.0 vocabulary value: either a bare CBV term (`shipping`, `in_transit`,
 * as in EPCIS 2.0 JSON-LD) or a URI (`urn:epcglobal:cbv:bizstep:shipping`,
 * `https://ref.gs1.org/cbv/BizStep-shipping`, or a company's own vocabulary URI).
 */
const CbvValue = (what: string) =>
  Type.String({
    pattern: '^([a-z][a-z_]*|[A-Za-z][A-Za-z0-9+.-]*:[^\\s]+)$',
    description: `EPCIS 2.0 ${what}: a bare CBV term or a URI`,
  });

export const SHIPMENT_TYPES: EventTypeDefinition[] = [
  {
    type: 'shipment.created',
    version: 1,
    description: 'A shipment was booked with a carrier and has a promised delivery time.',
    standard: EPCIS,
    data: Type.Object({
      shipment_id: Id,
      carrier: Id,
      origin: Type.String({ minLength: 1, description: 'Warehouse or region code the shipment leaves from' }),
      destination: Type.String({ minLength: 1, description: 'Region the shipment goes to' }),
      promised_at: Type.String({ format: 'date-time' }),
      order_id: Type.Optional(Text),
      tracking_number: Type.Optional(Text),
      service: Type.Optional(Text),
      lines: Type.Optional(
        Type.Array(
          Type.Object({
            sku: Id,
            quantity: Type.Number({ minimum: 0 }),
          }),
        ),
      ),
    }),
    example: {
      shipment_id: 'shp_20260114_0042',
      carrier: 'dhl',
      origin: 'DE-HAM-1',
      destination: 'DE-BY',
      promised_at: '2026-01-16T18:00:00Z',
      order_id: 'ord_50314',
      tracking_number: '00340434161094042557',
      service: 'express',
      lines: [
        { sku: 'BRK-PAD-F-4471', quantity: 2 },
        { sku: 'BAT-AGM-70AH', quantity: 1 },
      ],
    },
  },
  {
    type: 'shipment.position',
    version: 1,
    description: 'A position fix for a shipment in transit (tracker or carrier feed).',
    standard: EPCIS,
    data: Type.Object({
      shipment_id: Id,
      lat: Type.Number({ minimum: -90, maximum: 90 }),
      lon: Type.Number({ minimum: -180, maximum: 180 }),
      speed_kmh: Type.Optional(Type.Number({ minimum: 0 })),
      heading: Type.Optional(Type.Number({ minimum: 0, maximum: 360, description: 'Degrees clockwise from north' })),
      accuracy_m: Type.Optional(Type.Number({ minimum: 0 })),
    }),
    example: {
      shipment_id: 'shp_20260114_0042',
      lat: 51.3127,
      lon: 9.4797,
      speed_kmh: 84,
      heading: 172,
      accuracy_m: 12,
    },
  },
  {
    type: 'shipment.status',
    version: 1,
    description: 'A carrier status change (picked up, at hub, out for delivery, exception…).',
    standard: EPCIS,
    data: Type.Object({
      shipment_id: Id,
      status: Type.Enum([...SHIPMENT_STATUSES]),
      reason: Type.Optional(Text),
      location: Type.Optional(Text),
      biz_step: Type.Optional(CbvValue('business step')),
      disposition: Type.Optional(CbvValue('disposition')),
    }),
    example: {
      shipment_id: 'shp_20260114_0042',
      status: 'at_hub',
      location: 'DHL Hub Kassel',
      biz_step: 'arriving',
      disposition: 'in_transit',
    },
  },
  {
    type: 'shipment.condition',
    version: 1,
    description: 'A condition measurement from a shipment tracker (shock, temperature, humidity, tilt, light).',
    standard: EPCIS,
    data: Type.Object({
      shipment_id: Id,
      kind: Type.Enum([...CONDITION_KINDS]),
      value: Type.Number(),
      unit: Type.Optional(Text),
      threshold: Type.Optional(Type.Number()),
    }),
    example: {
      shipment_id: 'shp_20260114_0042',
      kind: 'shock',
      value: 9.3,
      unit: 'g',
      threshold: 6,
    },
  },
  {
    type: 'shipment.delivered',
    version: 1,
    description: 'The shipment was delivered to the customer.',
    standard: EPCIS,
    data: Type.Object({
      shipment_id: Id,
      signed_by: Type.Optional(Text),
      location: Type.Optional(Text),
    }),
    example: {
      shipment_id: 'shp_20260114_0042',
      signed_by: 'M. Keller',
      location: 'Werkstatt Keller, Augsburg',
    },
  },
];
