import { describe, expect, it } from 'vitest';
import { conditionalQuantile, distanceM, lognormalConditionalQuantile, normalCdf, normalQuantile, quantile } from './quantiles.ts';
import { parseShipmentSettings } from './settings.ts';

describe('quantiles', () => {
  // Hand-checked (type 7): n = 10, P50 at h = 4.5 → 28 + 0.5·(30 − 28) = 29; P90 at h = 8.1 → 36 + 0.1·(60 − 36) = 38.4.
  const sample = [60, 20, 34, 22, 28, 24, 36, 26, 30, 32];

  it('interpolates between order statistics like R and NumPy (type 7)', () => {
    expect(quantile(sample, 0.5)).toBeCloseTo(29, 10);
    expect(quantile(sample, 0.9)).toBeCloseTo(38.4, 10);
    expect(quantile(sample, 0)).toBe(20);
    expect(quantile(sample, 1)).toBe(60);
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([], 0.5)).toBeUndefined();
  });

  it('conditions on the elapsed time: only longer transits count, so a late shipment predicts later', () => {
    // T > 33 → {34, 36, 60}: P50 = 36, P90 at h = 1.8 → 36 + 0.8·24 = 55.2.
    expect(conditionalQuantile(sample, 33, 0.5)).toEqual({ value: 36, n: 3 });
    expect(conditionalQuantile(sample, 33, 0.9).value).toBeCloseTo(55.2, 10);
    expect(conditionalQuantile(sample, 0, 0.5)).toEqual({ value: 29, n: 10 });
    expect(conditionalQuantile(sample, 60, 0.5)).toEqual({ value: undefined, n: 0 });
  });

  it('reads a P50/P90 prior as a log-normal and conditions it on the elapsed time', () => {
    expect(lognormalConditionalQuantile(24, 36, 0, 0.5)).toBeCloseTo(24, 4);
    expect(lognormalConditionalQuantile(24, 36, 0, 0.9)).toBeCloseTo(36, 3);
    const late50 = lognormalConditionalQuantile(24, 36, 30, 0.5);
    expect(late50).toBeGreaterThan(30);
    expect(lognormalConditionalQuantile(24, 36, 30, 0.9)).toBeGreaterThan(late50);
    expect(lognormalConditionalQuantile(24, 24, 10, 0.9)).toBe(24);
    expect(lognormalConditionalQuantile(24, 24, 30, 0.9)).toBe(30);
  });

  it('has a normal CDF and quantile that invert each other', () => {
    for (const p of [0.001, 0.02, 0.1, 0.5, 0.9, 0.975, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655446004, 8);
  });

  it('measures great-circle distances', () => {
    expect(distanceM(53.55, 9.99, 53.55, 9.99)).toBe(0);
    // Hamburg → Munich ≈ 612 km.
    expect(distanceM(53.5511, 9.9937, 48.1351, 11.582) / 1000).toBeCloseTo(612, -1);
  });
});

describe('detectors.shipments settings', () => {
  it('applies documented defaults', () => {
    const s = parseShipmentSettings(undefined);
    expect(s).toMatchObject({ lateAfterMs: 2 * 3_600_000, stallMs: 6 * 3_600_000, minSample: 5, window: 500, recheckMs: 3_600_000 });
    expect(s.limits).toEqual({ shock: { max: 10 }, temperature: { min: 2, max: 8 } });
  });

  it('reads overrides, per carrier and per kind', () => {
    const s = parseShipmentSettings({
      late_after_hours: 3,
      carriers: { dhl: { late_after_hours: 4, stall_hours: 8 } },
      limits: { temperature: { max: 25 }, humidity: { max: 80 }, shock: null },
      last_mile: { p50_hours: 3 },
    });
    expect(s.lateAfterMs).toBe(3 * 3_600_000);
    expect(s.carriers.dhl).toEqual({ lateAfterMs: 4 * 3_600_000, stallMs: 8 * 3_600_000 });
    expect(s.limits).toEqual({ temperature: { min: undefined, max: 25 }, humidity: { min: undefined, max: 80 } });
    expect(s.lastMileP50Ms).toBe(3 * 3_600_000);
    expect(s.lastMileP90Ms).toBe(8 * 3_600_000);
  });

  it.each([
    [{ late_after_hours: -1 }, 'detectors.shipments.late_after_hours: must be at least 0'],
    [{ stall_hours: 'six' }, 'detectors.shipments.stall_hours: must be a number'],
    [{ min_sample: 2.5 }, 'detectors.shipments.min_sample: must be an integer'],
    [{ stall_hour: 6 }, 'detectors.shipments.stall_hour: unknown setting'],
    [{ limits: { shock: { min: 5, max: 1 } } }, 'detectors.shipments.limits.shock: min must not be above max'],
    [{ limits: { vibration: { max: 1 } } }, 'detectors.shipments.limits.vibration: unknown setting'],
    [{ carriers: { dhl: { stall_hours: 0 } } }, 'detectors.shipments.carriers.dhl.stall_hours: must be greater than 0'],
    [{ last_mile: { p50_hours: 5, p90_hours: 4 } }, 'detectors.shipments.last_mile.p90_hours: must not be below p50_hours'],
    [[1], 'detectors.shipments: must be an object'],
  ])('rejects %j with PW_CONFIG_INVALID naming the field', (raw, message) => {
    expect(() => parseShipmentSettings(raw)).toThrow(
      expect.objectContaining({ code: 'PW_CONFIG_INVALID', message: expect.stringContaining(message) }),
    );
  });
});
