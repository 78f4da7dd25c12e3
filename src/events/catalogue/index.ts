import type { EventTypeDefinition } from '../catalogue-types.ts';
import { ACT_TYPES } from './act.ts';
import { COMMERCE_TYPES, GENERIC_TRACK } from './commerce.ts';
import { CUSTOMER_TYPES } from './customer.ts';
import { DERIVED_TYPES } from './derived.ts';
import { PLAN_TYPES } from './plan.ts';
import { SENSOR_TYPES } from './sensor.ts';
import { SHIPMENT_TYPES } from './shipment.ts';
import { SURVEY_TYPES } from './survey.ts';
import { VEHICLE_TYPES } from './vehicle.ts';

export { GENERIC_TRACK };

/**
 * Every built-in event type, version 1. Includes `commerce.track` (GENERIC_TRACK) so that it
 * can also be sent by name; derived types carry `derived: true`.
 */
export const BUILT_IN_TYPES: readonly EventTypeDefinition[] = Object.freeze([
  ...COMMERCE_TYPES,
  GENERIC_TRACK,
  ...CUSTOMER_TYPES,
  ...SENSOR_TYPES,
  ...SHIPMENT_TYPES,
  ...VEHICLE_TYPES,
  ...SURVEY_TYPES,
  ...DERIVED_TYPES,
  ...ACT_TYPES,
  ...PLAN_TYPES,
]);
