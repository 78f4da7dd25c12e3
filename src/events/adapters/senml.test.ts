import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError, deterministicId } from '../../core/index.ts';
import { type ResolvedRecord, resolveSenml, SENML_VERSION, senmlToEvents, senmlValueKey } from './senml.ts';

const NOW_MS = Date.parse('2026-01-05T09:00:00Z');
const NOW_S = NOW_MS / 1000;

/** Run `fn`, expect a PW_SENML_INVALID AppError, return it. */
function senmlError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    const err = e as AppError;
    expect(err.code).toBe('PW_SENML_INVALID');
    expect(err.status).toBe(400);
    expect(err.category).toBe('user');
    return err;
  }
  throw new Error('expected resolveSenml to throw');
}

const pointerOf = (pack: unknown) => senmlError(() => resolveSenml(pack, NOW_MS)).pointer;

// RFC 8428 §5.1 examples, verbatim (JSON text as in the RFC).
const RFC = {
  /** §5.1.1 Single Datapoint */
  single: '[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]',
  /** §5.1.2 Multiple Datapoints: voltage and current "now" */
  multipleNow: `[
    {"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},
    {"n":"current","u":"A","v":1.2}
  ]`,
  /** §5.1.2 Multiple Datapoints: current at Tue Jun 8 18:01:16.001 UTC 2010 and each second for the previous 5 */
  multipleTimed: `[
    {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
     "bu":"A","bver":5,
     "n":"voltage","u":"V","v":120.1},
    {"n":"current","t":-5,"v":1.2},
    {"n":"current","t":-4,"v":1.3},
    {"n":"current","t":-3,"v":1.4},
    {"n":"current","t":-2,"v":1.5},
    {"n":"current","t":-1,"v":1.6},
    {"n":"current","v":1.7}
  ]`,
  /** §5.1.2 the SensML stream example (the RFC shows it unterminated; closed here) */
  stream: `[
    {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,
     "bu":"%RH","v":21.2},
    {"t":10,"v":21.3},
    {"t":20,"v":21.4},
    {"t":30,"v":21.4},
    {"t":40,"v":21.5},
    {"t":50,"v":21.5},
    {"t":60,"v":21.5},
    {"t":70,"v":21.6},
    {"t":80,"v":21.7}
  ]`,
  /** §5.1.3 Multiple Measurements */
  measurements: `[
    {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,
     "bu":"%RH","v":20},
    {"u":"lon","v":24.30621},
    {"u":"lat","v":60.07965},
    {"t":60,"v":20.3},
    {"u":"lon","t":60,"v":24.30622},
    {"u":"lat","t":60,"v":60.07965},
    {"t":120,"v":20.7},
    {"u":"lon","t":120,"v":24.30623},
    {"u":"lat","t":120,"v":60.07966},
    {"u":"%EL","t":150,"v":98},
    {"t":180,"v":21.2},
    {"u":"lon","t":180,"v":24.30628},
    {"u":"lat","t":180,"v":60.07967}
  ]`,
  /** §5.1.4 Resolved Data: §5.1.3 in resolved form */
  resolved: `[
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067464e+09,
     "v":20},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067464e+09,
     "v":24.30621},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067464e+09,
     "v":60.07965},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067524e+09,
     "v":20.3},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067524e+09,
     "v":24.30622},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067524e+09,
     "v":60.07965},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067584e+09,
     "v":20.7},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067584e+09,
     "v":24.30623},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067584e+09,
     "v":60.07966},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%EL","t":1.320067614e+09,
     "v":98},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067644e+09,
     "v":21.2},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067644e+09,
     "v":24.30628},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067644e+09,
     "v":60.07967}
  ]`,
  /** §5.1.5 Multiple Data Types */
  dataTypes: `[
    {"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
    {"n":"label","vs":"Machine Room"},
    {"n":"open","vb":false},
    {"n":"nfc-reader","vd":"aGkgCg"}
  ]`,
  /** §5.1.6 Collection of Resources */
  collection: `[
    {"bn":"2001:db8::2/","bt":1.320078429e+09,
     "n":"temperature","u":"Cel","v":25.2},
    {"n":"humidity","u":"%RH","v":30},
    {"bn":"2001:db8::1/","n":"temperature","u":"Cel","v":12.3},
    {"n":"humidity","u":"%RH","v":67}
  ]`,
  /** §5.1.7 Setting an Actuator: a thermostat, "now" */
  thermostat: `[
    {"bn":"urn:dev:ow:10e2073a01080063:"},
    {"n":"temp","u":"Cel","v":23.1},
    {"n":"heat","u":"/","v":1},
    {"n":"fan","u":"/","v":0}
  ]`,
  /** §5.1.7 two lights turned on */
  lightsOn: `[
    {"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":1},
    {"n":"2001:db8::4","v":1}
  ]`,
  /** §5.1.7 two lights dimmed now and switched off 100 ms later */
  lightsOff: `[
    {"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":0.5},
    {"n":"2001:db8::4","v":0.5},
    {"n":"2001:db8::3","t":0.1,"v":0},
    {"n":"2001:db8::4","t":0.1,"v":0}
  ]`,
} as const;

