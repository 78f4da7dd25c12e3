/**
 * `pitwall report <funnel|uplift|work-saved|experience|impact|maturity|overview> [--from --to] [--json]`:
 * the Learn reports from the configured store's rollups (as far as a running Pitwall has folded the
 * log). Needs no server; `--json` prints what `GET /v1/reports/<name>` answers.
 */
import type { Command } from '@commander-js/extra-typings';
import { builtInExecutors, executorRegistry, parseActSettings } from '../act/index.ts';
import type { Config } from '../config/index.ts';
import { AppError } from '../core/index.ts';
import {
  dayRange,
  experienceReport,
  FUNNEL_DIMENSIONS,
  funnelReport,
  impactReport,
  type MinutesDefaults,
  maturityReport,
  minutesDefaultsOf,
  oneOf,
  optionalText,
  overviewReport,
  positiveNumber,
  toWire,
  UPLIFT_DEFAULTS,
  upliftReport,
  workSavedReport,
} from '../learn/index.ts';
import { run, withStore } from './context.ts';

export const REPORTS = ['funnel', 'uplift', 'work-saved', 'experience', 'impact', 'maturity', 'overview'] as const;
type ReportName = (typeof REPORTS)[number];

export interface ReportOptions {
  json?: boolean;
  from?: string;
  to?: string;
  by?: string;
  workflow?: string;
  windowDays?: string;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)} %`);
const num = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ci = (d: { estimate: number; lower: number; upper: number } | null, f: (x: number) => string) =>
  d === null ? '—' : `${f(d.estimate)} (95 % CI ${f(d.lower)} to ${f(d.upper)})`;

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

function minutesDefaults(cfg: Config): MinutesDefaults {
  const act = parseActSettings({ PITWALL_WEBHOOK_ALLOW: cfg.webhookAllow, PITWALL_SMTP_URL: cfg.smtpUrl, PITWALL_MAIL_FROM: cfg.mailFrom });
  const executors = builtInExecutors(act.settings);
  const out = minutesDefaultsOf(executorRegistry(executors));
  for (const e of executors) void e.close?.();
  return out;
}

export async function reportCommand(name: string, o: ReportOptions): Promise<void> {
  if (!(REPORTS as readonly string[]).includes(name))
    throw new AppError('PW_REPORT_UNKNOWN', `unknown report "${name}": one of ${REPORTS.join(', ')}`, { category: 'user' });
  await withStore(async (store, cfg, clock) => {
    const now = clock.now();
    const range = dayRange({ from: o.from, to: o.to }, now);
    const uplift = {
      ...UPLIFT_DEFAULTS,
      windowDays: positiveNumber('window-days', o.windowDays, UPLIFT_DEFAULTS.windowDays, 365),
      workflow: optionalText('workflow', o.workflow),
      nowMs: now,
    };
    const db = store.db;
    let out: string;
    let value: unknown;
    switch (name as ReportName) {
      case 'funnel': {
        const r = await funnelReport(db, range, oneOf('by', o.by, FUNNEL_DIMENSIONS, 'day'));
        value = r;
        const row = (k: string, c: typeof r.totals) => [
          k,
          num(c.views),
          num(c.adds),
          num(c.checkouts),
          num(c.orders),
          pct(c.conversion),
          pct(c.checkoutAbandonment),
          num(c.revenue, 2),
        ];
        out = `Funnel ${r.from} … ${r.to}, by ${r.by}\n${table([
          [r.by, 'views', 'adds', 'checkouts', 'orders', 'conversion', 'checkout abandonment', 'revenue'],
          ...r.rows.map((x) => row(x.key, x)),
          row('total', r.totals),
        ])}\nAbandonment reasons (${r.abandonmentReasons.responses} answers): ${r.abandonmentReasons.reasons.map((x) => `${x.reason} ${pct(x.share)}`).join(', ') || '—'}`;
        break;
      }
      case 'uplift': {
        const r = await upliftReport(db, range, uplift);
        value = r;
        out =
          r.workflows.length === 0
            ? `No workflow runs with a customer between ${r.from} and ${r.to}.`
            : r.workflows
                .map(
                  (w) =>
                    `${w.workflowId}: treated ${w.treated.converted}/${w.treated.customers} (${pct(w.treated.conversion)}), holdout ${w.holdout.converted}/${w.holdout.customers} (${pct(w.holdout.conversion)}), pending ${w.pending}\n` +
                    `  conversion lift ${ci(w.conversionLift, (x) => `${(100 * x).toFixed(1)} pp`)}\n` +
                    `  revenue / customer ${ci(w.revenueLift, (x) => num(x, 2))}\n  ${w.verdict}`,
                )
                .join('\n');
        break;
      }
      case 'work-saved': {
        const r = await workSavedReport(db, range, minutesDefaults(cfg), uplift.workflow);
        value = r;
        out = `Work saved ${r.from} … ${r.to}: ${num(r.totalMinutes)} min (${num(r.totalMinutes / 60, 1)} h) over ${num(r.totalActions)} actions\n${table(
          [
            ['workflow', 'week', 'action', 'actions', 'min each', 'minutes'],
            ...r.rows.map((x) => [x.workflowId, x.week, x.actionType, num(x.actions), num(x.minutesEach, 1), num(x.minutes)]),
          ],
        )}`;
        break;
      }
      case 'experience': {
        const r = await experienceReport(db, range);
        value = r;
        const row = (k: string, s: typeof r.totals) => [k, pct(s.csat), num(s.csatResponses), num(s.nps, 1), num(s.npsResponses)];
        out = table([
          ['', 'CSAT (4–5)', 'answers', 'NPS', 'answers'],
          row('total', r.totals),
          ...r.byPlacement.map((x) => row(`placement ${x.placement}`, x)),
          ...r.byShipmentContext.map((x) => row(`shipment ${x.context}`, x)),
          ...r.byWeek.map((x) => row(`week ${x.week}`, x)),
        ]);
        break;
      }
      case 'impact': {
        const r = await impactReport(db, range, uplift, minutesDefaults(cfg));
        value = r;
        const e = (d: { estimate: number; lower: number; upper: number } | null) => ci(d, (x) => num(x, 1));
        out = `${table([
          ['workflow', 'incremental orders', 'incremental revenue', 'incremental margin', 'minutes saved', 'policy skips'],
          ...r.workflows.map((l) => [
            l.workflowId,
            e(l.incrementalOrders),
            e(l.incrementalRevenue),
            e(l.incrementalMargin),
            num(l.minutesSaved),
            num(l.actionsSkippedByPolicy),
          ]),
          [
            'total',
            e(r.total.incrementalOrders),
            e(r.total.incrementalRevenue),
            e(r.total.incrementalMargin),
            num(r.total.minutesSaved),
            num(r.total.actionsSkippedByPolicy),
          ],
        ])}\n(incremental figures count workflows with enough data; window ${r.windowDays} days)`;
        break;
      }
      case 'maturity': {
        const r = await maturityReport(db, now);
        value = r;
        out = `${r.aspects.map((a) => `${a.aspect.padEnd(18)} ${a.score}/3 ${a.level} — ${a.evidence}${a.nextStep ? `\n${' '.repeat(19)}next: ${a.nextStep}` : ''}`).join('\n')}\noverall ${r.overall.toFixed(2)}/3`;
        break;
      }
      case 'overview': {
        const r = await overviewReport(db, range, uplift, minutesDefaults(cfg));
        value = r;
        out = [
          `Overview ${r.from} … ${r.to}`,
          `conversion ${pct(r.funnel.conversion)} (${num(r.funnel.orders)} orders / ${num(r.funnel.views)} views), checkout abandonment ${pct(r.funnel.checkoutAbandonment)}`,
          `work saved this week ${num(r.workSaved.minutes)} min; CSAT ${pct(r.experience.csat)}, NPS ${num(r.experience.nps, 1)}`,
          `incremental revenue ${ci(r.impact.incrementalRevenue, (x) => num(x, 0))}; maturity ${r.maturity.overall.toFixed(2)}/3`,
        ].join('\n');
        break;
      }
    }
    console.log(o.json ? JSON.stringify(toWire(value), null, 2) : out);
  });
}

export function reportCommands(program: Command): void {
  program
    .command('report')
    .argument('<name>', REPORTS.join(' | '))
    .option('--from <day>', 'first day, YYYY-MM-DD (UTC; default 29 days before --to)')
    .option('--to <day>', 'last day, YYYY-MM-DD (UTC; default today)')
    .option('--by <dimension>', `funnel rows: ${FUNNEL_DIMENSIONS.join(', ')}`)
    .option('--workflow <id>', 'uplift / impact / work saved of one workflow')
    .option('--window-days <n>', 'outcome window after a trigger (default 7)')
    .option('--json', 'print what the API answers')
    .description('Learn reports: funnel, uplift with intervals, work saved, CX, impact ledger, maturity')
    .action((name, o) => run(() => reportCommand(name, o)));
}
