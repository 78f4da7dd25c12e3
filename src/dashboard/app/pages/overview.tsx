/**
 * Overview: the live event rate by source, conversion and abandonment, the uplift of the top
 * workflows with their intervals, minutes saved this week, CSAT / NPS, the impact ledger and the
 * maturity scorecard. Reloads when orders, surveys or workflow runs arrive on the live feed.
 */
import { useState } from 'preact/hooks';
import { useApi } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { TimeChart } from '../chart.tsx';
import { Badge, Bar, Card, type Column, Empty, ErrorNote, Grid, Loading, PageHeader, Segmented, Stat, Table } from '../components.tsx';
import { fmtInt, fmtMinutes, fmtMoney, fmtNum, fmtPct, fmtPp } from '../format.ts';
import { Link } from '../router.tsx';
import { type StreamBatch, useLiveTypes, useStream } from '../stream.ts';

interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

interface Funnel {
  views: number;
  adds: number;
  checkouts: number;
  orders: number;
  revenue: number;
  carts_abandoned: number;
  conversion: number | null;
  cart_abandonment: number | null;
  checkout_abandonment: number | null;
}

interface LedgerLine {
  workflow_id: string;
  treated_customers: number;
  enough_data: boolean;
  incremental_orders: Interval | null;
  incremental_revenue: Interval | null;
  incremental_margin: Interval | null;
  minutes_saved: number;
  actions_skipped_by_policy: number;
  verdict: string;
}

interface Overview {
  from: string;
  to: string;
  funnel: Funnel;
  abandonment_reasons: { reason: string; count: number; share?: number }[];
  work_saved: { week: string; minutes: number; in_range: number };
  experience: { csat_responses: number; csat: number | null; csat_mean: number | null; nps_responses: number; nps: number | null };
  impact: Omit<LedgerLine, 'workflow_id' | 'treated_customers' | 'enough_data' | 'verdict'>;
  workflows: LedgerLine[];
  maturity: { overall: number; aspects: { aspect: string; score: number; level: string; evidence: string; next_step: string | null }[] };
}

interface Group {
  customers: number;
  converted: number;
  conversion: number | null;
}

interface Uplift {
  window_days: number;
  workflows: {
    workflow_id: string;
    treated: Group;
    holdout: Group;
    pending: number;
    conversion_lift: Interval | null;
    enough_data: boolean;
    verdict: string;
  }[];
}

interface FunnelByDay {
  rows: (Funnel & { key: string })[];
}

const RANGES = [7, 30, 90] as const;

export function OverviewPage(_props: PageProps) {
  const [days, setDays] = useState<number>(30);
  const overview = useApi<Overview>('/v1/reports/overview', { window_days: 7, days });
  const uplift = useApi<Uplift>('/v1/reports/uplift', { days });
  const byDay = useApi<FunnelByDay>('/v1/reports/funnel', { by: 'day', days });
  useLiveTypes(
    ['commerce.order_completed', 'survey.response', 'cart.abandoned'],
    () => {
      overview.reload();
      uplift.reload();
      byDay.reload();
    },
    5000,
  );

  const o = overview.data;
  return (
    <>
      <PageHeader
        title="Overview"
        subtitle={o ? `${o.from} – ${o.to} (UTC days)` : undefined}
        actions={
          <Segmented label="Range" options={RANGES.map((r) => ({ value: r, label: `${r} days` }))} value={days} onChange={setDays} />
        }
      />
      <ErrorNote error={overview.error} />
      <LiveRate />
      {!o ? (
        overview.error ? null : (
          <Loading />
        )
      ) : (
        <>
          <Grid min={150}>
            <Stat
              testId="stat-conversion"
              label="Conversion"
              value={fmtPct(o.funnel.conversion)}
              note={`${fmtInt(o.funnel.orders)} orders / ${fmtInt(o.funnel.views)} product views`}
            />
            <Stat
              testId="stat-abandonment"
              label="Cart abandonment"
              value={fmtPct(o.funnel.cart_abandonment)}
              note={`${fmtInt(o.funnel.carts_abandoned)} carts abandoned`}
            />
            <Stat testId="stat-revenue" label="Revenue" value={fmtMoney(o.funnel.revenue)} note="orders in range" />
            <Stat
              testId="stat-minutes"
              label="Work saved this week"
              value={fmtMinutes(o.work_saved.minutes)}
              note={`week of ${o.work_saved.week}; ${fmtMinutes(o.work_saved.in_range)} in range`}
            />
            <Stat
              testId="stat-csat"
              label="CSAT"
              value={o.experience.csat === null ? '—' : fmtPct(o.experience.csat, 0)}
              note={`${fmtInt(o.experience.csat_responses)} answers (share 4–5 of 5)`}
            />
            <Stat
              testId="stat-nps"
              label="NPS"
              value={o.experience.nps === null ? '—' : fmtNum(o.experience.nps)}
              note={`${fmtInt(o.experience.nps_responses)} answers (−100 to 100)`}
            />
          </Grid>
          <div class="two">
            <Card title="Funnel" subtitle="Product views → cart → checkout → order">
              <FunnelBars f={o.funnel} />
              <h3>Why carts were abandoned</h3>
              {o.abandonment_reasons.length === 0 ? (
                <Empty title="No survey answers yet.">
                  Show the exit-intent survey (<Link href="/surveys">Surveys</Link>) to learn why shoppers leave.
                </Empty>
              ) : (
                <ul class="plain">
                  {o.abandonment_reasons.map((r) => (
                    <li key={r.reason}>
                      {r.reason} — {fmtInt(r.count)}
                    </li>
                  ))}
                </ul>
              )}
            </Card>
            <Card title="Conversion by day" subtitle="share of product viewers who ordered; abandoned carts per cart">
              {byDay.data && byDay.data.rows.length > 0 ? (
                <TimeChart
                  testId="chart-conversion"
                  unit="%"
                  x={byDay.data.rows.map((r) => Date.parse(`${r.key}T00:00:00Z`))}
                  series={[
                    { label: 'conversion %', values: byDay.data.rows.map((r) => (r.conversion === null ? null : r.conversion * 100)) },
                    {
                      label: 'cart abandonment %',
                      values: byDay.data.rows.map((r) => (r.cart_abandonment === null ? null : r.cart_abandonment * 100)),
                    },
                  ]}
                  bars={false}
                />
              ) : (
                <Empty title="No storefront events yet.">Send product views and orders (Segment track calls) or start the demo.</Empty>
              )}
            </Card>
          </div>
          <UpliftCard data={uplift.data} error={uplift.error} />
          <LedgerCard o={o} />
          <MaturityCard m={o.maturity} />
        </>
      )}
    </>
  );
}

