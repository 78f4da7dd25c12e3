/** Workflow and run shapes as the API sends them (docs/act/workflows.md, runner.md, backtest.md). */

export interface TriggerSummary {
  kind: 'event' | 'absence' | 'correlation' | 'schedule';
  events?: string[];
  within?: string;
  schedule?: string;
  timezone?: string;
}

export interface WorkflowSummary {
  id: string;
  version: number;
  name: string;
  enabled: boolean;
  source: 'file' | 'api';
  file_path: string | null;
  read_only: boolean;
  trigger: TriggerSummary;
  holdout_percent: number;
  created_at: string;
  created_by: string | null;
}

export interface WorkflowFull extends WorkflowSummary {
  description: string | null;
  source_text: string | null;
  definition: unknown;
}

export interface WorkflowVersion {
  version: number;
  name: string;
  enabled: boolean;
  source: 'file' | 'api';
  file_path: string | null;
  created_at: string;
  created_by: string | null;
}

export interface Problem {
  line: number;
  column: number;
  pointer?: string;
  message: string;
  code: string;
}

export interface Validation {
  valid: boolean;
  problems: Problem[];
  definition?: { id?: string; name?: string };
}

export type RunStatus = 'running' | 'waiting' | 'completed' | 'cancelled' | 'skipped' | 'holdout' | 'failed';

export interface Activity {
  days: number;
  since: string;
  to: string;
  workflows: {
    workflow_id: string;
    runs: number;
    runs_capped: boolean;
    by_status: Partial<Record<RunStatus, number>>;
    last_run: { id: string; status: RunStatus; outcome: string | null; started_at: string } | null;
  }[];
}

export interface RunWire {
  id: string;
  workflow_id: string;
  workflow_version: number;
  customer_id: string | null;
  status: RunStatus;
  outcome: string | null;
  trigger_kind: string;
  trigger_event_ids: string[];
  step_path: string | null;
  wake_at: string | null;
  actions: number;
  started_at: string;
  ended_at: string | null;
}

export interface TraceWire {
  seq: number;
  at: string;
  kind: 'trigger' | 'flow' | 'condition' | 'policy' | 'holdout' | 'action' | 'wait' | 'cancel' | 'error';
  step_path: string | null;
  detail: Record<string, unknown>;
}

export interface WhyWire {
  workflow_id: string;
  customer: string;
  customer_id: string | null;
  answer: string;
  runs: (RunWire & { summary: string; deciding: TraceWire[] })[];
}

export interface BacktestReport {
  workflow: { id: string; name: string };
  from: string;
  to: string;
  events: { folded: number; handled: number };
  runs: { total: number; byStatus: Partial<Record<RunStatus, number>>; byOutcome: Record<string, number> };
  actions: { total: number; byType: Record<string, number> };
  customersReached: number;
  policy: { skips: number; deferrals: number; byCode: Record<string, number> };
  holdouts: number;
}

/** A trigger in a few words: `cart.abandoned`, `a + b within 24h`, `cron 0 7 * * * (UTC)`. */
export function triggerText(t: TriggerSummary): string {
  const ev = t.events ?? [];
  switch (t.kind) {
    case 'event':
      return ev[0] ?? 'an event';
    case 'absence':
      return `${ev[0]}, then no ${ev[1]} within ${t.within}`;
    case 'correlation':
      return `${ev[0]} + ${ev[1]} within ${t.within}`;
    case 'schedule':
      return `schedule ${t.schedule} (${t.timezone ?? 'UTC'})`;
  }
}

export const STATUS_TONE: Record<RunStatus, 'good' | 'bad' | 'warn' | 'neutral'> = {
  completed: 'good',
  waiting: 'neutral',
  running: 'neutral',
  holdout: 'neutral',
  skipped: 'warn',
  cancelled: 'warn',
  failed: 'bad',
};

/** A new workflow to start from: valid as it stands against the built-in catalogue and actions. */
export const NEW_WORKFLOW = `schemaVersion: 1
id: my-workflow
name: My workflow
description: What it does and why.
enabled: false          # start paused; backtest it first
holdout: 10%
trigger:
  event: cart.abandoned
conditions:
  - "cart.value > 50.0"
steps:
  - action: survey.show
    with: { survey: what-stopped-you, placement: exit_intent, cart: "{{ cart.cart_id }}" }
`;
