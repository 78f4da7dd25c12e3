/** Numbers, money, rates and times formatted for people (one place, so every page agrees). */

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const money0 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const money2 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

const NONE = '—';
const ok = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

export const fmtInt = (x: number | null | undefined) => (ok(x) ? int.format(x) : NONE);
export const fmtNum = (x: number | null | undefined) => (ok(x) ? dec1.format(x) : NONE);
export const fmtCompact = (x: number | null | undefined) => (ok(x) ? compact.format(x) : NONE);
/** A share 0..1 as a percentage (`0.2134` → `21.3 %`). */
export const fmtPct = (x: number | null | undefined, digits = 1) => (ok(x) ? `${(x * 100).toFixed(digits)} %` : NONE);
/** A difference of shares in percentage points (`0.031` → `+3.1 pp`). */
export const fmtPp = (x: number | null | undefined) => (ok(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} pp` : NONE);
export const fmtMoney = (x: number | null | undefined) => (ok(x) ? (Math.abs(x) >= 1000 ? money0.format(x) : money2.format(x)) : NONE);

/** Minutes of work as hours and minutes (`135` → `2 h 15 min`). */
export function fmtMinutes(x: number | null | undefined): string {
  if (!ok(x)) return NONE;
  const m = Math.round(x);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${int.format(h)} h` : `${int.format(h)} h ${m % 60} min`;
}

/** Milliseconds as a short duration (`93000` → `1 min 33 s`). */
export function fmtDuration(ms: number | null | undefined): string {
  if (!ok(ms)) return NONE;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${dec1.format(s / 86400)} d`;
}

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const dateOnly = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

/** An ISO time or epoch ms as `28 Nov 2026, 14:05 UTC`. */
export function fmtTime(t: string | number | null | undefined): string {
  if (t === null || t === undefined || t === '') return NONE;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? NONE : `${dateTime.format(d)} UTC`;
}

export function fmtDate(t: string | number | null | undefined): string {
  if (t === null || t === undefined || t === '') return NONE;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? NONE : dateOnly.format(d);
}
