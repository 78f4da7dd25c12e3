/** Decide module: customers and the identity graph. */
import type { DecideContext, DecideModule } from '../../detect/index.ts';

/** `settings` is the config file's `detectors.identity` section (undefined when absent). */
export function createIdentityModule(_ctx: DecideContext, _settings: unknown): DecideModule {
  return { name: 'identity', projections: [], detectors: [] };
}
