/**
 * Wall-clock time in an IANA zone with `Intl.DateTimeFormat` only (no time-zone library):
 * a zone's offset at an instant, and the first instant a local time is reached, across DST
 * gaps (clocks jump forward) and overlaps (a local time happens twice).
 */
const SEC = 1000;
const MIN = 60 * SEC;
const DAY = 24 * 60 * MIN;
const MAX_CACHED = 1000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws a RangeError for an unknown zone. */
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    // Zones come from customer traits too: keep the cache bounded.
    if (formatters.size >= MAX_CACHED) formatters.clear();
    formatters.set(zone, f);
  }
  return f;
}

/** True for a zone `Intl` knows (`Europe/Berlin`, `UTC`, …). */
export function isTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  /** Minutes after local midnight. */
  minuteOfDay: number;
}

function fields(ms: number, zone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const out = { y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0 };
  for (const p of formatter(zone).formatToParts(ms)) {
    if (p.type === 'year') out.y = Number(p.value);
    else if (p.type === 'month') out.mo = Number(p.value);
    else if (p.type === 'day') out.d = Number(p.value);
    else if (p.type === 'hour') out.h = Number(p.value);
    else if (p.type === 'minute') out.mi = Number(p.value);
    else if (p.type === 'second') out.s = Number(p.value);
  }
  return out;
}

/** The local wall time at `ms`, written as if it were UTC epoch ms (so it compares with `Date.UTC(…)`). */
export function localMs(ms: number, zone: string): number {
  const f = fields(ms, zone);
  return Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s) + (((ms % SEC) + SEC) % SEC);
}

export function localTime(ms: number, zone: string): LocalTime {
  const f = fields(ms, zone);
  return { year: f.y, month: f.mo, day: f.d, minuteOfDay: f.h * 60 + f.mi };
}

/**
 * The first instant after `after` at which the zone's clock reads `local` (a wall time as
 * UTC epoch ms); when the clocks skip that time (a DST gap), the instant they jump past it.
 */
export function firstInstantAt(local: number, zone: string, after: number): number {
  // The zone's offsets a day before and after cover any single transition near `local`.
  const a = local - (localMs(local - DAY, zone) - (local - DAY));
  const b = local - (localMs(local + DAY, zone) - (local + DAY));
  const exact = [a, b].filter((t) => t > after && localMs(t, zone) === local);
  if (exact.length > 0) return Math.min(...exact);
  // A gap: the wall clock goes from before `local` straight to after it between lo and hi.
  let lo = Math.max(Math.min(a, b), after);
  let hi = Math.max(a, b, after + SEC);
  while (hi - lo > SEC) {
    const mid = lo + Math.floor((hi - lo) / (2 * SEC)) * SEC;
    if (localMs(mid, zone) >= local) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** When the daily quiet period `[startMinute, endMinute)` (local) that `atMs` falls in ends; undefined when `atMs` is not in one. */
export function quietPeriodEnd(atMs: number, q: { startMinute: number; endMinute: number }, zone: string): number | undefined {
  const t = localTime(atMs, zone);
  const m = t.minuteOfDay;
  const wraps = q.startMinute > q.endMinute;
  const quiet = wraps ? m >= q.startMinute || m < q.endMinute : m >= q.startMinute && m < q.endMinute;
  if (!quiet) return undefined;
  const nextDay = wraps && m >= q.startMinute ? 1 : 0;
  return firstInstantAt(Date.UTC(t.year, t.month - 1, t.day + nextDay) + q.endMinute * MIN, zone, atMs);
}
