import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Observation, QualityMonitor } from './index.ts';

const T0 = Date.parse('2026-01-05T09:00:00Z');
const SEC = 1000;
const MIN = 60 * SEC;

/** One reading taken at `t` and received 1 s later. */
function reading(source: string, signal: string, value: Observation['value'], t: number, extra: Partial<Observation> = {}): Observation {
  return { source, signal, value, eventTime: t, receivedAt: t + SEC, ...extra };
}

function fix(m: QualityMonitor, source: string, lat: number, lon: number, t: number): void {
  m.observe(reading(source, 'lat', lat, t));
  m.observe(reading(source, 'lon', lon, t));
}

function kinds(m: QualityMonitor, source: string, now: number): string[] {
  return m.score(source, now).flags.map((f) => f.kind);
}

describe('flat line', () => {
  it('a GPS whose position is frozen across 10 fixes is not trusted and degrades with reason flat_line', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 9; i++) fix(m, 'tracker-1', 51.3127, 9.4797, T0 + i * 30 * SEC);
    expect(m.isTrusted('tracker-1', T0 + 5 * MIN)).toBe(true);
    fix(m, 'tracker-1', 51.3127, 9.4797, T0 + 9 * 30 * SEC);
    const now = T0 + 5 * MIN;
    expect(m.isTrusted('tracker-1', now)).toBe(false);
    expect(kinds(m, 'tracker-1', now)).toEqual(['flat_line']);
    const ts = m.transitions(now);
    expect(ts).toHaveLength(1);
    expect(ts[0]).toMatchObject({ type: 'quality.degraded', source: 'tracker-1', score: 50 });
    expect(ts[0]?.reasons[0]).toMatch(/^flat_line: position unchanged across 10 fixes/);
    expect(m.transitions(now)).toEqual([]);

    fix(m, 'tracker-1', 51.32, 9.49, T0 + 6 * MIN);
    expect(m.isTrusted('tracker-1', T0 + 6 * MIN)).toBe(true);
    expect(m.transitions(T0 + 6 * MIN)).toMatchObject([{ type: 'quality.recovered', source: 'tracker-1', score: 100 }]);
  });

  it('a truck driving due east (latitude constant, longitude moving) is not flat-lined', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 20; i++) fix(m, 'truck', 51.3127, 9.4797 + i * 0.01, T0 + i * 30 * SEC);
    expect(kinds(m, 'truck', T0 + 10 * MIN)).toEqual([]);
  });

  it('pairs lat/lon by name prefix, so one frozen VSS location among moving ones is still seen', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 12; i++) {
      const t = T0 + i * 30 * SEC;
      m.observe(reading('car', 'Vehicle.CurrentLocation.Latitude', 48.1, t));
      m.observe(reading('car', 'Vehicle.CurrentLocation.Longitude', 11.5, t));
    }
    const f = m.score('car', T0 + 6 * MIN).flags;
    expect(f.map((x) => x.kind)).toEqual(['flat_line']);
    expect(f[0]?.detail).toContain('Vehicle.CurrentLocation position unchanged across 12 fixes');
  });

  it('flags a numeric sensor stuck at one value but not a signal that is legitimately constant', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 10; i++) {
      m.observe(reading('dongle', 'Vehicle.LowVoltageBattery.CurrentVoltage', 12.6, T0 + i * MIN, { unit: 'V' }));
      m.observe(reading('dongle', 'Vehicle.Powertrain.TractionBattery.StateOfHealth', 81.5, T0 + i * MIN));
    }
    const f = m.score('dongle', T0 + 10 * MIN).flags;
    expect(f).toHaveLength(1);
    expect(f[0]?.detail).toBe('Vehicle.LowVoltageBattery.CurrentVoltage identical 10 times (12.6)');
  });
});

