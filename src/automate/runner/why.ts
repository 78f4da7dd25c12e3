/**
 * "Why did (or didn't) workflow W act for customer C?", answered from the trace: the latest
 * runs of W for C, each with the trace entries that decided it and one sentence.
 */
import type { Db } from '../../detect/index.ts';
import { canonicalCustomer } from './customer.ts';
import { queuedFor } from './flow.ts';
import { latestRunsFor, type Run, runTrace, type TraceEntry } from './runs.ts';

export interface RunExplanation {
  run: Run;
  /** One sentence: what the run did and why. */
  summary: string;
  /** The entries that decided it: false / failing conditions, policy, holdout, actions, cancel, errors, the pending wait. */
  deciding: TraceEntry[];
}

export interface WhyAnswer {
  workflowId: string;
  identifier: string;
  customerId: string | undefined;
  /** The latest run's summary, or why there is none. */
  answer: string;
  runs: RunExplanation[];
}

function isDeciding(t: TraceEntry): boolean {
  switch (t.kind) {
    case 'condition':
      return t.detail.value !== true;
    case 'policy':
      return t.detail.verdict !== 'allow';
    case 'trigger':
      return false;
    case 'flow':
      return t.detail.decision !== 'allowed';
    case 'wait':
      return t.detail.resumed !== true;
    default:
      return true;
  }
}

const q = (s: unknown) => `\`${String(s)}\``;

export function summarise(run: Run, trace: readonly TraceEntry[]): string {
  const last = <K extends TraceEntry['kind']>(kind: K) => [...trace].reverse().find((t) => t.kind === kind);
  const skipped = trace.filter((t) => t.kind === 'policy' && t.detail.verdict === 'skip');
  const policyNote =
    skipped.length > 0 ? `; the contact policy skipped ${skipped.map((t) => `${t.detail.action} (${t.detail.reason})`).join(', ')}` : '';
  switch (run.status) {
    case 'skipped': {
      const f = last('flow');
      if (f?.detail.decision === 'skipped') return `flow control ${f.detail.control} kept it from starting: ${f.detail.reason}`;
      const c = last('condition');
      if (run.outcome === 'filter_error')
        return `the trigger filter ${q(c?.detail.expression)} failed (${c?.detail.error}), so it did not act`;
      if (c?.detail.error !== undefined)
        return `condition ${q(c.detail.expression)} could not be evaluated (${c.detail.error}), which counts as not met`;
      return `condition ${q(c?.detail.expression)} was false, so it did not act`;
    }
    case 'holdout':
      return `the customer is in the workflow's holdout (${last('holdout')?.detail.percent}%): it would have acted, and did nothing`;
    case 'completed': {
      const acted = trace.filter((t) => t.kind === 'action').map((t) => String(t.detail.action));
      return acted.length > 0 ? `acted: ${acted.join(', ')}${policyNote}` : `finished without acting${policyNote}`;
    }
    case 'waiting': {
      const until = run.wakeAt === undefined ? 'its timer' : new Date(run.wakeAt).toISOString();
      const acted = trace.filter((t) => t.kind === 'action').map((t) => String(t.detail.action));
      const done = acted.length > 0 ? ` after ${acted.join(', ')}` : '';
      return run.wakeKind === 'defer'
        ? `waiting${done}: the contact policy deferred ${last('policy')?.detail.action} until ${until} (${last('policy')?.detail.reason})`
        : `waiting${done} at ${run.stepPath} until ${until}${policyNote}`;
    }
    case 'cancelled': {
      const c = last('cancel')?.detail.event as { type?: string; id?: string } | undefined;
      return `cancelled by ${c?.type} ${c?.id} while waiting`;
    }
    case 'failed': {
      const e = last('error');
      return `failed: ${e?.detail.code ?? 'error'}: ${e?.detail.error ?? 'unknown'}`;
    }
    case 'running':
      return 'running';
  }
}

/** The latest `limit` runs of a workflow for a customer (any identifier), explained. */
export async function explainRuns(db: Db, workflowId: string, identifier: string, limit = 5): Promise<WhyAnswer> {
  const customerId = await canonicalCustomer(db, identifier);
  if (customerId === undefined)
    return {
      workflowId,
      identifier,
      customerId,
      answer: `no customer is known by "${identifier}", so no trigger event was seen for them`,
      runs: [],
    };
  const runs = await latestRunsFor(db, workflowId, customerId, limit);
  const explained: RunExplanation[] = [];
  for (const run of runs) {
    const trace = await runTrace(db, run.id);
    explained.push({ run, summary: summarise(run, trace), deciding: trace.filter(isDeciding) });
  }
  const first = explained[0];
  // A match held back by `concurrency` has no run yet: say so first.
  const queued = (await queuedFor(db, workflowId, customerId))[0];
  const waiting = queued
    ? `a trigger match is queued for a concurrency slot of key "${queued.key}" since ${new Date(queued.queuedAt).toISOString()} (${queued.ahead} ahead of it)`
    : undefined;
  return {
    workflowId,
    identifier,
    customerId,
    answer: waiting ?? (first ? first.summary : 'no trigger event seen for this customer'),
    runs: explained,
  };
}
