/** Decide module: devices (last seen, battery, firmware, readings) and sensor rules; device.silent/back, sensor.sustained/cleared. */
import type { DecideContext, DecideModule } from '../../detect/index.ts';

/** `settings` is the config file's `detectors.devices` section (undefined when absent). */
export function createDevicesModule(_ctx: DecideContext, _settings: unknown): DecideModule {
  return { name: 'devices', projections: [], detectors: [] };
}