function FunnelBars(props: { f: Funnel }) {
  const f = props.f;
  const top = Math.max(1, f.views);
  const steps: [string, number][] = [
    ['Product views', f.views],
    ['Added to cart', f.adds],
    ['Checkouts', f.checkouts],
    ['Orders', f.orders],
  ];
  return (
    <div class="funnel" data-testid="funnel">
      {steps.map(([label, n]) => (
        <div key={label} class="funnel-row">
          <span class="funnel-label">{label}</span>
          <Bar share={n / top} label={fmtInt(n)} />
        </div>
      ))}
    </div>
  );
}

/** Events per minute by source family, from the live feed (the last 15 minutes of wall time). */
function LiveRate() {
  const [batches, setBatches] = useState<StreamBatch[]>([]);
  useStream((b) => setBatches((prev) => [...prev.slice(-179), b]));
  const families = new Map<string, number>();
  for (const b of batches) for (const [s, n] of Object.entries(b.sources)) families.set(s, (families.get(s) ?? 0) + n);
  const top = [...families.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([s]) => s);
  const rest = (b: StreamBatch) => Object.entries(b.sources).reduce((sum, [s, n]) => (top.includes(s) ? sum : sum + n), 0);
  const perMin = (n: number, i: number) => {
    const prev = batches[i - 1];
    const cur = batches[i];
    if (!prev || !cur || cur.at <= prev.at) return null;
    return (n * 60_000) / (cur.at - prev.at);
  };
  const total = batches.reduce((s, b) => s + Object.values(b.sources).reduce((a, n) => a + n, 0), 0);
  return (
    <Card title="Live event rate by source" subtitle="events per minute of server time, live from the event log" testId="live-rate">
      {batches.length < 2 ? (
        <Empty title="Waiting for events…">
          Nothing has arrived since this page opened. Send events (see the README's <code>curl</code> and <code>mosquitto_pub</code>{' '}
          examples) or run <code>npm start</code> for the demo shop.
        </Empty>
      ) : (
        <>
          <TimeChart
            unit="events / min"
            x={batches.map((b) => b.at)}
            series={[
              ...top.map((s) => ({ label: s, values: batches.map((b, i) => perMin(b.sources[s] ?? 0, i)) })),
              ...(families.size > top.length ? [{ label: 'other', values: batches.map((b, i) => perMin(rest(b), i)) }] : []),
            ]}
          />
          <p class="muted small" data-testid="live-total">
            {fmtInt(total)} events in this window
          </p>
        </>
      )}
    </Card>
  );
}

function Lift(props: { lift: Interval | null }) {
  const l = props.lift;
  if (!l) return <span class="muted">—</span>;
  const tone = l.lower > 0 ? 'good' : l.upper < 0 ? 'bad' : 'neutral';
  return (
    <span class={`lift ${tone}`} title="95 % interval (Newcombe)">
      {fmtPp(l.estimate)}{' '}
      <span class="muted small">
        [{fmtPp(l.lower)}, {fmtPp(l.upper)}]
      </span>
    </span>
  );
}

