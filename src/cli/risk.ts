/**
 * `pitwall risk run <scenario.yaml>`: simulates a scenario file (over the default scenario),
 * compares the standard what-ifs (or `--no-compare`), optionally with a tornado and
 * recommendations; a progress bar on stderr, a table or `--json` on stdout. Needs no server.
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { AppError } from '../core/index.ts';
import {
  compareScenarios,
  parseScenarioText,
  type RiskSummary,
  recommend,
  type Scenario,
  simulate,
  standardWhatIfs,
  tornado,
} from '../plan/index.ts';
import { run } from './context.ts';

export interface RiskRunOptions {
  json?: boolean;
  compare?: boolean;
  tornado?: boolean;
  recommend?: boolean;
  threads?: string;
  paths?: string;
  seed?: string;
}

const money = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    const w = 30;
    const f = Math.round((done / total) * w);
    process.stderr.write(
      `\r${label} [${'#'.repeat(f)}${'-'.repeat(w - f)}] ${Math.round((100 * done) / total)} %${done === total ? '\n' : ''}`,
    );
  };
}

function summaryRows(name: string, s: RiskSummary): string[] {
  return [
    name,
    pct(s.liquidityAtRisk.probability.value),
    s.liquidityAtRisk.medianFirstBreachDay === null ? '—' : String(s.liquidityAtRisk.medianFirstBreachDay),
    `${money(s.grossMarginTotal.value)} ± ${money(s.grossMarginTotal.se)}`,
    money(s.marginAtRisk95),
    money(s.expectedShortfall95.value),
    money(s.endCash.p5),
    money(s.endCash.p50),
  ];
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

function intOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new AppError('PW_RISK_SCENARIO', `--${name} must be a positive integer`);
  return n;
}

export async function riskRun(file: string, o: RiskRunOptions): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AppError('PW_RISK_SCENARIO', `cannot read ${file}: ${(e as Error).message}`);
  }
  let s: Scenario = parseScenarioText(text);
  const paths = intOpt(o.paths, 'paths');
  const seed = o.seed === undefined ? undefined : Number(o.seed);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0))
    throw new AppError('PW_RISK_SCENARIO', '--seed must be a non-negative integer');
  s = parseScenarioText(JSON.stringify({ ...(paths !== undefined ? { paths } : {}), ...(seed !== undefined ? { seed } : {}) }), s);
  const threads = Math.min(8, intOpt(o.threads, 'threads') ?? 2);
  const opts = { threads, ...(o.json ? {} : { onProgress: progressBar(s.name) }) };
  const out: Record<string, unknown> = {};
  if (o.compare === false) out.result = await simulate(s, opts);
  else out.comparison = await compareScenarios(s, standardWhatIfs(s), opts);
  if (o.tornado) out.tornado = await tornado(s, { threads });
  if (o.recommend) out.recommendations = await recommend(s, { threads });
  if (o.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const head = ['scenario', 'P(cash<floor)', 'breach day', 'gross margin ± se', 'MaR95', 'ES95', 'end cash P5', 'end cash P50'];
  const rows = [head];
  const r = out.result as Awaited<ReturnType<typeof simulate>> | undefined;
  const c = out.comparison as Awaited<ReturnType<typeof compareScenarios>> | undefined;
  if (r) rows.push(summaryRows(r.scenario, r.summary));
  if (c) {
    rows.push(summaryRows(c.base.scenario, c.base.summary));
    for (const x of c.scenarios) rows.push(summaryRows(x.result.scenario, x.result.summary));
  }
  console.log(`${s.paths} paths × ${s.horizonDays} days, seed ${s.seed}, floor ${money(s.cash.floor)}\n`);
  console.log(table(rows));
  const t = out.tornado as Awaited<ReturnType<typeof tornado>> | undefined;
  if (t) {
    console.log('\ntornado (expected contribution at P10 / P90 of each input)');
    console.log(
      table([
        ['input', 'low', 'high', 'swing'],
        ...t.bars.map((b) => [b.input, money(b.low.contribution), money(b.high.contribution), money(b.swing)]),
      ]),
    );
  }
  const rec = out.recommendations as Awaited<ReturnType<typeof recommend>> | undefined;
  if (rec) {
    console.log(`\nrecommendations (max P(cash<floor) ${pct(rec.maxLiquidityAtRisk)}; proposed ${pct(rec.proposed.liquidityAtRisk)})`);
    console.log(
      table([
        ['category', 'marketing/day', 'discount', 'effect ± se', 'P5 change', 'P(cash<floor)'],
        ...rec.recommendations.map((x) => [
          x.category,
          `${money(x.marketingPerDay.from)} → ${money(x.marketingPerDay.to)}`,
          `${pct(x.discount.from)} → ${pct(x.discount.to)}`,
          `${money(x.expectedEffect.value)} ± ${money(x.expectedEffect.se)}`,
          money(x.downsideP5Delta),
          pct(x.liquidityAtRisk),
        ]),
      ]),
    );
  }
}

export function riskCommands(program: Command): void {
  const risk = program.command('risk').description('Monte Carlo cash flow and margin risk (see docs/plan.md)');
  risk
    .command('run')
    .argument('<scenario>', 'scenario file (YAML or JSON) over the default scenario')
    .option('--json', 'one JSON object on stdout')
    .option('--no-compare', 'only this scenario, without the standard what-ifs')
    .option('--tornado', 'add a tornado of the inputs')
    .option('--recommend', 'add marketing / discount recommendations')
    .option('--threads <n>', 'worker threads', '2')
    .option('--paths <n>', 'override the scenario’s paths')
    .option('--seed <n>', 'override the scenario’s seed')
    .action((file, o) => run(() => riskRun(file, o)));
}
