/** Decide module: shipments, predicted delivery windows, carrier-lane reliability, shipment.delayed / shipment.condition_breach. */
import type { DecideContext, DecideModule } from '../../detect/index.ts';

/** `settings` is the config file's `detectors.shipments` section (undefined when absent). */
export function createShipmentsModule(_ctx: DecideContext, _settings: unknown): DecideModule {
  return { name: 'shipments', projections: [], detectors: [] };
}
