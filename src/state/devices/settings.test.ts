import { describe, expect, it } from 'vitest';
import { isAppError } from '../../core/index.ts';
import { batteryOf, firmwareOf } from './readings.ts';
import { parseDevicesSettings, ruleMatches, silentMsFor } from './settings.ts';

const MIN = 60_000;

function problem(settings: unknown): string {
  try {
    parseDevicesSettings(settings);
  } catch (e) {
    if (isAppError(e) && e.code === 'PW_CONFIG_INVALID') return e.message;
    throw e;
  }
  throw new Error('expected PW_CONFIG_INVALID');
}

describe('detectors.devices settings', () => {
  it('defaults to 15 silent minutes and no sensor rules; for_minutes defaults to 10, clear level to the threshold', () => {
    expect(parseDevicesSettings(undefined)).toEqual({ silentMinutes: 15, silentOverrides: [], rules: [] });
    const [rule] = parseDevicesSettings({ sensor_rules: [{ name: 'hot', match: { name: 'temp' }, above: 30 }] }).rules;
    expect(rule).toMatchObject({ direction: 'above', threshold: 30, clearLevel: 30, forMs: 10 * MIN, severity: 'warning' });
  });

  it('picks the first matching override (prefix, kind, store; all given must match), else the default', () => {
    const s = parseDevicesSettings({
      silent_minutes: 20,
      silent_overrides: [
        { device_prefix: 'cold-', store: 'de', minutes: 5 },
        { kind: 'tracker', minutes: 0 },
        { store: 'de', minutes: 30 },
      ],
    });
    const at = (deviceId: string, kind?: string, store?: string) => silentMsFor(s, { deviceId, kind, store });
    expect(at('cold-1', undefined, 'de')).toBe(5 * MIN);
    expect(at('cold-1', 'tracker', 'at')).toBe(0);
    expect(at('shelf-1', undefined, 'de')).toBe(30 * MIN);
    expect(at('shelf-1', undefined, 'at')).toBe(20 * MIN);
  });

  it.each([
    [{ silent_minutes: -1 }, 'detectors.devices.silent_minutes: expected a number of minutes'],
    [{ silent_minuts: 5 }, 'detectors.devices: unknown setting "silent_minuts"'],
    [[], 'detectors.devices: expected an object'],
    [{ silent_overrides: [{ minutes: 5 }] }, 'detectors.devices.silent_overrides[0]: needs at least one of device_prefix, kind, store'],
    [{ silent_overrides: [{ kind: 'x' }] }, 'detectors.devices.silent_overrides[0].minutes: is required'],
    [{ sensor_rules: [{ name: 'r', match: { name: 't' } }] }, 'detectors.devices.sensor_rules[0]: needs exactly one of above, below'],
    [{ sensor_rules: [{ name: 'r', match: { name: 't' }, above: 1, below: 0 }] }, 'needs exactly one of above, below'],
    [{ sensor_rules: [{ name: 'r', match: { name: 't' }, above: 8, clear_below: 9 }] }, 'sensor_rules[0].clear_below: must not be above'],
    [{ sensor_rules: [{ name: 'r', match: { name: 't' }, below: 8, clear_above: 7 }] }, 'sensor_rules[0].clear_above: must not be below'],
    [{ sensor_rules: [{ name: 'r', match: { name: 't' }, above: 8, clear_above: 9 }] }, 'sensor_rules[0].clear_above: goes with below'],
    [{ sensor_rules: [{ name: 'r', match: {}, above: 8 }] }, 'sensor_rules[0].match: needs name or name_regex'],
    [
      { sensor_rules: [{ name: 'r', match: { name_regex: '(' }, above: 8 }] },
      'sensor_rules[0].match.name_regex: not a valid regular expression',
    ],
    [{ sensor_rules: [{ name: 'a|b', match: { name: 't' }, above: 8 }] }, 'sensor_rules[0].name: expected 1-64 letters'],
    [{ sensor_rules: [{ name: 'r', match: { name: 't' }, above: 8, severity: 'loud' }] }, 'sensor_rules[0].severity: expected one of'],
    [
      { sensor_rules: [{ name: 'r', match: { name: 't' }, above: 8, for_minutes: 'ten' }] },
      'sensor_rules[0].for_minutes: expected a number',
    ],
    [
      {
        sensor_rules: [
          { name: 'r', match: { name: 't' }, above: 8 },
          { name: 'r', match: { name: 'u' }, above: 8 },
        ],
      },
      'sensor_rules[1].name: "r" is used by an earlier rule',
    ],
  ])('rejects %j naming the field', (settings, message) => {
    expect(problem(settings)).toContain(message);
  });

  it('matches a rule by full name or last segment, regex, unit, device prefix and store', () => {
    const [byName, byRegex] = parseDevicesSettings({
      sensor_rules: [
        { name: 'a', match: { name: 'coldroom_temp', unit: 'Cel', device_prefix: 'cold-', store: 'de' }, above: 8 },
        { name: 'b', match: { name_regex: '^Vehicle\\.Cabin\\.' }, above: 30 },
      ],
    }).rules;
    if (!byName || !byRegex) throw new Error('rules missing');
    const n = 'urn:dev:mac:0024befffe804ff1:coldroom_temp';
    expect(ruleMatches(byName, n, 'Cel', 'cold-1', 'de')).toBe(true);
    expect(ruleMatches(byName, 'coldroom_temp', 'Cel', 'cold-1', 'de')).toBe(true);
    expect(ruleMatches(byName, `${n}2`, 'Cel', 'cold-1', 'de')).toBe(false);
    expect(ruleMatches(byName, n, 'K', 'cold-1', 'de')).toBe(false);
    expect(ruleMatches(byName, n, 'Cel', 'shelf-1', 'de')).toBe(false);
    expect(ruleMatches(byName, n, 'Cel', 'cold-1', 'at')).toBe(false);
    expect(ruleMatches(byRegex, 'Vehicle.Cabin.HVAC.AmbientAirTemperature', undefined, '', undefined)).toBe(true);
    expect(ruleMatches(byRegex, 'Vehicle.Speed', undefined, '', undefined)).toBe(false);
  });
});

describe('battery and firmware readings', () => {
  const r = (signal: string, unit: string | undefined, value?: number, text?: string) => ({ signal, unit, value, text });
  it.each([
    [r('urn:dev:x:battery', '%EL', 87), { pct: 87 }],
    [r('urn:dev:x:charge', '%EL', 50), { pct: 50 }],
    [r('urn:dev:x:battery_level', '%', 40), { pct: 40 }],
    [r('urn:dev:x:bat_v', 'V', 3.7), { volts: 3.7 }],
    [r('Vehicle.LowVoltageBattery.CurrentVoltage', 'V', 12.4), { volts: 12.4 }],
    [r('Vehicle.Powertrain.TractionBattery.StateOfCharge.Current', 'percent', 80), { pct: 80 }],
    [r('urn:dev:x:temp', 'Cel', 4), undefined],
    [r('urn:dev:x:combat_mode', '%', 4), undefined],
    [r('urn:dev:x:battery', 'V'), undefined],
  ])('%j → %j', (reading, battery) => {
    expect(batteryOf(reading)).toEqual(battery);
  });

  it('reads firmware from a reading named firmware / fw / fw_version', () => {
    expect(firmwareOf(r('urn:dev:x:fw_version', undefined, undefined, '2.5.1'))).toBe('2.5.1');
    expect(firmwareOf(r('urn:dev:x:firmware', undefined, 3))).toBe('3');
    expect(firmwareOf(r('urn:dev:x:fwd_speed', undefined, 3))).toBeUndefined();
  });
});
