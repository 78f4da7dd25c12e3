/**
 * The canonical event: a CloudEvents 1.0 envelope. Every way in (HTTP, MQTT, Segment,
 * SenML, shop webhooks) becomes one of these before validation and append.
 *
 * Pitwall extension attributes (CloudEvents extensions: lowercase letters and digits):
 * - `userid` / `anonymousid`: the customer this event is about (Segment semantics)
 * - `store`: which storefront, for organisations with several
 * - `deviceid`: the registered device that produced a reading
 * - `pitwallhistory`: true for backfills — keeps its timestamps, builds state, starts no timers
 */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  userid?: string;
  anonymousid?: string;
  store?: string;
  deviceid?: string;
  pitwallhistory?: boolean;
  [extension: string]: unknown;
}

/** CloudEvents context attributes defined by the spec itself. */
export const CORE_ATTRIBUTES = [
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
] as const;

/** Pitwall's own extension attributes. */
export const PITWALL_EXTENSIONS = ['userid', 'anonymousid', 'store', 'deviceid', 'pitwallhistory'] as const;

/** `<domain>.<what>` — lowercase, dotted, snake_case parts. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

/** CloudEvents extension attribute names: lowercase letters and digits. */
export const EXTENSION_NAME_PATTERN = /^[a-z0-9]{1,20}$/;

/** `Product Added` → `product_added`; `checkoutStepCompleted` → `checkout_step_completed`. */
export function snakeCase(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}
