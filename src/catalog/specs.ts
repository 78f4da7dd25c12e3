/** The fields of each kind of record an import accepts, with their rules (docs/catalog.md). */
import type { ApiRecord, Spec } from './fields.ts';
import { type Issue, issue } from './issues.ts';

const CURRENCY = {
  type: 'text',
  max: 3,
  upper: true,
  check: (s: string) => (/^[A-Z]{3}$/.test(s) ? undefined : 'must be an ISO 4217 code like EUR'),
} as const;

function validTimeZone(s: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: s });
    return undefined;
  } catch {
    return 'must be an IANA time zone like Europe/Berlin';
  }
}

function validTrackingUrl(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s.replace('{tracking_number}', 'x'));
  } catch {
    return 'must be an http(s) URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http(s) URL';
  return s.includes('{tracking_number}') ? undefined : 'must contain {tracking_number} where the number goes';
}

export const PRODUCT_SPEC: Spec = {
  sku: { type: 'key' },
  name: { type: 'text', max: 500, required: true },
  category: { type: 'text', max: 200 },
  price: { type: 'number', required: true, min: 0 },
  currency: CURRENCY,
  unit_cost: { type: 'number', min: 0 },
  weight_kg: { type: 'number', min: 0, max: 100_000 },
  hazardous: { type: 'boolean' },
  temperature_sensitive: { type: 'boolean' },
  attributes: { type: 'attributes' },
  fitment: { type: 'fitment' },
};

export const WAREHOUSE_SPEC: Spec = {
  id: { type: 'key' },
  name: { type: 'text', max: 200, required: true },
  region: { type: 'text', max: 64 },
  country: {
    type: 'text',
    max: 16,
    upper: true,
    check: (s) => (/^[A-Z]{2}$/.test(s) ? undefined : 'must be an ISO 3166-1 alpha-2 code like DE'),
  },
  lat: { type: 'number', min: -90, max: 90 },
  lon: { type: 'number', min: -180, max: 180 },
  timezone: { type: 'text', max: 64, check: validTimeZone },
  cutoff_time: { type: 'text', max: 5, check: (s) => (/^([01]\d|2[0-3]):[0-5]\d$/.test(s) ? undefined : 'must be a local time HH:MM') },
  handling_hours: { type: 'number', min: 0, max: 24 * 90 },
  attributes: { type: 'attributes' },
};

export const CARRIER_SPEC: Spec = {
  id: { type: 'key' },
  name: { type: 'text', max: 200, required: true },
  tracking_url: { type: 'text', max: 2000, check: validTrackingUrl },
  attributes: { type: 'attributes' },
};

export const LANE_SPEC: Spec = {
  carrier_id: { type: 'key' },
  origin: { type: 'key' },
  destination: { type: 'key' },
  transit_hours_p50: { type: 'number', min: 0, max: 24 * 365 },
  transit_hours_p90: { type: 'number', min: 0, max: 24 * 365 },
  cost: { type: 'number', min: 0 },
  currency: CURRENCY,
  attributes: { type: 'attributes' },
};

/** Fields the API returns but an import ignores, so a fetched record can be sent back unchanged. */
export const READ_ONLY = new Set(['created_at', 'updated_at', 'margin', 'margin_rate']);

export const PRODUCT_DEFAULTS: ApiRecord = {
  category: null,
  currency: null,
  unit_cost: null,
  weight_kg: null,
  hazardous: false,
  temperature_sensitive: false,
  attributes: {},
};
export const WAREHOUSE_DEFAULTS: ApiRecord = {
  region: null,
  country: null,
  lat: null,
  lon: null,
  timezone: null,
  cutoff_time: null,
  handling_hours: null,
  attributes: {},
};
export const CARRIER_DEFAULTS: ApiRecord = { tracking_url: null, attributes: {} };
export const LANE_DEFAULTS: ApiRecord = {
  transit_hours_p50: null,
  transit_hours_p90: null,
  cost: null,
  currency: null,
  attributes: {},
};

/** Rules across fields of a merged warehouse. */
export function checkWarehouse(r: ApiRecord): Issue[] {
  if ((r.lat === null) !== (r.lon === null))
    return [issue('PW_CATALOG_FIELD_INVALID', r.lat === null ? '/lat' : '/lon', 'lat and lon are given together or not at all')];
  return [];
}

/** Rules across fields of a merged lane. */
export function checkLane(r: ApiRecord): Issue[] {
  const p50 = r.transit_hours_p50;
  const p90 = r.transit_hours_p90;
  if (typeof p50 === 'number' && typeof p90 === 'number' && p90 < p50)
    return [issue('PW_CATALOG_FIELD_INVALID', '/transit_hours_p90', `transit_hours_p90 (${p90}) is below transit_hours_p50 (${p50})`)];
  return [];
}