describe('hysteresis', () => {
  it('recovers only at 80, so a score between 60 and 80 after degrading makes no transitions', () => {
    const m = new QualityMonitor({ outcomeWindow: 20 });
    const s = 'tracker-2';
    let t = T0;
    for (let i = 0; i < 10; i++, t += 30 * SEC) fix(m, s, 50, 8, t);
    expect(m.transitions(t).map((x) => x.type)).toEqual(['quality.degraded']);
    // 6 schema rejects in a window of 20: 30% → 30 of 50 points off.
    for (let i = 0; i < 6; i++) m.observe(reading(s, 'lat', 0, t, { rejected: true }));
    const scores: number[] = [];
    const seen: string[] = [];
    for (let i = 1; i <= 12; i++, t += 30 * SEC) {
      fix(m, s, 50 + i * 0.001, 8 + i * 0.001, t);
      scores.push(m.score(s, t).score);
      seen.push(...m.transitions(t).map((x) => `${x.type}@${scores.length}`));
    }
    // While the rejects are still in the window the score sits at 70: not flat, not recovered.
    expect(scores.slice(0, 7)).toEqual([70, 70, 70, 70, 70, 70, 70]);
    expect(scores.at(-1)).toBe(100);
    expect(seen).toHaveLength(1);
    expect(seen).toEqual(['quality.recovered@8']); // 4 rejects left in the window: 80
  });
});

describe('out of range', () => {
  it('flags −60 °C as outside the physical bounds of Cel', () => {
    const m = new QualityMonitor();
    m.observe(reading('coldroom', 'urn:dev:mac:0024befffe804ff1:coldroom_temp', 4.2, T0, { unit: 'Cel' }));
    expect(m.isTrusted('coldroom', T0 + MIN)).toBe(true);
    m.observe(reading('coldroom', 'urn:dev:mac:0024befffe804ff1:coldroom_temp', -60, T0 + MIN, { unit: 'Cel' }));
    const { score, flags } = m.score('coldroom', T0 + 2 * MIN);
    expect(flags.map((f) => f.kind)).toEqual(['out_of_range']);
    expect(flags[0]?.detail).toContain('-60 outside -40…85');
    expect(score).toBe(60);
    expect(m.isTrusted('coldroom', T0 + 2 * MIN)).toBe(false);
    m.observe(reading('coldroom', 'urn:dev:mac:0024befffe804ff1:coldroom_temp', 4.1, T0 + 2 * MIN, { unit: 'Cel' }));
    expect(m.isTrusted('coldroom', T0 + 3 * MIN)).toBe(true);
  });

  it('uses name bounds before unit bounds: SoH 120 % is impossible, a 400 V traction battery is not', () => {
    const m = new QualityMonitor();
    m.observe(reading('ev', 'Vehicle.Powertrain.TractionBattery.CurrentVoltage', 400, T0, { unit: 'V' }));
    expect(kinds(m, 'ev', T0)).toEqual([]);
    m.observe(reading('ev', 'Vehicle.Powertrain.TractionBattery.StateOfHealth', 120, T0, { unit: 'percent' }));
    expect(kinds(m, 'ev', T0)).toEqual(['out_of_range']);
    m.observe(reading('gps', 'lat', 95, T0));
    expect(kinds(m, 'gps', T0)).toEqual(['out_of_range']);
  });
});

