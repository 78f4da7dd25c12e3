/**
 * A backtest as the CLI and the API ask for one: workflow text, a window given as RFC 3339 times
 * (or a date, or a duration meaning "that long before now"), the process's executors and policy.
 */
import { AppError } from '../../core/index.ts';
import type { EventLog } from '../../log/index.ts';
import type { ConditionEnvironment } from '../conditions/environment.ts';
import { parseDuration } from '../definitions/durations.ts';
import { invalid } from '../definitions/files.ts';
import type { ExecutorLookup } from '../definitions/types.ts';
import { validateWorkflow } from '../definitions/validate.ts';
import type { ContactPolicySettings } from '../policy/index.ts';
import { policyPurposes } from '../policy/index.ts';
import type { ActionTypes } from '../runner/ports.ts';
import { type BacktestReport, backtestWorkflow } from './backtest.ts';

/** `2026-01-01T00:00:00Z`, `2026-01-01` (UTC midnight) or `7d` (7 days before `nowMs`); `pointer` names the field. */
export function parseBacktestTime(text: string | undefined, nowMs: number, pointer: string): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const t = text.trim();
  const ago = parseDuration(t);
  if (ago !== undefined) return nowMs - ago;
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/i.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new AppError('PW_QUERY_INVALID', `${pointer.slice(1)} must be an RFC 3339 time, a date or a duration ago like 7d, not "${t}"`, {
    pointer,
  });
}

/** The executors' channel and reach, for the runner (a map of Part A executors has them). */
export function actionTypesOf(lookup: ExecutorLookup): ActionTypes {
  return {
    get(type) {
      const e = lookup.get(type) as unknown as { channel?: unknown; reachesCustomer?: unknown } | undefined;
      return e !== undefined && typeof e.channel === 'string' && typeof e.reachesCustomer === 'boolean'
        ? (e as unknown as ReturnType<ActionTypes['get']>)
        : undefined;
    },
  };
}

export interface BacktestRequest {
  text: string;
  file?: string;
  from: string | undefined;
  to: string | undefined;
  nowMs: number;
  log: EventLog;
  environment: ConditionEnvironment;
  executors: ExecutorLookup;
  policy: ContactPolicySettings;
  detectors?: Record<string, unknown>;
}

/** Validates the workflow (422 `PW_WORKFLOW_INVALID` with every problem) and the window, then backtests. */
export async function runBacktest(r: BacktestRequest): Promise<BacktestReport> {
  const fromMs = parseBacktestTime(r.from, r.nowMs, '/from');
  if (fromMs === undefined)
    throw new AppError('PW_QUERY_INVALID', 'from is required (an RFC 3339 time, a date or 7d)', { pointer: '/from' });
  const toMs = parseBacktestTime(r.to, r.nowMs, '/to') ?? r.nowMs;
  if (!(fromMs < toMs)) throw new AppError('PW_QUERY_INVALID', 'from must be before to', { pointer: '/from' });
  const v = validateWorkflow(r.text, {
    ...(r.file !== undefined ? { file: r.file } : {}),
    environment: r.environment,
    executors: r.executors,
    purposes: policyPurposes(r.policy),
  });
  if (!v.definition || v.problems.length > 0) throw invalid(v.problems);
  return backtestWorkflow({
    log: r.log,
    definition: v.definition,
    fromMs,
    toMs,
    eventTypes: r.environment,
    actions: actionTypesOf(r.executors),
    policy: r.policy,
    ...(r.detectors !== undefined ? { detectors: r.detectors } : {}),
  });
}
