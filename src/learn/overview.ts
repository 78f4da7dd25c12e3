/** The overview: one call with the headline of every report (what the dashboard's first page shows). */
import type { Db } from '../detect/index.ts';
import { experienceReport } from './experience.ts';
import { funnelReport } from './funnel.ts';
import { impactReport } from './impact.ts';
import { maturityReport } from './maturity.ts';
import type { DayRange } from './range.ts';
import type { UpliftOptions } from './uplift.ts';
import { type MinutesDefaults, weekOf, workSavedReport } from './work.ts';

export async function overviewReport(db: Db, range: DayRange, opts: UpliftOptions, defaults: MinutesDefaults) {
  const funnel = await funnelReport(db, range, 'none');
  const impact = await impactReport(db, range, opts, defaults);
  const experience = await experienceReport(db, range);
  const maturity = await maturityReport(db, opts.nowMs);
  const thisWeek = weekOf(Math.floor(opts.nowMs / 86_400_000));
  const weekMinutes = await minutesThisWeek(db, thisWeek, opts.nowMs, defaults);
  return {
    from: range.from,
    to: range.to,
    funnel: funnel.totals,
    abandonmentReasons: funnel.abandonmentReasons.reasons.slice(0, 5),
    workSaved: { week: thisWeek, minutes: weekMinutes, inRange: impact.total.minutesSaved },
    experience: experience.totals,
    impact: impact.total,
    workflows: impact.workflows,
    maturity,
  };
}

async function minutesThisWeek(db: Db, week: string, nowMs: number, defaults: MinutesDefaults): Promise<number> {
  const fromMs = Date.parse(`${week}T00:00:00Z`);
  const r = await workSavedReport(db, { from: week, to: new Date(nowMs).toISOString().slice(0, 10), fromMs, toMs: nowMs + 1 }, defaults);
  return r.totalMinutes;
}
