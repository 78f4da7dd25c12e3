import { describe, expect, it } from 'vitest';
import { DEFAULT_REJECT_SETTLE_MS, parseQualitySettings, QualityMonitor } from './index.ts';

const MIN = 60_000;

describe('detectors.quality settings', () => {
  it('applies the defaults when the section is absent', () => {
    expect(parseQualitySettings(undefined)).toEqual({ monitor: {}, rejectSettleMs: DEFAULT_REJECT_SETTLE_MS });
  });

  it('maps the YAML names to monitor options, with per-kind stale windows and source kinds', () => {
    const s = parseQualitySettings({
      flat_line_count: 5,
      stale_after_minutes: { default: 20, gps: 5 },
      source_kinds: [{ match: '^probe-', kind: 'gps' }],
      skew_tolerance_seconds: 30,
      bounds: { units: { Cel: { min: -30, max: 60 } }, names: [{ pattern: 'coldroom', min: -25, max: 10, label: 'cold room' }] },
      weights: { stale: 70 },
      reject_settle_seconds: 0,
    });
    expect(s.rejectSettleMs).toBe(0);
    expect(s.monitor).toMatchObject({
      flatLineCount: 5,
      staleAfterMs: { default: 20 * MIN, gps: 5 * MIN },
      skewToleranceMs: 30_000,
      weights: { stale: 70 },
    });
    const m = new QualityMonitor(s.monitor);
    const T = Date.parse('2026-01-05T09:00:00Z');
    m.observe({ source: 'probe-1', signal: 'coldroom_temp', value: 12, unit: 'Cel', eventTime: T, receivedAt: T });
    expect(m.staleAt('probe-1')).toBe(T + 5 * MIN + 1); // kind gps, by the source pattern
    expect(m.score('probe-1', T).flags.map((f) => f.kind)).toEqual(['out_of_range']); // the name bound wins
  });

  it.each([
    [{ flat_line_count: 1 }, 'detectors.quality.flat_line_count: must be an integer ≥ 2'],
    [{ degraded_below: 90, recovered_at: 80 }, /^detectors\.quality\.degraded_below: /],
    [{ stale_afer_minutes: 5 }, /^detectors\.quality\.stale_afer_minutes: unknown setting/],
    [{ stale_after_minutes: { gps: 0 } }, 'detectors.quality.stale_after_minutes.gps: must be a number of minutes > 0'],
    [{ source_kinds: [{ match: '(', kind: 'gps' }] }, /^detectors\.quality\.source_kinds\[0\]\.match: is not a valid regular expression/],
    [{ weights: { loud: 3 } }, /^detectors\.quality\.weights\.loud: unknown flag kind/],
    [
      { bounds: { units: { Cel: { min: 5, max: 1 } } } },
      'detectors.quality.bounds.units.Cel: must be { min: <number>, max: <number> } with min ≤ max',
    ],
    ['fast', 'detectors.quality: expected an object of settings'],
  ])('rejects %j with PW_CONFIG_INVALID naming the field', (raw, message) => {
    let caught: unknown;
    try {
      parseQualitySettings(raw);
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'PW_CONFIG_INVALID' });
    const text = (caught as Error).message;
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  });
});