const resolve = (json: string) => resolveSenml(JSON.parse(json), NOW_MS);

describe('resolveSenml: RFC 8428 §5.1 examples', () => {
  it('§5.1.1 single datapoint: no time means "now"', () => {
    expect(resolve(RFC.single)).toEqual([{ n: 'urn:dev:ow:10e2073a01080063', u: 'Cel', v: 23.1, t: NOW_S }]);
  });

  it('§5.1.2 multiple datapoints "now": the base name prefixes each name', () => {
    expect(resolve(RFC.multipleNow)).toEqual([
      { n: 'urn:dev:ow:10e2073a01080063:voltage', u: 'V', v: 120.1, t: NOW_S },
      { n: 'urn:dev:ow:10e2073a01080063:current', u: 'A', v: 1.2, t: NOW_S },
    ]);
  });

  it('§5.1.2 multiple datapoints with base time: currents at bt-5…bt in A, voltage in V, chronological', () => {
    const bt = 1.276020076001e9;
    const records = resolve(RFC.multipleTimed);
    expect(records).toEqual([
      { n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', v: 1.2, t: bt - 5 },
      { n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', v: 1.3, t: bt - 4 },
      { n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', v: 1.4, t: bt - 3 },
      { n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', v: 1.5, t: bt - 2 },
      { n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', v: 1.6, t: bt - 1 },
      { n: 'urn:dev:ow:10e2073a0108006:voltage', u: 'V', v: 120.1, t: bt },
      { n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', v: 1.7, t: bt },
    ]);
    expect(records[0]?.t).toBe(1.276020071001e9);
    // a negative t after an absolute base time is still absolute (bt + t ≥ 2^28)
    expect(records.every((r) => r.t > 2 ** 28)).toBe(true);
  });

  it('§5.1.2 SensML stream: base name, unit and time apply to every later record', () => {
    const records = resolve(RFC.stream);
    expect(records).toHaveLength(9);
    expect(records.map((r) => r.t)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80].map((d) => 1.320067464e9 + d));
    expect(records.map((r) => r.v)).toEqual([21.2, 21.3, 21.4, 21.4, 21.5, 21.5, 21.5, 21.6, 21.7]);
    expect(new Set(records.map((r) => r.n))).toEqual(new Set(['urn:dev:ow:10e2073a01080063']));
    expect(new Set(records.map((r) => r.u))).toEqual(new Set(['%RH']));
  });

  it('§5.1.3 multiple measurements resolve to exactly the §5.1.4 resolved data', () => {
    expect(resolve(RFC.measurements)).toEqual(JSON.parse(RFC.resolved));
  });

  it('§5.1.4 resolved data is a fixed point of resolution', () => {
    const once = resolve(RFC.resolved);
    expect(once).toEqual(JSON.parse(RFC.resolved));
    expect(resolveSenml(once, NOW_MS)).toEqual(once);
  });

  it('§5.1.5 multiple data types: v, vs, vb and vd', () => {
    expect(resolve(RFC.dataTypes)).toEqual([
      { n: 'urn:dev:ow:10e2073a01080063:temp', u: 'Cel', v: 23.1, t: NOW_S },
      { n: 'urn:dev:ow:10e2073a01080063:label', vs: 'Machine Room', t: NOW_S },
      { n: 'urn:dev:ow:10e2073a01080063:open', vb: false, t: NOW_S },
      { n: 'urn:dev:ow:10e2073a01080063:nfc-reader', vd: 'aGkgCg', t: NOW_S },
    ]);
  });

  it('§5.1.6 collection of resources: the last record uses the 3rd record’s bn and the 1st record’s bt', () => {
    const t = 1.320078429e9;
    expect(resolve(RFC.collection)).toEqual([
      { n: '2001:db8::2/temperature', u: 'Cel', v: 25.2, t },
      { n: '2001:db8::2/humidity', u: '%RH', v: 30, t },
      { n: '2001:db8::1/temperature', u: 'Cel', v: 12.3, t },
      { n: '2001:db8::1/humidity', u: '%RH', v: 67, t },
    ]);
  });

  it('§5.1.7 setting an actuator: a base-fields-only record sets bn; times are relative to now', () => {
    expect(resolve(RFC.thermostat)).toEqual([
      { n: 'urn:dev:ow:10e2073a01080063:temp', u: 'Cel', v: 23.1, t: NOW_S },
      { n: 'urn:dev:ow:10e2073a01080063:heat', u: '/', v: 1, t: NOW_S },
      { n: 'urn:dev:ow:10e2073a01080063:fan', u: '/', v: 0, t: NOW_S },
    ]);
    // "now" is whatever the caller says it is
    const later = NOW_MS + 90_000;
    expect(resolveSenml(JSON.parse(RFC.thermostat), later).map((r) => r.t)).toEqual([later / 1000, later / 1000, later / 1000]);
  });

  it('§5.1.7 lights on at the same time, and dimmed now then off 100 ms later', () => {
    const bt = 1.320078429e9;
    expect(resolve(RFC.lightsOn)).toEqual([
      { n: '2001:db8::3', u: '/', v: 1, t: bt },
      { n: '2001:db8::4', u: '/', v: 1, t: bt },
    ]);
    expect(resolve(RFC.lightsOff)).toEqual([
      { n: '2001:db8::3', u: '/', v: 0.5, t: bt },
      { n: '2001:db8::4', u: '/', v: 0.5, t: bt },
      { n: '2001:db8::3', u: '/', v: 0, t: bt + 0.1 },
      { n: '2001:db8::4', u: '/', v: 0, t: bt + 0.1 },
    ]);
  });
});

describe('resolveSenml: base values', () => {
  it('adds bv to v and bs to s, and both persist until overridden', () => {
    const records = resolveSenml(
      [
        { bn: 'urn:dev:x:', bt: 1.7e9, bv: 100, bs: 1000, n: 'a', v: 1, s: 5 },
        { n: 'b', v: -2.5 },
        { n: 'c', vs: 'text' },
        { bv: 10, bs: 0, n: 'd', v: 1, s: 2 },
      ],
      NOW_MS,
    );
    expect(records).toEqual([
      { n: 'urn:dev:x:a', v: 101, s: 1005, t: 1.7e9 },
      { n: 'urn:dev:x:b', v: 97.5, s: 1000, t: 1.7e9 },
      { n: 'urn:dev:x:c', vs: 'text', s: 1000, t: 1.7e9 },
      { n: 'urn:dev:x:d', v: 11, s: 2, t: 1.7e9 },
    ]);
  });

  it('a missing v with a base value is the base value (RFC 8428 §4.5.4: missing means zero)', () => {
    expect(
      resolveSenml(
        [
          { bn: 'meter', bv: 42 },
          { n: '1', u: 'W' },
        ],
        NOW_MS,
      ),
    ).toEqual([{ n: 'meter1', u: 'W', v: 42, t: NOW_S }]);
  });

  it('a sum alone is a valid record; bs alone gives a sum', () => {
    expect(resolveSenml([{ n: 'energy', u: 'J', s: 3600 }], NOW_MS)).toEqual([{ n: 'energy', u: 'J', s: 3600, t: NOW_S }]);
    expect(resolveSenml([{ bs: 7, n: 'e' }], NOW_MS)).toEqual([{ n: 'e', s: 7, t: NOW_S }]);
  });

  it('bn, bu and bt can be overridden by later records; an empty bn clears the prefix', () => {
    const records = resolveSenml(
      [
        { bn: 'dev1:', bu: 'Cel', bt: 1.7e9, n: 'a', v: 1 },
        { bn: 'dev2:', n: 'a', v: 2, u: 'K' },
        { bu: 'V', bt: 1.8e9, n: 'b', v: 3 },
        { bn: '', n: 'plain', v: 4 },
      ],
      NOW_MS,
    );
    expect(records).toEqual([
      { n: 'dev1:a', u: 'Cel', v: 1, t: 1.7e9 },
      { n: 'dev2:a', u: 'K', v: 2, t: 1.7e9 },
      { n: 'dev2:b', u: 'V', v: 3, t: 1.8e9 },
      { n: 'plain', u: 'V', v: 4, t: 1.8e9 },
    ]);
  });

  it('the name may be entirely the base name', () => {
    expect(
      resolveSenml(
        [
          { bn: 'urn:dev:ow:10e2073a01080063', t: 1.7e9, v: 1 },
          { t: 1.7e9 + 1, v: 2 },
        ],
        NOW_MS,
      ),
    ).toEqual([
      { n: 'urn:dev:ow:10e2073a01080063', v: 1, t: 1.7e9 },
      { n: 'urn:dev:ow:10e2073a01080063', v: 2, t: 1.7e9 + 1 },
    ]);
  });

  it('passes ut through and keeps bver out of resolved records', () => {
    expect(resolveSenml([{ bver: 10, n: 'a', v: 1, ut: 30 }], NOW_MS)).toEqual([{ n: 'a', v: 1, t: NOW_S, ut: 30 }]);
  });

  it('ignores unknown fields that do not end in "_"', () => {
    expect(resolveSenml([{ n: 'a', v: 1, foo: 'bar', x_y: 1 }], NOW_MS)).toEqual([{ n: 'a', v: 1, t: NOW_S }]);
  });

  it('accepts a single record object', () => {
    expect(resolveSenml({ n: 'a', u: 'Cel', v: 20, t: 1.7e9 }, NOW_MS)).toEqual([{ n: 'a', u: 'Cel', v: 20, t: 1.7e9 }]);
  });

  it('a pack of only base fields resolves to no records', () => {
    expect(resolveSenml([{ bn: 'urn:dev:x:', bt: 1.7e9 }], NOW_MS)).toEqual([]);
  });
});

describe('resolveSenml: time', () => {
  it('t = 0 or absent means now; negative is the past; below 2^28 is relative', () => {
    const records = resolveSenml(
      [
        { n: 'a', v: 1 },
        { n: 'b', v: 2, t: 0 },
        { n: 'c', v: 3, t: -5 },
        { n: 'd', v: 4, t: 20 },
        { n: 'e', v: 5, t: 2 ** 28 - 1 },
      ],
      NOW_MS,
    );
    const byName = Object.fromEntries(records.map((r) => [r.n, r.t]));
    expect(byName).toEqual({ a: NOW_S, b: NOW_S, c: NOW_S - 5, d: NOW_S + 20, e: NOW_S + 2 ** 28 - 1 });
  });

  it('2^28 and above is absolute', () => {
    expect(resolveSenml([{ n: 'a', v: 1, t: 2 ** 28 }], NOW_MS)[0]?.t).toBe(2 ** 28);
  });

  it('relativity is decided after adding bt', () => {
    // a small base time with a small t: relative
    expect(resolveSenml([{ bt: -60, n: 'a', v: 1, t: 10 }], NOW_MS)[0]?.t).toBe(NOW_S - 50);
    // an absolute base time with a negative t: absolute
    expect(resolveSenml([{ bt: 1.7e9, n: 'a', v: 1, t: -10 }], NOW_MS)[0]?.t).toBe(1.7e9 - 10);
    // fractional seconds survive
    expect(resolveSenml([{ n: 'a', v: 1, t: -0.25 }], NOW_MS)[0]?.t).toBe(NOW_S - 0.25);
  });

  it('sorts records chronologically, keeping input order for equal times', () => {
    const records = resolveSenml(
      [
        { bt: 1.7e9, n: 'late', v: 1, t: 10 },
        { n: 'early', v: 2, t: -10 },
        { n: 'same1', v: 3 },
        { n: 'same2', v: 4 },
      ],
      NOW_MS,
    );
    expect(records.map((r) => r.n)).toEqual(['early', 'same1', 'same2', 'late']);
  });

  it('rejects a time outside the representable range', () => {
    expect(pointerOf([{ n: 'a', v: 1, t: 1e300 }])).toBe('/0/t');
    expect(
      pointerOf([
        { bt: 1e300, n: 'a', v: 1 },
        { n: 'b', v: 2 },
      ]),
    ).toBe('/0/bt');
  });
});

describe('resolveSenml: errors carry the JSON pointer of the offending field', () => {
  it('rejects input that is neither an array nor an object', () => {
    for (const input of ['[{"n":"a","v":1}]', 42, null, true, undefined]) {
      expect(pointerOf(input)).toBe('');
    }
  });

  it('rejects an empty pack', () => {
    expect(pointerOf([])).toBe('');
  });

  it('rejects a record that is not an object', () => {
    expect(pointerOf([{ n: 'a', v: 1 }, 7])).toBe('/1');
    expect(pointerOf([[{ n: 'a', v: 1 }]])).toBe('/0');
  });

  it('rejects an unknown must-understand field (label ending in "_")', () => {
    const err = senmlError(() =>
      resolveSenml(
        [
          { n: 'a', v: 1 },
          { n: 'b', v: 2 },
          { n: 'c', v: 3, foo_: 1 },
        ],
        NOW_MS,
      ),
    );
    expect(err.pointer).toBe('/2/foo_');
    expect(err.message).toContain('foo_');
    // RFC 6901 escaping of "~" and "/"
    expect(pointerOf([{ n: 'a', v: 1, 'a/b~c_': true }])).toBe('/0/a~1b~0c_');
    // even on a base-fields-only record
    expect(pointerOf([{ bn: 'x', bt_: 1 }])).toBe('/0/bt_');
  });

  it('rejects a record with no value and no sum', () => {
    expect(
      pointerOf([
        { n: 'a', v: 1 },
        { n: 'b', u: 'V' },
      ]),
    ).toBe('/1/v');
    expect(pointerOf([{ n: 'a', t: 1.7e9 }])).toBe('/0/v');
  });

  it('rejects a record with more than one value field', () => {
    expect(pointerOf([{ n: 'a', v: 1, vs: '1' }])).toBe('/0/vs');
    expect(pointerOf([{ n: 'a', vb: true, vd: 'aGk' }])).toBe('/0/vd');
  });

  it('rejects a missing or empty name', () => {
    expect(pointerOf([{ v: 1 }])).toBe('/0/n');
    expect(pointerOf([{ n: '', v: 1 }])).toBe('/0/n');
    expect(pointerOf({ v: 1 })).toBe('/n');
  });

  it('rejects a name outside the RFC 8428 character set', () => {
    expect(pointerOf([{ n: 'bad name', v: 1 }])).toBe('/0/n');
    expect(pointerOf([{ bn: 'urn:dev:', n: 'temp°C', v: 1 }])).toBe('/0/n');
    expect(pointerOf([{ n: '-leading-dash', v: 1 }])).toBe('/0/n');
    // the base name is at fault when the record has no name of its own
    expect(pointerOf([{ bn: '_dev:' }, { n: 'a', v: 1 }])).toBe('/0/bn');
    expect(pointerOf([{ bn: 'ok:' }, { n: 'a', v: 1 }, { n: 'b c', v: 2 }])).toBe('/2/n');
    expect(pointerOf([{ bn: '_dev' }, { v: 2 }])).toBe('/0/bn');
    expect(pointerOf([{ bn: 'dev one', v: 2 }])).toBe('/0/bn');
  });

  it('rejects a bver that changes within the pack', () => {
    expect(
      pointerOf([
        { bver: 5, n: 'a', v: 1 },
        { bver: 6, n: 'b', v: 2 },
      ]),
    ).toBe('/1/bver');
    // the default version is 10, so a later explicit 5 is a change too
    expect(
      pointerOf([
        { n: 'a', v: 1 },
        { bver: 5, n: 'b', v: 2 },
      ]),
    ).toBe('/1/bver');
    // …but repeating the same version is fine
    expect(
      resolveSenml(
        [
          { bver: 5, n: 'a', v: 1 },
          { bver: 5, n: 'b', v: 2 },
        ],
        NOW_MS,
      ),
    ).toHaveLength(2);
    expect(
      resolveSenml(
        [
          { n: 'a', v: 1 },
          { bver: SENML_VERSION, n: 'b', v: 2 },
        ],
        NOW_MS,
      ),
    ).toHaveLength(2);
  });

  it('rejects a bver newer than 10, or not a positive integer', () => {
    expect(pointerOf([{ bver: 11, n: 'a', v: 1 }])).toBe('/0/bver');
    expect(pointerOf([{ bver: 0, n: 'a', v: 1 }])).toBe('/0/bver');
    expect(pointerOf([{ bver: 5.5, n: 'a', v: 1 }])).toBe('/0/bver');
    expect(pointerOf([{ bver: '10', n: 'a', v: 1 }])).toBe('/0/bver');
  });

  it('rejects fields of the wrong type', () => {
    expect(pointerOf([{ n: 'a', v: '1' }])).toBe('/0/v');
    expect(pointerOf([{ n: 'a', v: null }])).toBe('/0/v');
    expect(pointerOf([{ n: 'a', v: Number.NaN }])).toBe('/0/v');
    expect(pointerOf([{ n: 'a', vb: 'true' }])).toBe('/0/vb');
    expect(pointerOf([{ n: 'a', vs: 1 }])).toBe('/0/vs');
    expect(pointerOf([{ n: 7, v: 1 }])).toBe('/0/n');
    expect(pointerOf([{ n: 'a', v: 1, t: '2026-01-05T09:00:00Z' }])).toBe('/0/t');
    expect(pointerOf([{ n: 'a', v: 1, u: 1 }])).toBe('/0/u');
    expect(pointerOf([{ bn: 1, n: 'a', v: 1 }])).toBe('/0/bn');
    expect(pointerOf([{ bt: '0', n: 'a', v: 1 }])).toBe('/0/bt');
    expect(pointerOf([{ bu: true, n: 'a', v: 1 }])).toBe('/0/bu');
    expect(pointerOf([{ bv: [], n: 'a', v: 1 }])).toBe('/0/bv');
    expect(pointerOf([{ bs: {}, n: 'a', s: 1 }])).toBe('/0/bs');
    expect(pointerOf([{ n: 'a', s: '1' }])).toBe('/0/s');
  });

  it('rejects vd that is not unpadded base64url, and a negative ut', () => {
    expect(pointerOf([{ n: 'a', vd: 'aGk=' }])).toBe('/0/vd');
    expect(pointerOf([{ n: 'a', vd: 'a+b/' }])).toBe('/0/vd');
    expect(pointerOf([{ n: 'a', vd: 'abcde' }])).toBe('/0/vd');
    expect(pointerOf([{ n: 'a', v: 1, ut: -1 }])).toBe('/0/ut');
  });

  it('points into a single record object without an index', () => {
    expect(pointerOf({ n: 'a', v: 'x' })).toBe('/v');
    expect(pointerOf({ n: 'a', v: 1, must_: 1 })).toBe('/must_');
  });
});

describe('senmlToEvents', () => {
  const source = 'mqtt://pitwall/devices/dev_bm12_00417/senml';

  it('makes one sensor.reading CloudEvent per resolved record', () => {
    const events = senmlToEvents(JSON.parse(RFC.multipleTimed), { nowMs: NOW_MS, source, deviceId: 'dev_bm12_00417' });
    expect(events).toHaveLength(7);
    const voltage = events.find((e) => (e.data as ResolvedRecord).n.endsWith('voltage'));
    expect(voltage).toEqual({
      specversion: '1.0',
      id: deterministicId('dev_bm12_00417', 'urn:dev:ow:10e2073a0108006:voltage', 1.276020076001e9, '120.1'),
      source,
      type: 'sensor.reading',
      time: '2010-06-08T18:01:16.001Z',
      subject: 'dev_bm12_00417',
      datacontenttype: 'application/json',
      data: { n: 'urn:dev:ow:10e2073a0108006:voltage', u: 'V', v: 120.1, t: 1.276020076001e9 },
      deviceid: 'dev_bm12_00417',
    });
    expect(events.map((e) => e.time)).toEqual([
      '2010-06-08T18:01:11.001Z',
      '2010-06-08T18:01:12.001Z',
      '2010-06-08T18:01:13.001Z',
      '2010-06-08T18:01:14.001Z',
      '2010-06-08T18:01:15.001Z',
      '2010-06-08T18:01:16.001Z',
      '2010-06-08T18:01:16.001Z',
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(7);
  });

  it('without a device id the subject is the record name and there is no deviceid extension', () => {
    const [event] = senmlToEvents(JSON.parse(RFC.single), { nowMs: NOW_MS, source });
    expect(event?.subject).toBe('urn:dev:ow:10e2073a01080063');
    expect(event).not.toHaveProperty('deviceid');
    expect(event).not.toHaveProperty('pitwallhistory');
    expect(event?.time).toBe('2026-01-05T09:00:00.000Z');
    expect(event?.id).toBe(deterministicId('', 'urn:dev:ow:10e2073a01080063', NOW_S, '23.1'));
  });

  it('marks backfills with pitwallhistory', () => {
    const events = senmlToEvents(JSON.parse(RFC.measurements), { nowMs: NOW_MS, source, deviceId: 'd1', history: true });
    expect(events).toHaveLength(13);
    expect(events.every((e) => e.pitwallhistory === true)).toBe(true);
    expect(senmlToEvents(JSON.parse(RFC.single), { nowMs: NOW_MS, source, history: false })[0]).not.toHaveProperty('pitwallhistory');
  });

  it('a redelivery gives the same ids; another device or another value gives different ones', () => {
    const pack = JSON.parse(RFC.dataTypes);
    const ids = (deviceId?: string) => senmlToEvents(pack, { nowMs: NOW_MS, source, ...(deviceId ? { deviceId } : {}) }).map((e) => e.id);
    expect(ids('d1')).toEqual(ids('d1'));
    expect(ids('d1')).not.toEqual(ids('d2'));
    expect(ids()).not.toEqual(ids('d1'));
    const [a] = senmlToEvents([{ n: 'x', t: 1.7e9, v: 1 }], { nowMs: NOW_MS, source });
    const [b] = senmlToEvents([{ n: 'x', t: 1.7e9, v: 2 }], { nowMs: NOW_MS, source });
    const [c] = senmlToEvents([{ n: 'x', t: 1.7e9, v: 1, s: 9 }], { nowMs: NOW_MS, source });
    expect(new Set([a?.id, b?.id, c?.id]).size).toBe(3);
  });

  it('the value key covers every value type and the sum', () => {
    expect(senmlValueKey({ n: 'a', t: 1, v: 1.5 })).toBe('1.5');
    expect(senmlValueKey({ n: 'a', t: 1, vs: 'on' })).toBe('on');
    expect(senmlValueKey({ n: 'a', t: 1, vb: false })).toBe('false');
    expect(senmlValueKey({ n: 'a', t: 1, vd: 'aGk' })).toBe('aGk');
    expect(senmlValueKey({ n: 'a', t: 1, s: 3 })).toBe('s=3');
    expect(senmlValueKey({ n: 'a', t: 1, v: 2, s: 3 })).toBe('2;s=3');
  });

  it('propagates resolution errors', () => {
    const err = senmlError(() => senmlToEvents([{ n: 'a' }], { nowMs: NOW_MS, source }));
    expect(err.pointer).toBe('/0/v');
  });
});

describe('senmlToEvents properties', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:./_-]{0,24}$/);
  const absoluteTime = fc.double({ min: 2 ** 28, max: 4e9, noNaN: true });
  const relativeTime = fc.double({ min: -86_400, max: 86_400, noNaN: true });
  const value = fc.double({ noNaN: true, noDefaultInfinity: true });
  const record = fc.oneof(
    fc.record({ n: name, t: absoluteTime, v: value }),
    fc.record({ n: name, t: relativeTime, vs: fc.string() }),
    fc.record({ n: name, vb: fc.boolean() }),
    fc.record({ n: name, t: absoluteTime, s: value, u: fc.constantFrom('Cel', 'V', '%RH') }),
  );
  const pack = fc
    .tuple(fc.option(name, { nil: undefined }), fc.array(record, { minLength: 1, maxLength: 20 }))
    .map(([bn, records]) => (bn === undefined ? records : [{ bn: `${bn}:` }, ...records]));
  const opts = fc.record({
    nowMs: fc.integer({ min: 1e12, max: 2e12 }),
    source: fc.constant('test'),
    deviceId: fc.option(fc.stringMatching(/^dev_[a-z0-9]{1,8}$/), { nil: undefined }),
  });

  it('is deterministic: the same pack and options give the same events and ids', () => {
    fc.assert(
      fc.property(pack, opts, (p, o) => {
        const first = senmlToEvents(structuredClone(p), o);
        const second = senmlToEvents(structuredClone(p), o);
        expect(second).toEqual(first);
        expect(second.map((e) => e.id)).toEqual(first.map((e) => e.id));
      }),
    );
  });

  it('distinct (n, t, v) records give distinct ids', () => {
    const key = (r: { n: string; t: number; v: number }) => `${r.n}\u0000${r.t}\u0000${String(r.v)}`;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ n: name, t: absoluteTime, v: value }), { minLength: 1, maxLength: 40, selector: key }),
        fc.option(fc.constant('dev_1'), { nil: undefined }),
        (records, deviceId) => {
          const events = senmlToEvents(records, { nowMs: NOW_MS, source: 'test', ...(deviceId ? { deviceId } : {}) });
          expect(events).toHaveLength(records.length);
          expect(new Set(events.map((e) => e.id)).size).toBe(records.length);
        },
      ),
    );
  });

  it('every event time is a valid ISO timestamp and every record is resolved', () => {
    fc.assert(
      fc.property(pack, opts, (p, o) => {
        for (const e of senmlToEvents(p, o)) {
          const data = e.data as ResolvedRecord;
          expect(new Date(e.time).toISOString()).toBe(e.time);
          expect(data.t).toBeGreaterThanOrEqual(2 ** 28);
          expect(data.n).toMatch(/^[A-Za-z0-9][A-Za-z0-9:./_-]*$/);
        }
      }),
    );
  });
});
