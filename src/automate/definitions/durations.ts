/** Durations (`30m`, `2h`, `7d`, `1w`) and cron expressions as workflows write them. */

const DURATION = /^(\d{1,9})(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30m` → 1,800,000 ms; undefined when malformed. The same format as action parameters (src/act). */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** One cron field: the values it allows. */
export interface CronSpec {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday … 6 (7 is read as 0). */
  daysOfWeek: ReadonlySet<number>;
  /** Whether the day-of-month / day-of-week field was `*` (cron's OR rule applies when both are restricted). */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: { name: string; min: number; max: number; names?: string[]; offset?: number }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, offset: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, offset: 0 },
];

function parseField(text: string, f: (typeof FIELDS)[number]): Set<number> | string {
  const out = new Set<number>();
  const value = (v: string): number | undefined => {
    const i = f.names?.indexOf(v.toLowerCase()) ?? -1;
    if (i >= 0) return i + (f.offset ?? 0);
    return /^\d+$/.test(v) ? Number(v) : undefined;
  };
  for (const part of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return `${f.name} "${part}" is not a value, range (1-5), list (1,3) or step (*/15)`;
    const step = m[3] === undefined ? 1 : Number(m[3]);
    let lo: number | undefined;
    let hi: number | undefined;
    if (m[1] === '*') {
      lo = f.min;
      hi = f.max;
    } else {
      lo = value(m[1] as string);
      hi = m[2] === undefined ? (m[3] === undefined ? lo : f.max) : value(m[2]);
    }
    if (lo === undefined || hi === undefined || lo < f.min || hi > f.max || lo > hi || step < 1)
      return `${f.name} "${part}" is out of range (${f.min}–${f.max})`;
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

/** Parses a 5-field cron expression (or `@daily`-style macro); a string is the reason it is invalid. */
export function parseCron(expr: string): CronSpec | string {
  const text = MACROS[expr.trim().toLowerCase()] ?? expr.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return `a cron expression has 5 fields (minute hour day-of-month month day-of-week), not ${parts.length}`;
  const sets: Set<number>[] = [];
  for (const [i, f] of FIELDS.entries()) {
    const r = parseField(parts[i] as string, f);
    if (typeof r === 'string') return r;
    sets.push(r);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return { minutes, hours, daysOfMonth, months, daysOfWeek, anyDayOfMonth: parts[2] === '*', anyDayOfWeek: parts[4] === '*' };
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function localParts(ms: number, fmt: Intl.DateTimeFormat): { minute: number; hour: number; day: number; month: number; weekday: number } {
  const p: Record<string, string> = {};
  for (const x of fmt.formatToParts(new Date(ms))) p[x.type] = x.value;
  return {
    minute: Number(p.minute),
    hour: Number(p.hour) % 24,
    day: Number(p.day),
    month: Number(p.month),
    weekday: DAYS.indexOf((p.weekday ?? '').slice(0, 3).toLowerCase()),
  };
}

/**
 * The first minute after `afterMs` that `spec` matches in `timeZone` (default UTC), or undefined
 * within two years. Minute by minute over matching days: cheap enough for schedules, exact across
 * DST changes (a skipped local time never fires; a repeated one fires at its first occurrence).
 */
export function nextCronTime(spec: CronSpec, afterMs: number, timeZone = 'UTC'): number | undefined {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    minute: 'numeric',
    hour: 'numeric',
    day: 'numeric',
    month: 'numeric',
    weekday: 'short',
  });
  const dayMatches = (l: { day: number; weekday: number }) => {
    const dom = spec.daysOfMonth.has(l.day);
    const dow = spec.daysOfWeek.has(l.weekday);
    if (spec.anyDayOfMonth || spec.anyDayOfWeek) return (spec.anyDayOfMonth || dom) && (spec.anyDayOfWeek || dow);
    return dom || dow;
  };
  const MINUTE = 60_000;
  const QUARTER = 15 * MINUTE;
  const same = (a: ReturnType<typeof localParts>, b: ReturnType<typeof localParts>) =>
    a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;
  let t = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  const end = afterMs + 2 * 366 * 86_400_000;
  while (t <= end) {
    const l = localParts(t, fmt);
    // Local days and hours change on quarter-hour boundaries of UTC in every current zone.
    if (!spec.months.has(l.month) || !dayMatches(l) || !spec.hours.has(l.hour)) {
      t = Math.floor(t / QUARTER) * QUARTER + QUARTER;
      continue;
    }
    // The second pass through a repeated local time (clocks going back) does not fire again.
    if (spec.minutes.has(l.minute) && !same(localParts(t - 3_600_000, fmt), l)) return t;
    t += MINUTE;
  }
  return undefined;
}
