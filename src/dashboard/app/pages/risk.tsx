/**
 * Risk: run the default scenario (optionally with parameters estimated from Pitwall's own data)
 * with paths / horizon / floor / seed; the fan charts of cash and gross margin; liquidity-at-risk
 * (how likely, and when), margin-at-risk, expected shortfall and their Monte Carlo standard
 * errors; then the standard what-ifs side by side, the tornado and the recommendations, each
 * with an Apply (admin) that appends `plan.recommendation_applied` for workflows to act on.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, useApi } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { TimeChart } from '../chart.tsx';
import { Button, Card, Empty, ErrorNote, Grid, PageHeader, Stat } from '../components.tsx';
import { fmtDate, fmtDuration, fmtInt, fmtMoney, fmtPct } from '../format.ts';
import { FanChart } from './risk-fan.tsx';
import { type RunInput, runProblems, type SimulateAnswer, scenarioBody } from './risk-types.tsx';
import { WhatIfs } from './risk-whatifs.tsx';
import './risk.css';

const DAY = 86_400_000;

/** `x ± se` in money. */
export function pm(e: { value: number; se?: number } | null | undefined, f: (x: number) => string = fmtMoney): string {
  if (!e) return '—';
  return e.se !== undefined && e.se > 0 ? `${f(e.value)} ± ${f(e.se)}` : f(e.value);
}

/** Elapsed time while `busy`, for the progress note of long runs. */
function useElapsed(busy: boolean): number {
  const [ms, setMs] = useState(0);
  const start = useRef(0);
  useEffect(() => {
    if (!busy) return;
    start.current = Date.now();
    setMs(0);
    const t = setInterval(() => setMs(Date.now() - start.current), 500);
    return () => clearInterval(t);
  }, [busy]);
  return ms;
}

