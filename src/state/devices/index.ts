/**
 * Decide module: devices (last seen, battery, firmware, readings) and sensor rules;
 * `device.silent` / `device.back` and `sensor.sustained` / `sensor.cleared`.
 * See docs/decide/devices.md.
 */
import type { DecideContext, DecideModule } from '../../detect/index.ts';
import { deviceStateProjection } from './device-state.ts';
import { createRulesProjection } from './rules.ts';
import { parseDevicesSettings } from './settings.ts';
import { createSilenceDetector } from './silence.ts';
import { createSustainedDetector } from './sustained.ts';

/** `settings` is the config file's `detectors.devices` section (undefined when absent); throws `PW_CONFIG_INVALID`. */
export function createDevicesModule(ctx: DecideContext, settings: unknown): DecideModule {
  const s = parseDevicesSettings(settings);
  return {
    name: 'devices',
    projections: [deviceStateProjection, createRulesProjection(s.rules)],
    detectors: [createSilenceDetector(ctx, s), createSustainedDetector(ctx, s.rules)],
  };
}

export { type DeviceState, SILENCE_SOURCE, type SignalSummary } from './device-state.ts';
export {
  activeSustained,
  type DeviceDetail,
  type DeviceQuery,
  getDeviceState,
  isDeviceSilent,
  listDevices,
  type PublishedRule,
  publishedRules,
  type SustainedSensor,
  silentDevices,
} from './read.ts';
export { RULES_SOURCE, type RuleKey, type RulePhase, ruleKeyString } from './rules.ts';
export {
  DEFAULT_FOR_MINUTES,
  DEFAULT_SILENT_MINUTES,
  type DevicesSettings,
  parseDevicesSettings,
  type SensorRule,
  silentMsFor,
} from './settings.ts';
export { SILENCE_TIMER_PREFIX, silenceTimerKey } from './silence.ts';
export { SUSTAINED_TIMER_PREFIX, sustainedTimerKey } from './sustained.ts';
