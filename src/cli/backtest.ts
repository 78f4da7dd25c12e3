/** `pitwall workflows backtest <file> --from --to [--json]`: what a workflow would have done over the stored log. */
import path from 'node:path';
import { builtInExecutors, executorRegistry, parseActSettings } from '../act/index.ts';
import { type BacktestReport, ConditionEnvironment, parsePolicySettings, readWorkflowFile, runBacktest } from '../automate/index.ts';
import { SchemaRegistry } from '../events/index.ts';
import { openEventLog } from '../log/index.ts';
import { withStore } from './context.ts';

const list = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

export function formatBacktest(r: BacktestReport): string[] {
  return [
    `backtest ${r.workflow.id} (${r.workflow.name}), ${r.from} → ${r.to}: ${r.events.folded} events read, ${r.events.handled} in the window`,
    `runs: ${r.runs.total} (${list(r.runs.byStatus)}); outcomes: ${list(r.runs.byOutcome)}`,
    `actions: ${r.actions.total} (${list(r.actions.byType)}); customers reached: ${r.customersReached}`,
    `policy: ${r.policy.skips} skipped, ${r.policy.deferrals} deferred (${list(r.policy.byCode)}); holdouts: ${r.holdouts}`,
    'nothing was sent: the backtest ran in a scratch store',
  ];
}

async function withBuiltIns<T>(fn: (executors: ReturnType<typeof executorRegistry>) => Promise<T>): Promise<T> {
  const built = builtInExecutors(parseActSettings(process.env).settings);
  try {
    return await fn(executorRegistry(built));
  } finally {
    for (const e of built) await e.close?.();
  }
}

export async function workflowsBacktest(file: string, o: { from?: string; to?: string; json?: boolean }): Promise<void> {
  const text = readWorkflowFile(file);
  await withStore(async (store, cfg, clock) => {
    const log = openEventLog(store, clock);
    try {
      const registry = await new SchemaRegistry().load(store.db);
      const report = await withBuiltIns((executors) =>
        runBacktest({
          text,
          file: path.relative(process.cwd(), file) || file,
          from: o.from,
          to: o.to,
          nowMs: clock.now(),
          log,
          environment: new ConditionEnvironment(registry),
          executors,
          policy: parsePolicySettings(cfg.automation.policy),
          ...(cfg.detectors !== undefined ? { detectors: cfg.detectors } : {}),
        }),
      );
      if (o.json) console.log(JSON.stringify(report));
      else for (const line of formatBacktest(report)) console.log(line);
    } finally {
      await log.close();
    }
  });
}
