/**
 * Risk API answers (docs/plan.md), snake_case as sent. Tolerant: the plan domain is still
 * changing, so everything a page can live without is optional.
 */
import type { FanBand } from './risk-fan.tsx';

export interface Estimate {
  value: number;
  se?: number;
}
export type Spread = Estimate & { p5?: number; p50?: number; p95?: number };

export interface RiskSummary {
  paths: number;
  horizon_days: number;
  floor: number;
  cash: FanBand[];
  gross_margin: FanBand[];
  liquidity_at_risk: { probability: Estimate; median_first_breach_day?: number | null; cumulative_by_day?: number[] };
  gross_margin_total?: Spread;
  contribution_total?: Spread;
  margin_at_risk95?: number | null;
  expected_shortfall95?: Estimate | null;
  revenue_total?: Estimate;
  min_cash_p5?: number | null;
  credit_drawn_p95?: number | null;
  end_cash?: Spread;
}

export interface SimulateAnswer {
  scenario: string;
  seed: number;
  seconds?: number;
  estimated?: Record<string, unknown>;
  summary: RiskSummary;
  parameters?: { pointer: string; value: number; sd: number; source: string; n: number }[];
}

export interface Difference {
  value: number;
  se?: number;
}

export interface TornadoBar {
  input: string;
  low: { contribution: number; liquidity_at_risk: number };
  high: { contribution: number; liquidity_at_risk: number };
  swing: number;
}

export interface Recommendation {
  id: string;
  scenario: string;
  category: string;
  marketing_per_day: { from: number; to: number };
  discount: { from: number; to: number };
  expected_effect: Difference;
  downside_p5_delta?: number;
  liquidity_at_risk: number;
  liquidity_at_risk_delta?: number;
  [k: string]: unknown;
}

export interface ScenariosAnswer {
  base: { scenario: string; seed: number; summary: RiskSummary };
  scenarios: {
    scenario: string;
    summary: RiskSummary;
    gross_margin_delta: Difference;
    contribution_delta: Difference;
    liquidity_at_risk_delta: Difference;
  }[];
  tornado: { base: number; bars: TornadoBar[] } | null;
  recommendations: {
    max_liquidity_at_risk: number;
    paths: number;
    current: { contribution: number; liquidity_at_risk: number };
    proposed: { contribution: number; liquidity_at_risk: number; feasible: boolean };
    recommendations: Recommendation[];
  } | null;
}

/** What the page sends as the scenario (over the server's default one). */
export interface RunInput {
  paths: number;
  horizon_days: number;
  seed: number;
  floor: number | undefined;
  estimate: boolean;
}

export const RUN_BOUNDS = { minPaths: 100, maxPaths: 100_000, minDays: 7, maxDays: 366, maxPathSteps: 20_000_000 } as const;

/** Client-side bounds (the server checks them too); a message per bad field. */
export function runProblems(r: RunInput): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Number.isInteger(r.paths) || r.paths < RUN_BOUNDS.minPaths || r.paths > RUN_BOUNDS.maxPaths)
    out.paths = `a whole number from ${RUN_BOUNDS.minPaths.toLocaleString('en-US')} to ${RUN_BOUNDS.maxPaths.toLocaleString('en-US')}`;
  if (!Number.isInteger(r.horizon_days) || r.horizon_days < RUN_BOUNDS.minDays || r.horizon_days > RUN_BOUNDS.maxDays)
    out.horizon_days = `a whole number of days from ${RUN_BOUNDS.minDays} to ${RUN_BOUNDS.maxDays}`;
  else if (!out.paths && r.paths * r.horizon_days > RUN_BOUNDS.maxPathSteps)
    out.paths = `paths × days must be at most ${RUN_BOUNDS.maxPathSteps.toLocaleString('en-US')} (fewer paths or days)`;
  if (!Number.isInteger(r.seed) || r.seed < 0 || r.seed > 2 ** 31) out.seed = 'a whole number from 0';
  // The floor's range is the server's to judge (its problem detail is shown at the field).
  if (r.floor !== undefined && !Number.isFinite(r.floor)) out.floor = 'an amount in USD';
  return out;
}

export function scenarioBody(r: RunInput): Record<string, unknown> {
  return {
    seed: r.seed,
    paths: r.paths,
    horizon_days: r.horizon_days,
    ...(r.floor !== undefined ? { cash: { floor: r.floor } } : {}),
    ...(r.estimate ? { estimate: 'all' } : {}),
  };
}
