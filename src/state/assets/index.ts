/**
 * Decide module **assets**: stock per SKU × warehouse (shelf-weight / RFID readings, order
 * reservations, shipments → on hand, reserved, available, days of cover) and vehicles /
 * connected parts (VSS signals, registrations → latest signals, wear trends, owner), with the
 * `stock.low` and `part.service_due` detectors. Rules: docs/decide/assets.md.
 *
 * Words:
 * - **stock row**: one SKU in one warehouse; **sensor**: one SenML name that measures it.
 * - **episode**: one low (or due) spell from raise to clear; its number makes the derived ids.
 * - **part type**: a configured rule (signals, direction, threshold, clear level) and the
 *   registrations that fit a new part of it; a **watched signal** is one vehicle's signal under
 *   a part type (brake pads have one per wheel).
 * - **measure**: what is compared with the threshold: the reading, or its increase since the
 *   part was installed (km since a service).
 */
import type { DecideContext, DecideModule } from '../../detect/index.ts';
import { createServiceDueDetector } from './service-due.ts';
import { parseAssetsSettings } from './settings.ts';
import { createStockProjection } from './stock.ts';
import { createStockLowDetector } from './stock-low.ts';
import { createVehiclesProjection } from './vehicles.ts';

export { SERVICE_DUE_CONDITIONS, SERVICE_DUE_DETECTOR } from './service-due.ts';
export {
  type AssetsSettings,
  DEFAULT_PART_TYPES,
  DEFAULT_SETTINGS as DEFAULT_ASSETS_SETTINGS,
  type Direction,
  type Measure,
  ODOMETER_SIGNAL,
  type PartType,
  parseAssetsSettings,
} from './settings.ts';
export { STOCK_LOW, STOCK_REPLENISHED } from './stock-inputs.ts';
export { STOCK_LOW_CONDITIONS, STOCK_LOW_DETECTOR } from './stock-low.ts';
export {
  availability,
  type DepletionBasis,
  getStock,
  getStockLevel,
  listStock,
  type SkuAvailability,
  type StockLevel,
  type StockQuery,
} from './stock-read.ts';
export type { WearTrend } from './trend.ts';
export { PART_SERVICE_CLEARED, PART_SERVICE_DUE } from './vehicle-inputs.ts';
export {
  getVehicle,
  type PartStatus,
  type Vehicle,
  type VehicleDevice,
  type VehicleReadOptions,
  type VehicleSignalValue,
  vehiclesOfCustomer,
} from './vehicle-read.ts';

/** `settings` is the config file's `detectors.assets` section (undefined when absent); invalid → PW_CONFIG_INVALID. */
export function createAssetsModule(ctx: DecideContext, settings: unknown): DecideModule {
  const s = parseAssetsSettings(settings);
  return {
    name: 'assets',
    projections: [createStockProjection(s.stock), createVehiclesProjection(s.serviceDue)],
    detectors: [createStockLowDetector(ctx, s.stock, s.stockLow), createServiceDueDetector(ctx, s.serviceDue)],
  };
}