function UpliftCard(props: { data: Uplift | undefined; error: Error | undefined }) {
  const rows = [...(props.data?.workflows ?? [])]
    .sort((a, b) => b.treated.customers + b.holdout.customers - (a.treated.customers + a.holdout.customers))
    .slice(0, 8);
  const cols: Column<(typeof rows)[number]>[] = [
    { label: 'Workflow', value: (r) => <Link href={`/workflows/${encodeURIComponent(r.workflow_id)}`}>{r.workflow_id}</Link> },
    { label: 'Treated', align: 'right', value: (r) => `${fmtPct(r.treated.conversion)} of ${fmtInt(r.treated.customers)}` },
    { label: 'Holdout', align: 'right', value: (r) => `${fmtPct(r.holdout.conversion)} of ${fmtInt(r.holdout.customers)}` },
    { label: 'Conversion lift (95 % CI)', align: 'right', value: (r) => <Lift lift={r.conversion_lift} /> },
    {
      label: 'Verdict',
      value: (r) => (
        <span class="small">
          {r.enough_data ? <Badge tone="good">measured</Badge> : <Badge>not enough data</Badge>} {r.verdict}
        </span>
      ),
    },
  ];
  return (
    <Card
      title="Uplift of the top workflows"
      subtitle={`treated vs holdout customers; an order within ${props.data?.window_days ?? 7} days of the trigger`}
      testId="uplift"
    >
      <ErrorNote error={props.error} />
      <Table
        rows={rows}
        columns={cols}
        rowKey={(r) => r.workflow_id}
        empty={
          <Empty title="No workflow has run yet.">
            Enable a workflow with a holdout on the <Link href="/workflows">Workflows</Link> page.
          </Empty>
        }
      />
    </Card>
  );
}

function Range(props: { v: Interval | null; money?: boolean }) {
  const v = props.v;
  if (!v) return <span class="muted">—</span>;
  const f = props.money ? fmtMoney : fmtNum;
  return (
    <span title="95 % interval">
      {f(v.estimate)}{' '}
      <span class="muted small">
        [{f(v.lower)}, {f(v.upper)}]
      </span>
    </span>
  );
}

function LedgerCard(props: { o: Overview }) {
  const { o } = props;
  const cols: Column<LedgerLine>[] = [
    { label: 'Workflow', value: (r) => r.workflow_id },
    { label: 'Incremental orders', align: 'right', value: (r) => <Range v={r.incremental_orders} /> },
    { label: 'Incremental revenue', align: 'right', value: (r) => <Range v={r.incremental_revenue} money /> },
    { label: 'Incremental margin', align: 'right', value: (r) => <Range v={r.incremental_margin} money /> },
    { label: 'Work saved', align: 'right', value: (r) => fmtMinutes(r.minutes_saved) },
    { label: 'Skipped by policy', align: 'right', value: (r) => fmtInt(r.actions_skipped_by_policy) },
  ];
  return (
    <Card
      title="Impact ledger"
      subtitle="uplift × volume × margin per workflow, with 95 % intervals; work saved = automated actions × minutes"
      testId="ledger"
    >
      <Table
        rows={o.workflows}
        columns={cols}
        rowKey={(r) => r.workflow_id}
        empty={<Empty title="No workflow activity in this range." />}
      />
      <div class="ledger-total" data-testid="ledger-total">
        <strong>Total</strong>
        <span>
          orders <Range v={o.impact.incremental_orders} />
        </span>
        <span>
          revenue <Range v={o.impact.incremental_revenue} money />
        </span>
        <span>
          margin <Range v={o.impact.incremental_margin} money />
        </span>
        <span>work saved {fmtMinutes(o.impact.minutes_saved)}</span>
        <span>skipped by policy {fmtInt(o.impact.actions_skipped_by_policy)}</span>
      </div>
    </Card>
  );
}

const ASPECTS: Record<string, string> = {
  data_handling: 'Data handling',
  workflow_impact: 'Workflow impact',
  financial_insight: 'Financial insight',
  tool_use: 'Tool use',
};

function MaturityCard(props: { m: Overview['maturity'] }) {
  return (
    <Card title="Maturity" subtitle={`overall ${fmtNum(props.m.overall)} of 3, scored from what is connected and active`} testId="maturity">
      <div class="maturity">
        {props.m.aspects.map((a) => (
          <div key={a.aspect} class="maturity-row">
            <div>
              <strong>{ASPECTS[a.aspect] ?? a.aspect}</strong>
              <div class="small">{a.level}</div>
            </div>
            <div class="dots" role="img" aria-label={`${a.score} of 3`}>
              {[1, 2, 3].map((i) => (
                <span key={i} class={i <= a.score ? 'dot on' : 'dot'} />
              ))}
            </div>
            <div class="small muted">{a.evidence}</div>
            <div class="small">{a.next_step ? <>Next: {a.next_step}</> : <Badge tone="good">top level</Badge>}</div>
          </div>
        ))}
      </div>
    </Card>
  );
}
