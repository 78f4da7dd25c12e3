/**
 * Decide module: shipments, predicted delivery windows, carrier × lane reliability, and the
 * `shipment.delayed` / `shipment.condition_breach` detectors. See docs/decide/shipments.md.
 *
 * Words:
 * - **lane**: a carrier's origin → destination (as named in `shipment.created`).
 * - **transit time**: delivered − created (event times); **last mile**: delivered − out for delivery.
 * - **reliability**: the share of a lane's delivered shipments delivered by their promise.
 * - **window**: predicted delivery P50 / P90, with the **basis** it came from (predict.ts).
 * - **episode**: one stretch of one delay reason or one breach run; each is reported once.
 */
import type { DecideContext, DecideModule } from '../../detect/index.ts';
import { createBreachDetector } from './breach.ts';
import { createDelayDetector } from './delayed.ts';
import { createShipmentsProjection } from './projection.ts';
import { parseShipmentSettings } from './settings.ts';

export { BREACH_SOURCE, breachEventId } from './breach.ts';
export {
  assessDelay,
  DELAY_SOURCE,
  DELAY_TIMER_PREFIX,
  type DelayAssessment,
  type DelayVerdict,
  delayedEventId,
  delayTimerKey,
} from './delayed.ts';
export {
  type DelayReason,
  type Position as ShipmentPosition,
  SHIPMENT_EVENT_TYPES,
  type Shipment,
  type ShipmentLine,
  type StatusEntry as ShipmentStatusEntry,
} from './fold.ts';
export {
  type LaneWindow,
  type Prediction as ShipmentPrediction,
  type PredictionBasis,
  predictLaneWindow,
  predictShipment,
} from './predict.ts';
export { SHIPMENT_TABLES } from './projection.ts';
export {
  type Breach as ShipmentBreach,
  getShipment,
  type LaneReliability,
  type LaneStats,
  laneReliability,
  listReliability,
  listShipments,
  type ReliabilityQuery,
  type ShipmentQuery,
  type ShipmentState,
} from './read.ts';
export {
  DEFAULT_SHIPMENT_PREDICTION,
  DEFAULT_SHIPMENT_SETTINGS,
  type Limits as ConditionLimits,
  type PredictionSettings as ShipmentPredictionSettings,
  parseShipmentSettings,
  type ShipmentSettings,
} from './settings.ts';

/** `settings` is the config file's `detectors.shipments` section (undefined when absent). */
export function createShipmentsModule(ctx: DecideContext, settings: unknown): DecideModule {
  const s = parseShipmentSettings(settings);
  return {
    name: 'shipments',
    projections: [createShipmentsProjection(s)],
    detectors: [createDelayDetector(ctx, s), createBreachDetector(ctx, s)],
  };
}
