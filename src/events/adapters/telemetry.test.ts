import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError, deterministicId } from '../../core/index.ts';
import { parseRfc3339, telemetryToEvents, VSS_SIGNAL_PATTERN } from './telemetry.ts';

const NOW_MS = Date.parse('2026-01-05T09:00:00Z');
const source = 'mqtt://pitwall/devices/dev_obd_88211/telemetry';
const deviceId = 'dev_obd_88211';
const opts = { nowMs: NOW_MS, source, deviceId };

const SOH = 'Vehicle.Powertrain.TractionBattery.StateOfHealth';
const SOC = 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current';

function telemetryError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    const err = e as AppError;
    expect(err.code).toBe('PW_TELEMETRY_INVALID');
    expect(err.status).toBe(400);
    return err;
  }
  throw new Error('expected telemetryToEvents to throw');
}

const pointerOf = (payload: unknown) => telemetryError(() => telemetryToEvents(payload, opts)).pointer;

describe('telemetryToEvents: the signals map', () => {
  it('makes one vehicle.signal event per signal, with the VIN as subject', () => {
    const events = telemetryToEvents(
      { vin: '5YJ3E1EA7KF317000', ts: '2026-01-05T08:59:30Z', signals: { [SOH]: 92.5, [SOC]: 71, 'Vehicle.Speed': 0 } },
      opts,
    );
    expect(events).toHaveLength(3);
    const timeMs = Date.parse('2026-01-05T08:59:30Z');
    expect(events[0]).toEqual({
      specversion: '1.0',
      id: deterministicId(deviceId, SOH, timeMs, '92.5'),
      source,
      type: 'vehicle.signal',
      time: '2026-01-05T08:59:30.000Z',
      subject: '5YJ3E1EA7KF317000',
      datacontenttype: 'application/json',
      data: { signal: SOH, value: 92.5, vin: '5YJ3E1EA7KF317000', device_id: deviceId },
      deviceid: deviceId,
    });
    expect(events.map((e) => (e.data as { signal: string }).signal)).toEqual([SOH, SOC, 'Vehicle.Speed']);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('takes ts as epoch milliseconds too, and the same instant gives the same ids', () => {
    const iso = telemetryToEvents({ ts: '2026-01-05T10:00:00.250+01:00', signals: { [SOH]: 92.5 } }, opts);
    const ms = telemetryToEvents({ ts: Date.parse('2026-01-05T09:00:00.250Z'), signals: { [SOH]: 92.5 } }, opts);
    expect(iso[0]?.time).toBe('2026-01-05T09:00:00.250Z');
    expect(ms).toEqual(iso);
  });

  it('without ts the time is now; without vin the subject is the device', () => {
    const [event] = telemetryToEvents({ signals: { [SOH]: 92.5 } }, opts);
    expect(event?.time).toBe('2026-01-05T09:00:00.000Z');
    expect(event?.subject).toBe(deviceId);
    expect(event?.data).toEqual({ signal: SOH, value: 92.5, device_id: deviceId });
    expect(event?.id).toBe(deterministicId(deviceId, SOH, NOW_MS, '92.5'));
  });

  it('accepts number, string and boolean values', () => {
    const events = telemetryToEvents(
      {
        signals: {
          'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen': false,
          'Vehicle.Powertrain.Transmission.SelectedGear': 'P',
          'Vehicle.OBD.DTCList': 'P0420',
          'Vehicle.Powertrain.TractionBattery.CurrentVoltage': -0.5,
        },
      },
      opts,
    );
    expect(events.map((e) => (e.data as { value: unknown }).value)).toEqual([false, 'P', 'P0420', -0.5]);
  });

  it('marks backfills with pitwallhistory', () => {
    const [event] = telemetryToEvents({ signals: { [SOH]: 92.5 } }, { ...opts, history: true });
    expect(event?.pitwallhistory).toBe(true);
    expect(telemetryToEvents({ signals: { [SOH]: 92.5 } }, opts)[0]).not.toHaveProperty('pitwallhistory');
  });

  it('ignores unknown top-level members', () => {
    expect(telemetryToEvents({ fw: '2.4.1', signals: { [SOH]: 92.5 } }, opts)).toHaveLength(1);
  });
});

describe('telemetryToEvents: the path/value list', () => {
  it('makes one event per item, with per-item time and unit', () => {
    const events = telemetryToEvents(
      [
        { path: SOH, value: 92.5, unit: 'percent', ts: '2026-01-05T08:00:00Z' },
        { path: 'Vehicle.Speed', value: 87.2, unit: 'km/h', ts: 1767600000000 },
        { path: 'Vehicle.OBD.EngineLoad', value: 40 },
      ],
      opts,
    );
    expect(events.map((e) => e.time)).toEqual(['2026-01-05T08:00:00.000Z', '2026-01-05T08:00:00.000Z', '2026-01-05T09:00:00.000Z']);
    expect(events.map((e) => e.data)).toEqual([
      { signal: SOH, value: 92.5, unit: 'percent', device_id: deviceId },
      { signal: 'Vehicle.Speed', value: 87.2, unit: 'km/h', device_id: deviceId },
      { signal: 'Vehicle.OBD.EngineLoad', value: 40, device_id: deviceId },
    ]);
    expect(events.every((e) => e.subject === deviceId && e.deviceid === deviceId && e.type === 'vehicle.signal')).toBe(true);
    expect(events[1]?.id).toBe(deterministicId(deviceId, 'Vehicle.Speed', 1767600000000, '87.2'));
  });

  it('the same reading in either shape gets the same id', () => {
    const ts = '2026-01-05T08:00:00Z';
    const [fromMap] = telemetryToEvents({ ts, signals: { [SOH]: 92.5 } }, opts);
    const [fromList] = telemetryToEvents([{ path: SOH, value: 92.5, ts }], opts);
    expect(fromList?.id).toBe(fromMap?.id);
  });

  it('a redelivery gives the same ids; another device or time gives different ones', () => {
    const payload = [{ path: SOH, value: 92.5, ts: '2026-01-05T08:00:00Z' }];
    const id = (o: typeof opts) => telemetryToEvents(payload, o)[0]?.id;
    expect(id(opts)).toBe(id({ ...opts }));
    expect(id({ ...opts, deviceId: 'dev_other' })).not.toBe(id(opts));
    expect(telemetryToEvents([{ ...payload[0], ts: '2026-01-05T08:00:01Z' }], opts)[0]?.id).not.toBe(id(opts));
  });
});

describe('telemetryToEvents: errors carry the JSON pointer of the offending field', () => {
  it('rejects payloads that are neither an object nor an array', () => {
    for (const payload of ['{"signals":{}}', 1, null, undefined, true]) expect(pointerOf(payload)).toBe('');
  });

  it('rejects an empty list and a missing, non-object or empty signals map', () => {
    expect(pointerOf([])).toBe('');
    expect(pointerOf({})).toBe('/signals');
    expect(pointerOf({ signals: [] })).toBe('/signals');
    expect(pointerOf({ signals: 'x' })).toBe('/signals');
    expect(pointerOf({ signals: {} })).toBe('/signals');
  });

  it('rejects signal names that are not VSS paths', () => {
    expect(pointerOf({ signals: { Vehicle: 1 } })).toBe('/signals/Vehicle');
    expect(pointerOf({ signals: { 'vehicle.Speed': 1 } })).toBe('/signals/vehicle.Speed');
    expect(pointerOf({ signals: { [SOH]: 1, 'Vehicle.Bad Name': 1 } })).toBe('/signals/Vehicle.Bad Name');
    expect(pointerOf({ signals: { 'Vehicle..Speed': 1 } })).toBe('/signals/Vehicle..Speed');
    expect(pointerOf({ signals: { 'Vehicle/Speed~1': 1 } })).toBe('/signals/Vehicle~1Speed~01');
    expect(pointerOf([{ path: SOH, value: 1 }, { value: 1 }])).toBe('/1/path');
    expect(pointerOf([{ path: 'Speed', value: 1 }])).toBe('/0/path');
  });

  it('rejects values that are not number, string or boolean', () => {
    expect(pointerOf({ signals: { [SOH]: null } })).toBe(`/signals/${SOH}`);
    expect(pointerOf({ signals: { [SOH]: { value: 1 } } })).toBe(`/signals/${SOH}`);
    expect(pointerOf({ signals: { [SOH]: [1] } })).toBe(`/signals/${SOH}`);
    expect(pointerOf({ signals: { [SOH]: Number.POSITIVE_INFINITY } })).toBe(`/signals/${SOH}`);
    expect(pointerOf([{ path: SOH }])).toBe('/0/value');
    expect(
      pointerOf([
        { path: SOH, value: 1 },
        { path: SOH, value: null },
      ]),
    ).toBe('/1/value');
  });

  it('rejects bad timestamps', () => {
    expect(pointerOf({ ts: 'yesterday', signals: { [SOH]: 1 } })).toBe('/ts');
    expect(pointerOf({ ts: '2026-02-30T00:00:00Z', signals: { [SOH]: 1 } })).toBe('/ts');
    expect(pointerOf({ ts: '2026-01-05 09:00:00', signals: { [SOH]: 1 } })).toBe('/ts');
    expect(pointerOf({ ts: -1, signals: { [SOH]: 1 } })).toBe('/ts');
    expect(pointerOf({ ts: 1e20, signals: { [SOH]: 1 } })).toBe('/ts');
    expect(pointerOf({ ts: true, signals: { [SOH]: 1 } })).toBe('/ts');
    expect(pointerOf([{ path: SOH, value: 1, ts: '2026-01-05' }])).toBe('/0/ts');
  });

  it('rejects a bad vin, a bad unit and a non-object item', () => {
    expect(pointerOf({ vin: '', signals: { [SOH]: 1 } })).toBe('/vin');
    expect(pointerOf({ vin: 17, signals: { [SOH]: 1 } })).toBe('/vin');
    expect(pointerOf([{ path: SOH, value: 1, unit: 5 }])).toBe('/0/unit');
    expect(pointerOf([{ path: SOH, value: 1 }, 'Vehicle.Speed'])).toBe('/1');
  });

  it('rejects a missing device id', () => {
    const err = telemetryError(() => telemetryToEvents({ signals: { [SOH]: 1 } }, { ...opts, deviceId: '' }));
    expect(err.pointer).toBeUndefined();
  });
});

describe('parseRfc3339', () => {
  it('parses RFC 3339 date-times with offsets and fractions', () => {
    expect(parseRfc3339('2026-01-05T09:00:00Z')).toBe(NOW_MS);
    expect(parseRfc3339('2026-01-05T10:00:00+01:00')).toBe(NOW_MS);
    expect(parseRfc3339('2026-01-05T04:30:00.000-04:30')).toBe(NOW_MS);
    expect(parseRfc3339('2024-02-29T23:59:59.999Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  });

  it('rejects what Date.parse would wrongly accept', () => {
    for (const s of [
      '2026-02-30T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-00T00:00:00Z',
      '2026-01-05T24:00:00Z',
      '2026-01-05T09:60:00Z',
      '2026-01-05T09:00:00',
      '2026-01-05',
      '2026-01-05T09:00:00+25:00',
      'Mon, 05 Jan 2026 09:00:00 GMT',
    ]) {
      expect(parseRfc3339(s), s).toBeUndefined();
    }
    expect(parseRfc3339(NOW_MS)).toBeUndefined();
  });
});

describe('telemetryToEvents properties', () => {
  const signal = fc
    .array(fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/), { minLength: 1, maxLength: 5 })
    .map((parts) => `Vehicle.${parts.join('.')}`);
  const value = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean());

  it('every generated VSS path is accepted and events are deterministic', () => {
    fc.assert(
      fc.property(fc.dictionary(signal, value, { minKeys: 1, maxKeys: 10 }), fc.integer({ min: 0, max: 4e12 }), (signals, ts) => {
        for (const s of Object.keys(signals)) expect(s).toMatch(VSS_SIGNAL_PATTERN);
        const a = telemetryToEvents({ ts, signals }, opts);
        const b = telemetryToEvents(structuredClone({ ts, signals }), opts);
        expect(b).toEqual(a);
        expect(new Set(a.map((e) => e.id)).size).toBe(Object.keys(signals).length);
      }),
    );
  });
});
