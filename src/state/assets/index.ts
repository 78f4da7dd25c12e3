/** Decide module: stock per SKU × warehouse and vehicles / connected parts; stock.low, part.service_due. */
import type { DecideContext, DecideModule } from '../../detect/index.ts';

/** `settings` is the config file's `detectors.assets` section (undefined when absent). */
export function createAssetsModule(_ctx: DecideContext, _settings: unknown): DecideModule {
  return { name: 'assets', projections: [], detectors: [] };
}