describe('spikes', () => {
  const noisy = (i: number) => 4 + 0.1 * Math.sin(i * 1.7);

  it('flags a single spike by robust z-score', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 50; i++) m.observe(reading('s', 'temp', noisy(i), T0 + i * MIN, { unit: 'Cel' }));
    expect(kinds(m, 's', T0 + 50 * MIN)).toEqual([]);
    m.observe(reading('s', 'temp', 25, T0 + 50 * MIN, { unit: 'Cel' }));
    const f = m.score('s', T0 + 51 * MIN).flags;
    expect(f.map((x) => x.kind)).toEqual(['spike']);
    expect(f[0]?.detail).toContain('last: temp = 25');
    expect(m.score('s', T0 + 51 * MIN).score).toBeGreaterThanOrEqual(60);
  });

  it('does not flag a slow drift', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 300; i++) m.observe(reading('s', 'temp', 2 + 0.05 * i + 0.01 * Math.sin(i), T0 + i * MIN, { unit: 'Cel' }));
    expect(kinds(m, 's', T0 + 300 * MIN)).toEqual([]);
  });

  it('does not take floating-point noise for the step of a quantised sensor', () => {
    const m = new QualityMonitor();
    const values = [3.0000000000000004, 3, 4, 3, 3, 4, 3, 3, 4, 3, 4];
    for (const [i, v] of values.entries()) m.observe(reading('s', 'temp', v, T0 + i * MIN, { unit: 'Cel' }));
    expect(kinds(m, 's', T0 + 11 * MIN)).toEqual([]);
  });

  it('does not call a quantised sensor stepping by one unit a spike', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 60; i++) m.observe(reading('s', 'rh', i % 7 === 0 ? 41 : 40, T0 + i * MIN, { unit: '%RH' }));
    m.observe(reading('s', 'rh', 42, T0 + 60 * MIN, { unit: '%RH' }));
    expect(kinds(m, 's', T0 + 60 * MIN)).toEqual([]);
  });
});

describe('staleness', () => {
  it('a source silent past 15 minutes becomes stale on tick and degrades; a new reading recovers it', () => {
    const m = new QualityMonitor();
    m.observe(reading('probe', 'temp', 4, T0, { unit: 'Cel' }));
    m.tick(T0 + 14 * MIN);
    expect(m.transitions(T0 + 14 * MIN)).toEqual([]);
    expect(m.isTrusted('probe', T0 + 14 * MIN)).toBe(true);
    m.tick(T0 + 16 * MIN);
    expect(m.isTrusted('probe', T0 + 16 * MIN)).toBe(false);
    const ts = m.transitions(T0 + 16 * MIN);
    expect(ts).toMatchObject([{ type: 'quality.degraded', source: 'probe', score: 50, at: T0 + 16 * MIN }]);
    expect(ts[0]?.reasons[0]).toMatch(/^stale: nothing for 16 min/);
    m.observe(reading('probe', 'temp', 4.1, T0 + 17 * MIN, { unit: 'Cel' }));
    expect(m.transitions(T0 + 17 * MIN).map((x) => x.type)).toEqual(['quality.recovered']);
  });

  it('uses the window of the source kind', () => {
    const m = new QualityMonitor({ staleAfterMs: { gps: 5 * MIN } });
    fix(m, 'tracker', 50, 8, T0);
    m.observe(reading('probe', 'temp', 4, T0, { unit: 'Cel' }));
    expect(kinds(m, 'tracker', T0 + 7 * MIN)).toEqual(['stale']);
    expect(kinds(m, 'probe', T0 + 7 * MIN)).toEqual([]);
  });

  it('an unknown source is stale, scores 0 and is not trusted', () => {
    const m = new QualityMonitor();
    expect(m.score('nobody', T0)).toMatchObject({ score: 0, flags: [{ kind: 'stale' }] });
    expect(m.isTrusted('nobody', T0)).toBe(false);
  });
});

describe('clock skew', () => {
  it('flags event time 10 minutes ahead of receive time, but not 1 minute', () => {
    const m = new QualityMonitor();
    m.observe({ source: 'a', signal: 'temp', value: 4, eventTime: T0 + MIN, receivedAt: T0 });
    expect(kinds(m, 'a', T0)).toEqual([]);
    m.observe({ source: 'b', signal: 'temp', value: 4, eventTime: T0 + 10 * MIN, receivedAt: T0 });
    const f = m.score('b', T0).flags;
    expect(f.map((x) => x.kind)).toEqual(['clock_skew']);
    expect(f[0]?.detail).toContain('ahead by 10 min');
  });

  it('a reading stamped in the future does not freeze the sequence for later readings', () => {
    const m = new QualityMonitor();
    m.observe({ source: 'a', signal: 'temp', value: 4, unit: 'Cel', eventTime: T0 + 24 * 60 * MIN, receivedAt: T0 });
    m.observe(reading('a', 'temp', -60, T0 + MIN, { unit: 'Cel' }));
    expect(kinds(m, 'a', T0 + 2 * MIN)).toContain('out_of_range');
  });
});

