/** Report query parameters: a UTC day range and simple enums, each failing with `PW_QUERY_INVALID` and a pointer. */
import { AppError } from '../core/index.ts';

export interface DayRange {
  /** `YYYY-MM-DD`, inclusive. */
  from: string;
  /** `YYYY-MM-DD`, inclusive. */
  to: string;
  fromMs: number;
  /** Exclusive: the start of the day after `to`. */
  toMs: number;
}

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function queryInvalid(name: string, message: string): AppError {
  return new AppError('PW_QUERY_INVALID', message, { pointer: `/${name}` });
}

function parseDay(name: string, v: string): number {
  const ms = DAY.test(v) ? Date.parse(`${v}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== v)
    throw queryInvalid(name, `${name} must be a date like 2026-01-31 (UTC), not "${v}"`);
  return ms;
}

/** `from` / `to` (inclusive days); default the `defaultDays` days up to today. */
/**
 * The UTC days a report covers: `from`..`to` inclusive, or the last `days` days up to `to`
 * (default: the last `defaultDays` up to today by the server's clock — which is what a dashboard
 * wants when the clock runs faster than the browser's).
 */
export function dayRange(
  q: { from?: string | undefined; to?: string | undefined; days?: string | undefined },
  nowMs: number,
  defaultDays = 30,
): DayRange {
  const toStart = q.to !== undefined ? parseDay('to', q.to) : Math.floor(nowMs / DAY_MS) * DAY_MS;
  if (q.from !== undefined && q.days !== undefined) throw queryInvalid('days', 'give from or days, not both');
  const days = positiveNumber('days', q.days, defaultDays, 3660);
  if (!Number.isInteger(days)) throw queryInvalid('days', 'days must be a whole number');
  const fromMs = q.from !== undefined ? parseDay('from', q.from) : toStart - (days - 1) * DAY_MS;
  if (fromMs > toStart) throw queryInvalid('from', 'from must not be after to');
  if (toStart - fromMs > 3660 * DAY_MS) throw queryInvalid('from', 'a range may span at most 10 years');
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: iso(fromMs), to: iso(toStart), fromMs, toMs: toStart + DAY_MS };
}

export function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw queryInvalid(name, `${name} must be one of ${allowed.join(', ')}`);
}

export function positiveNumber(name: string, v: string | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw queryInvalid(name, `${name} must be a number above 0 and at most ${max}`);
  return n;
}

export function optionalText(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v.length === 0 || v.length > 200) throw queryInvalid(name, `${name} must be 1 to 200 characters`);
  return v;
}
