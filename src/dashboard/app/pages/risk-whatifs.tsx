/**
 * What-ifs on the Risk page: the standard scenarios side by side with the base (paired deltas
 * with common random numbers), the tornado of which inputs move expected contribution most,
 * and the recommendations with their expected effect, downside and an Apply (admin, confirmed).
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Badge, Button, Card, type Column, Empty, ErrorNote, Table } from '../components.tsx';
import { fmtInt, fmtMoney, fmtPct, fmtPp } from '../format.ts';
import { useCanAdmin } from '../session.ts';
import { type Recommendation, type RunInput, type ScenariosAnswer, scenarioBody, type TornadoBar } from './risk-types.tsx';

const pmMoney = (d: { value: number; se?: number }) => (
  <>
    {d.value >= 0 ? '+' : ''}
    {fmtMoney(d.value)}
    {d.se !== undefined ? <span class="muted small"> ± {fmtMoney(d.se)}</span> : null}
  </>
);

export function WhatIfs(props: { input: RunInput }) {
  const [answer, setAnswer] = useState<ScenariosAnswer | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [maxLar, setMaxLar] = useState(5);

  const compare = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setAnswer(
        await api<ScenariosAnswer>('/v1/risk/scenarios', {
          method: 'POST',
          body: { base: scenarioBody(props.input), tornado: true, recommend: true, max_liquidity_at_risk: maxLar / 100 },
        }),
      );
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Card
        title="What-ifs, tornado and recommendations"
        subtitle={`the standard what-ifs, each input at its P10 / P90, and the marketing and discount changes that pay — for the scenario above (${fmtInt(props.input.paths)} paths, ${props.input.horizon_days} days)`}
        testId="whatifs-controls"
        actions={
          <>
            <label class="risk-inline">
              <span>Liquidity limit</span>
              <input
                type="number"
                min={0}
                max={100}
                step={1}
                value={maxLar}
                onInput={(e) => setMaxLar(Math.max(0, Math.min(100, Number((e.target as HTMLInputElement).value) || 0)))}
                aria-describedby="lar-limit-note"
              />
              <span id="lar-limit-note" class="muted small">
                % max P(breach)
              </span>
            </label>
            <Button kind="primary" busy={busy} onClick={() => void compare()} data-testid="risk-compare">
              {busy ? 'Running what-ifs…' : 'Compare what-ifs'}
            </Button>
          </>
        }
      >
        {busy ? (
          <p class="muted small" role="status" data-testid="compare-busy">
            Running 4 what-ifs, 32 tornado runs and the recommendation search… this takes several simulations' time.
          </p>
        ) : null}
        <ErrorNote error={error} />
        {!answer && !busy ? (
          <Empty title="Not compared yet.">
            <strong>Compare what-ifs</strong> runs a carrier outage, demand +30 %, a cold-room failure and supplier prices +8 % with the
            same random numbers as the base, so the differences are the scenario's, not noise.
          </Empty>
        ) : null}
        {answer ? <Comparison a={answer} /> : null}
      </Card>
      {answer?.tornado ? <Tornado t={answer.tornado} /> : null}
      {answer?.recommendations ? <Recommendations r={answer.recommendations} /> : null}
    </>
  );
}

type Row = { name: string; base: boolean; s: ScenariosAnswer['base']['summary']; d?: ScenariosAnswer['scenarios'][number] };

function Comparison(props: { a: ScenariosAnswer }) {
  const { a } = props;
  const rows: Row[] = [
    { name: `${a.base.scenario} (base)`, base: true, s: a.base.summary },
    ...a.scenarios.map((x) => ({ name: x.scenario, base: false, s: x.summary, d: x })),
  ];
  const cols: Column<Row>[] = [
    { label: 'Scenario', value: (r) => (r.base ? <strong>{r.name}</strong> : r.name) },
    { label: 'P(cash < floor)', align: 'right', value: (r) => fmtPct(r.s.liquidity_at_risk.probability.value) },
    {
      label: 'Δ P(breach)',
      align: 'right',
      value: (r) =>
        r.d ? (
          <>
            {fmtPp(r.d.liquidity_at_risk_delta.value)}
            {r.d.liquidity_at_risk_delta.se !== undefined ? (
              <span class="muted small"> ± {fmtPp(r.d.liquidity_at_risk_delta.se).slice(1)}</span>
            ) : null}
          </>
        ) : (
          '—'
        ),
    },
    { label: 'Gross margin', align: 'right', value: (r) => fmtMoney(r.s.gross_margin_total?.value) },
    { label: 'Δ gross margin', align: 'right', value: (r) => (r.d ? pmMoney(r.d.gross_margin_delta) : '—') },
    { label: 'Δ contribution', align: 'right', value: (r) => (r.d ? pmMoney(r.d.contribution_delta) : '—') },
    { label: 'End cash P5', align: 'right', value: (r) => fmtMoney(r.s.end_cash?.p5) },
    { label: 'Margin at risk', align: 'right', value: (r) => fmtMoney(r.s.margin_at_risk95) },
  ];
  return (
    <>
      <Table rows={rows} columns={cols} rowKey={(r) => r.name} testId="scenario-table" />
      <p class="muted small">Δ: scenario − base over the same paths (common random numbers), ± standard error.</p>
    </>
  );
}

function Tornado(props: { t: { base: number; bars: TornadoBar[] } }) {
  const { t } = props;
  const bars = t.bars.slice(0, 12);
  const lo = Math.min(t.base, ...bars.map((b) => Math.min(b.low.contribution, b.high.contribution)));
  const hi = Math.max(t.base, ...bars.map((b) => Math.max(b.low.contribution, b.high.contribution)));
  const span = hi - lo || 1;
  const at = (v: number) => ((v - lo) / span) * 100;
  return (
    <Card
      title="Tornado"
      subtitle={`expected contribution with each input at its P10 (blue) and P90 (orange), all else at base (${fmtMoney(t.base)}, the line); largest swing first`}
      testId="tornado"
    >
      <ul class="tornado">
        {bars.map((b) => {
          const a = at(b.low.contribution);
          const c = at(b.high.contribution);
          return (
            <li
              class="tornado-row"
              key={b.input}
              data-testid={`tornado-${b.input.replace(/\s+/g, '-')}`}
              title={`P10: ${fmtMoney(b.low.contribution)}, P(breach) ${fmtPct(b.low.liquidity_at_risk)} · P90: ${fmtMoney(b.high.contribution)}, P(breach) ${fmtPct(b.high.liquidity_at_risk)}`}
            >
              <span class="tornado-label">{b.input}</span>
              <div class="tornado-track">
                <div class="tornado-base" style={{ left: `${at(t.base)}%` }} />
                <div
                  class="tornado-bar low"
                  style={{ left: `${Math.min(a, at(t.base))}%`, width: `${Math.max(0.5, Math.abs(a - at(t.base)))}%` }}
                />
                <div
                  class="tornado-bar high"
                  style={{ left: `${Math.min(c, at(t.base))}%`, width: `${Math.max(0.5, Math.abs(c - at(t.base)))}%` }}
                />
              </div>
              <span class="tornado-swing small">swing {fmtMoney(b.swing)}</span>
            </li>
          );
        })}
      </ul>
      <p class="muted small">
        Axis: {fmtMoney(lo)} – {fmtMoney(hi)} expected contribution over the horizon (USD). Hover a bar for P(breach) at each end.
      </p>
    </Card>
  );
}

function Recommendations(props: { r: NonNullable<ScenariosAnswer['recommendations']> }) {
  const { r } = props;
  const canAdmin = useCanAdmin();
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  const [applied, setApplied] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);

  const apply = async (rec: Recommendation) => {
    setBusy(rec.id);
    setError(undefined);
    try {
      const res = await api<{ event_id: string }>('/v1/risk/recommendations/apply', { method: 'POST', body: { recommendation: rec } });
      setApplied((x) => ({ ...x, [rec.id]: res.event_id }));
      setConfirming(undefined);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(undefined);
    }
  };

  const cols: Column<Recommendation>[] = [
    { label: 'Category', value: (x) => <strong>{x.category}</strong> },
    {
      label: 'Change',
      value: (x) => (
        <span class="small">
          marketing {fmtMoney(x.marketing_per_day.from)} → <strong>{fmtMoney(x.marketing_per_day.to)}</strong> / day; discount{' '}
          {fmtPct(x.discount.from, 0)} → <strong>{fmtPct(x.discount.to, 0)}</strong>
        </span>
      ),
    },
    {
      label: 'Expected effect',
      align: 'right',
      title: 'expected contribution over the horizon, this change alone',
      value: (x) => pmMoney(x.expected_effect),
    },
    {
      label: 'Downside',
      align: 'right',
      title: 'change of the P5 of contribution (negative: a worse bad case)',
      value: (x) => (x.downside_p5_delta === undefined ? '—' : pmMoney({ value: x.downside_p5_delta })),
    },
    {
      label: 'P(breach) with it',
      align: 'right',
      value: (x) => (
        <>
          {fmtPct(x.liquidity_at_risk)}
          {x.liquidity_at_risk_delta !== undefined ? <span class="muted small"> ({fmtPp(x.liquidity_at_risk_delta)})</span> : null}
        </>
      ),
    },
    {
      label: '',
      value: (x) =>
        applied[x.id] ? (
          <Badge tone="good" title={`event ${applied[x.id]}`}>
            applied
          </Badge>
        ) : confirming === x.id ? (
          <span class="risk-confirm">
            <span class="small">Append plan.recommendation_applied?</span>
            <Button kind="primary" busy={busy === x.id} onClick={() => void apply(x)} data-testid={`confirm-${x.id}`}>
              Confirm
            </Button>
            <Button onClick={() => setConfirming(undefined)}>Cancel</Button>
          </span>
        ) : (
          <Button
            disabled={!canAdmin}
            title={canAdmin ? 'Record that this plan is adopted; workflows act on it' : 'Needs an admin key'}
            onClick={() => setConfirming(x.id)}
            data-testid={`apply-${x.id}`}
          >
            Apply
          </Button>
        ),
    },
  ];
  return (
    <Card
      title="Recommendations"
      subtitle={`marketing spend and discount per category that maximise expected contribution with P(cash < floor) ≤ ${fmtPct(r.max_liquidity_at_risk, 0)} (${fmtInt(r.paths)} paths)`}
      testId="recommendations"
    >
      <p class="small" data-testid="rec-summary">
        Now: contribution {fmtMoney(r.current.contribution)}, P(breach) {fmtPct(r.current.liquidity_at_risk)}. With all changes:{' '}
        <strong>{fmtMoney(r.proposed.contribution)}</strong>, P(breach) {fmtPct(r.proposed.liquidity_at_risk)}{' '}
        {r.proposed.feasible ? <Badge tone="good">within the limit</Badge> : <Badge tone="warn">above the limit: least risky choice</Badge>}
      </p>
      {!canAdmin ? <p class="muted small">Read-only key: applying a recommendation needs an admin key.</p> : null}
      <ErrorNote error={error} />
      <Table
        rows={r.recommendations}
        columns={cols}
        rowKey={(x) => x.id}
        testId="rec-table"
        empty={<Empty title="No change pays within the limit.">Raise the liquidity limit or the cash floor and compare again.</Empty>}
      />
      <p class="muted small">
        Apply appends a <code>plan.recommendation_applied</code> event; Pitwall changes nothing itself — a workflow on that event acts.
      </p>
    </Card>
  );
}