describe('duplicate and reject rates', () => {
  function run(every: number, flag: 'duplicate' | 'rejected'): { score: number; kinds: string[] } {
    const m = new QualityMonitor();
    for (let i = 0; i < 100; i++) {
      m.observe(reading('s', 'temp', 4 + (i % 5) * 0.1, T0 + i * SEC, every > 0 && i % every === 0 ? { [flag]: true } : {}));
    }
    const r = m.score('s', T0 + 100 * SEC);
    return { score: r.score, kinds: r.flags.map((f) => f.kind) };
  }

  it('scores a clean source 100', () => {
    expect(run(0, 'duplicate')).toEqual({ score: 100, kinds: [] });
  });

  it('25 % duplicates take 25 points off; 50 % make the source degraded', () => {
    expect(run(4, 'duplicate')).toEqual({ score: 75, kinds: ['duplicates'] });
    expect(run(2, 'duplicate')).toEqual({ score: 50, kinds: ['duplicates'] });
  });

  it('25 % schema rejects take 25 points off; 50 % make the source degraded', () => {
    expect(run(4, 'rejected')).toEqual({ score: 75, kinds: ['rejects'] });
    expect(run(2, 'rejected')).toEqual({ score: 50, kinds: ['rejects'] });
  });

  it('duplicates are not counted as identical readings', () => {
    const m = new QualityMonitor();
    m.observe(reading('s', 'temp', 4, T0));
    for (let i = 0; i < 20; i++) m.observe(reading('s', 'temp', 4, T0, { duplicate: true }));
    expect(kinds(m, 's', T0)).toEqual(['duplicates']);
  });
});

describe('out-of-order observations', () => {
  it('late fixes repeating an old position neither fake a flat line nor move time back', () => {
    const m = new QualityMonitor();
    for (let i = 0; i < 5; i++) fix(m, 'tr', 50 + i * 0.01, 8 + i * 0.01, T0 + 10 * MIN + i * 30 * SEC);
    // The same old fix redelivered late 12 times, received well before the newest.
    for (let i = 0; i < 12; i++) {
      m.observe({ source: 'tr', signal: 'lat', value: 50, eventTime: T0, receivedAt: T0 + 30 * SEC });
      m.observe({ source: 'tr', signal: 'lon', value: 8, eventTime: T0, receivedAt: T0 + 30 * SEC });
    }
    const now = T0 + 20 * MIN;
    expect(kinds(m, 'tr', now)).toEqual([]);
    expect(m.isTrusted('tr', now)).toBe(true);
    // The next in-order fix continues from the newest, not from the late one.
    fix(m, 'tr', 50.04, 8.04, T0 + 13 * MIN);
    expect(kinds(m, 'tr', T0 + 13 * MIN)).toEqual([]);
  });

  const value = fc.oneof(fc.constantFrom(4, 4, 4, -60, 25), fc.double({ min: 3, max: 5, noNaN: true }));

  it('inserting late readings anywhere leaves flat_line, out_of_range, spike and stale unchanged (property)', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), value), { maxLength: 20 }),
        fc.nat({ max: 40 * MIN }),
        (inOrder, late, after) => {
          const a = new QualityMonitor();
          const b = new QualityMonitor();
          const obs = inOrder.map((v, i) => reading('s', 'temp', v, T0 + (i + 1) * MIN, { unit: 'Cel' }));
          const mixed: Observation[] = [...obs];
          for (const [pos, v] of late) {
            // After the first in-order reading: a reading before any other is not late.
            const at = 1 + (pos % mixed.length);
            const prior = mixed.slice(0, at).reduce((mx, o) => Math.max(mx, o.receivedAt), T0);
            mixed.splice(at, 0, { source: 's', signal: 'temp', value: v, unit: 'Cel', eventTime: T0 - MIN, receivedAt: prior });
          }
          for (const o of obs) a.observe(o);
          for (const o of mixed) b.observe(o);
          const now = T0 + inOrder.length * MIN + after;
          const watched = (m: QualityMonitor) => kinds(m, 's', now).filter((k) => k !== 'clock_skew');
          expect(watched(b)).toEqual(watched(a));
        },
      ),
    );
  });
});

