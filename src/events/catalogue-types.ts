import type { TSchema } from 'typebox';

/**
 * One entry of the event-type catalogue: the JSON Schema of `data` for one type at one
 * version. Compatibility rule: a new version of a type may only add optional fields;
 * any other change is a new type (e.g. `shipment.status.v2`) that old consumers ignore.
 */
export interface EventTypeDefinition {
  type: string;
  version: number;
  /** One line for docs/events.md and the API. */
  description: string;
  /** The standard this type follows, when there is one. */
  standard?: string;
  /** Produced by Pitwall's detectors rather than sent in. */
  derived?: boolean;
  /** JSON Schema (TypeBox) of the `data` member. */
  data: TSchema;
  /** A valid `data` example, used in docs and tests. */
  example: unknown;
}