export function RiskPage(_props: PageProps) {
  const clock = useApi<{ now_ms: number }>('/v1/clock');
  const [input, setInput] = useState<RunInput>({ paths: 5000, horizon_days: 91, seed: 42, floor: undefined, estimate: false });
  const [floorText, setFloorText] = useState('');
  const [run, setRun] = useState<{ answer: SimulateAnswer; input: RunInput } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tried, setTried] = useState(false);
  const elapsed = useElapsed(busy);
  const problems = runProblems(input);
  const day0 = Math.floor((clock.data?.now_ms ?? Date.now()) / DAY) * DAY;

  const simulate = async () => {
    setTried(true);
    if (Object.keys(problems).length > 0) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api<SimulateAnswer>('/v1/risk/simulate', { method: 'POST', body: scenarioBody(input) });
      setRun({ answer, input });
      if (input.floor === undefined) setFloorText(String(answer.summary.floor));
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const num = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));
  const fieldError = (k: string) => {
    const local = tried ? problems[k] : undefined;
    const server =
      error instanceof ApiError && error.pointer !== undefined && error.pointer.replace(/^\/(cash\/)?/, '') === k
        ? error.message
        : undefined;
    const msg = local ?? server;
    return msg ? (
      <span class="field-error" role="alert">
        {msg}
      </span>
    ) : null;
  };

  const s = run?.answer.summary;
  return (
    <>
      <PageHeader
        title="Risk"
        subtitle="Monte Carlo of cash and gross margin over the coming weeks, under demand, carrier, equipment and cost uncertainty"
      />
      <Card
        title="Scenario"
        subtitle="the default scenario (docs/plan.md) with these settings; same seed → same answer"
        testId="risk-controls"
      >
        <form
          class="risk-controls"
          onSubmit={(e) => {
            e.preventDefault();
            void simulate();
          }}
        >
          <label>
            <span>Paths</span>
            <input
              type="number"
              min={100}
              max={100000}
              step={100}
              value={Number.isNaN(input.paths) ? '' : input.paths}
              onInput={(e) => setInput({ ...input, paths: num((e.target as HTMLInputElement).value) })}
              data-testid="risk-paths"
            />
            {fieldError('paths')}
          </label>
          <label>
            <span>Horizon (days)</span>
            <input
              type="number"
              min={7}
              max={366}
              value={Number.isNaN(input.horizon_days) ? '' : input.horizon_days}
              onInput={(e) => setInput({ ...input, horizon_days: num((e.target as HTMLInputElement).value) })}
              data-testid="risk-horizon"
            />
            {fieldError('horizon_days')}
          </label>
          <label>
            <span>Cash floor (USD)</span>
            <input
              type="number"
              step={1000}
              placeholder="scenario's"
              value={floorText}
              onInput={(e) => {
                const v = (e.target as HTMLInputElement).value;
                setFloorText(v);
                setInput({ ...input, floor: v.trim() === '' ? undefined : Number(v) });
              }}
              data-testid="risk-floor"
            />
            {fieldError('floor')}
          </label>
          <label>
            <span>Seed</span>
            <input
              type="number"
              min={0}
              value={Number.isNaN(input.seed) ? '' : input.seed}
              onInput={(e) => setInput({ ...input, seed: num((e.target as HTMLInputElement).value) })}
              data-testid="risk-seed"
            />
            {fieldError('seed')}
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={input.estimate}
              onChange={(e) => setInput({ ...input, estimate: (e.target as HTMLInputElement).checked })}
            />
            Estimate parameters from Pitwall's data
          </label>
          <Button kind="primary" busy={busy} onClick={() => void simulate()} data-testid="risk-run">
            {busy ? 'Simulating…' : 'Run simulation'}
          </Button>
        </form>
        {busy ? (
          <p class="muted small" role="status" data-testid="risk-busy">
            Simulating {fmtInt(input.paths)} paths × {fmtInt(input.horizon_days)} days… {fmtDuration(elapsed)}
          </p>
        ) : null}
        <ErrorNote error={error} />
      </Card>
      {!run || !s ? (
        busy ? null : (
          <Empty title="No simulation yet." testId="risk-empty">
            Choose paths, horizon and the cash floor, then <strong>Run simulation</strong>. A few thousand paths take a few seconds;
            quadruple them to halve the standard errors.
          </Empty>
        )
      ) : (
        <>
          <p class="muted small" data-testid="risk-run-note">
            {run.answer.scenario}: {fmtInt(s.paths)} paths × {fmtInt(s.horizon_days)} days, seed {run.answer.seed}
            {run.answer.seconds !== undefined ? `, ${run.answer.seconds.toFixed(1)} s` : ''}; day 0 = {fmtDate(day0)} (today on the server's
            clock); ± is the Monte Carlo standard error.
          </p>
          <Grid min={190}>
            <Stat
              testId="stat-lar"
              label="Liquidity at risk"
              tone={s.liquidity_at_risk.probability.value > 0.05 ? 'bad' : 'neutral'}
              value={fmtPct(s.liquidity_at_risk.probability.value)}
              note={`P(cash below ${fmtMoney(s.floor)} on some day) ± ${fmtPct(s.liquidity_at_risk.probability.se ?? 0, 2)}`}
            />
            <Stat
              testId="stat-breach-when"
              label="Median first breach"
              value={
                s.liquidity_at_risk.median_first_breach_day === null || s.liquidity_at_risk.median_first_breach_day === undefined
                  ? 'none'
                  : fmtDate(day0 + s.liquidity_at_risk.median_first_breach_day * DAY)
              }
              note={
                s.liquidity_at_risk.median_first_breach_day === null || s.liquidity_at_risk.median_first_breach_day === undefined
                  ? 'no path fell below the floor'
                  : `day ${s.liquidity_at_risk.median_first_breach_day}, among the paths that breach`
              }
            />
            <Stat
              testId="stat-gm"
              label="Gross margin (horizon)"
              value={fmtMoney(s.gross_margin_total?.value)}
              note={`± ${fmtMoney(s.gross_margin_total?.se)}; P5 ${fmtMoney(s.gross_margin_total?.p5)} · P95 ${fmtMoney(s.gross_margin_total?.p95)}`}
            />
            <Stat
              testId="stat-mar"
              label="Margin at risk (95 %)"
              value={fmtMoney(s.margin_at_risk95)}
              note="expected gross margin − its P5"
            />
            <Stat
              testId="stat-es"
              label="Expected shortfall (95 %)"
              value={fmtMoney(s.expected_shortfall95?.value)}
              note={`mean gross margin of the worst 5 % ± ${fmtMoney(s.expected_shortfall95?.se)}`}
            />
            <Stat
              testId="stat-endcash"
              label="End cash"
              value={fmtMoney(s.end_cash?.p50)}
              note={`median; P5 ${fmtMoney(s.end_cash?.p5)}, mean ${pm(s.end_cash)}`}
            />
            <Stat
              testId="stat-mincash"
              label="Lowest cash (P5)"
              value={fmtMoney(s.min_cash_p5)}
              note="the bad case of each path's lowest day"
            />
            <Stat
              testId="stat-credit"
              label="Credit drawn (P95)"
              value={fmtMoney(s.credit_drawn_p95)}
              note="most drawn on the credit line"
            />
          </Grid>
          <div class="two">
            <Card title="Cash" subtitle="closing cash per day: median, P5–P95 band, mean; the floor in red" testId="fan-cash">
              <FanChart
                bands={s.cash}
                day0={day0}
                unit="USD"
                color="#2563eb"
                line={{ value: s.floor, label: 'floor' }}
                testId="chart-cash"
              />
            </Card>
            <Card title="Gross margin" subtitle="cumulative gross margin per day: median, P5–P95 band, mean" testId="fan-margin">
              <FanChart bands={s.gross_margin} day0={day0} unit="USD" color="#16a34a" testId="chart-margin" />
            </Card>
          </div>
          {s.liquidity_at_risk.cumulative_by_day && s.liquidity_at_risk.probability.value > 0 ? (
            <Card title="When cash runs short" subtitle="P(first day below the floor is on or before this day)" testId="lar-by-day">
              <TimeChart
                unit="% of paths"
                x={s.liquidity_at_risk.cumulative_by_day.map((_, t) => day0 + t * DAY)}
                series={[{ label: 'breached by then', values: s.liquidity_at_risk.cumulative_by_day.map((p) => p * 100) }]}
                height={180}
              />
            </Card>
          ) : null}
          <WhatIfs key={JSON.stringify(run.input)} input={run.input} />
        </>
      )}
    </>
  );
}
