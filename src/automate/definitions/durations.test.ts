import { describe, expect, it } from 'vitest';
import { type CronSpec, isTimeZone, nextCronTime, parseCron, parseDuration } from './durations.ts';

const cron = (e: string) => {
  const s = parseCron(e);
  if (typeof s === 'string') throw new Error(s);
  return s as CronSpec;
};
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('durations', () => {
  it('reads 30m, 2h, 7d, 1w, 500ms and rejects the rest', () => {
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('500ms')).toBe(500);
    for (const bad of ['2 hours', '1h30m', 'h', '-1h', '1.5h', '']) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('cron', () => {
  it('reads fields, ranges, lists, steps, names and macros', () => {
    const s = cron('*/15 7-9 1,15 jan-mar mon-fri');
    expect([...s.minutes]).toEqual([0, 15, 30, 45]);
    expect([...s.hours]).toEqual([7, 8, 9]);
    expect([...s.daysOfMonth]).toEqual([1, 15]);
    expect([...s.months]).toEqual([1, 2, 3]);
    expect([...s.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...cron('@daily').hours]).toEqual([0]);
    expect([...cron('0 0 * * 7').daysOfWeek]).toEqual([0]);
  });

  it('says why an expression is invalid', () => {
    expect(parseCron('* * * *')).toBe('a cron expression has 5 fields (minute hour day-of-month month day-of-week), not 4');
    expect(parseCron('0 24 * * *')).toBe('hour "24" is out of range (0–23)');
    expect(parseCron('0 0 * foo *')).toBe('month "foo" is out of range (1–12)');
    expect(parseCron('0 0 ? * *')).toBe('day of month "?" is not a value, range (1-5), list (1,3) or step (*/15)');
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Europe/Atlantis')).toBe(false);
  });

  it('finds the next firing in a time zone, across the DST changes of Europe/Berlin', () => {
    const daily7 = cron('0 7 * * *');
    expect(iso(nextCronTime(daily7, Date.parse('2026-03-28T07:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-29T05:00:00.000Z'); // CEST from 29 March
    expect(iso(nextCronTime(daily7, Date.parse('2026-03-27T12:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-28T06:00:00.000Z'); // still CET
    // 02:30 does not exist on 29 March 2026 in Berlin: that day is skipped.
    expect(iso(nextCronTime(cron('30 2 * * *'), Date.parse('2026-03-28T12:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-30T00:30:00.000Z');
    // 02:30 happens twice on 25 October 2026: it fires at the first.
    const t1 = nextCronTime(cron('30 2 * * *'), Date.parse('2026-10-24T12:00:00Z'), 'Europe/Berlin');
    expect(iso(t1)).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(nextCronTime(cron('30 2 * * *'), t1 as number, 'Europe/Berlin'))).toBe('2026-10-26T01:30:00.000Z');
    // Weekdays only, UTC by default; day-of-month OR day-of-week when both are given.
    expect(iso(nextCronTime(cron('0 9 * * mon-fri'), Date.parse('2026-01-09T10:00:00Z')))).toBe('2026-01-12T09:00:00.000Z');
    expect(iso(nextCronTime(cron('0 0 13 * fri'), Date.parse('2026-01-01T00:00:00Z')))).toBe('2026-01-02T00:00:00.000Z');
  });
});