describe('score', () => {
  const observation = fc.record({
    source: fc.constantFrom('a', 'b', 'c'),
    signal: fc.constantFrom('lat', 'lon', 'temp', 'Vehicle.Speed', 'x'),
    value: fc.oneof(fc.double(), fc.constantFrom(0, 1, 50, 50, 50), fc.string({ maxLength: 3 }), fc.boolean()),
    unit: fc.option(fc.constantFrom('Cel', 'V', '%', 'km/h'), { nil: undefined }),
    eventTime: fc.integer({ min: T0 - 120 * MIN, max: T0 + 120 * MIN }),
    receivedAt: fc.integer({ min: T0, max: T0 + 60 * MIN }),
    duplicate: fc.boolean(),
    rejected: fc.boolean(),
  });

  it('is always an integer within 0..100, and transitions alternate per source (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(observation, fc.boolean())), fc.nat({ max: 120 * MIN }), (steps, later) => {
        const m = new QualityMonitor({ outcomeWindow: 10, flatLineCount: 3 });
        const last = new Map<string, string>();
        const check = (now: number) => {
          for (const t of m.transitions(now)) {
            expect(t.type).not.toBe(last.get(t.source) ?? 'quality.recovered');
            last.set(t.source, t.type);
          }
          for (const src of ['a', 'b', 'c']) {
            const { score } = m.score(src, now);
            expect(Number.isInteger(score)).toBe(true);
            expect(score).toBeGreaterThanOrEqual(0);
            expect(score).toBeLessThanOrEqual(100);
            if (m.isTrusted(src, now)) expect(score).toBeGreaterThanOrEqual(60);
          }
        };
        for (const [o, drain] of steps) {
          m.observe(o);
          if (drain) check(o.receivedAt);
        }
        m.tick(T0 + 60 * MIN + later);
        check(T0 + 60 * MIN + later);
      }),
    );
  });
});

describe('memory', () => {
  it('keeps at most maxSignalsPerSource signals, forgetting the least recently updated', () => {
    const m = new QualityMonitor({ maxSignalsPerSource: 4 });
    for (let i = 0; i < 10; i++) m.observe(reading('s', 'stuck', 7, T0 + i * SEC));
    expect(kinds(m, 's', T0 + 10 * SEC)).toEqual(['flat_line']);
    for (let i = 0; i < 4; i++) m.observe(reading('s', `other${i}`, i, T0 + 20 * SEC));
    expect(kinds(m, 's', T0 + 20 * SEC)).toEqual([]);
  });

  it('forgets sources silent past forgetAfterMs on tick', () => {
    const m = new QualityMonitor({ forgetAfterMs: 60 * MIN });
    m.observe(reading('s', 'temp', 4, T0));
    m.tick(T0 + 30 * MIN);
    expect(m.sources()).toEqual(['s']);
    m.tick(T0 + 62 * MIN);
    expect(m.sources()).toEqual([]);
  });

  it('rejects settings that cannot work', () => {
    expect(() => new QualityMonitor({ flatLineCount: 1 })).toThrow(RangeError);
    expect(() => new QualityMonitor({ degradedBelow: 90, recoveredAt: 80 })).toThrow(RangeError);
  });
});
