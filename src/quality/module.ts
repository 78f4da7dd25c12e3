/** Decide module: data quality fed from the log (quality.degraded / quality.recovered, scores per source). */
import type { DecideContext, DecideModule } from '../detect/index.ts';

/** `settings` is the config file's `detectors.quality` section (undefined when absent). */
export function createQualityModule(_ctx: DecideContext, _settings: unknown): DecideModule {
  return { name: 'quality', projections: [], detectors: [] };
}
