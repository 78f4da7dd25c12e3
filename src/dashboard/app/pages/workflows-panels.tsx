/**
 * The panels under a workflow's editor: the backtest form and its report, "why did it (not) fire
 * for customer C" with the trace, and the recent runs, each run's trace on demand.
 */
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.ts';
import { Badge, Button, Card, type Column, Empty, ErrorNote, Grid, Loading, Stat, Table } from '../components.tsx';
import { fmtInt, fmtTime } from '../format.ts';
import { useCanAdmin } from '../session.ts';
import { useLiveTypes } from '../stream.ts';
import { type BacktestReport, type RunStatus, type RunWire, STATUS_TONE, type TraceWire, type WhyWire } from './workflows-types.tsx';

const enc = encodeURIComponent;
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

// ── backtest ─────────────────────────────────────────────────────────────────────────────────

/** Backtests the editor's text (saved or not) over the stored log between two UTC dates, inclusive. */
export function BacktestPanel(props: { text: string; valid: boolean; dirty: boolean }) {
  const admin = useCanAdmin();
  const [from, setFrom] = useState(() => isoDay(Date.now() - 7 * DAY_MS));
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<BacktestReport | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const blocker = !admin
    ? 'A backtest folds the whole log into memory: it needs an admin key.'
    : !props.valid
      ? 'The workflow in the editor must be valid first.'
      : !from
        ? 'Choose the first day.'
        : to && to < from
          ? 'The last day is before the first.'
          : undefined;
  const run = async (e: Event) => {
    e.preventDefault();
    if (blocker) return;
    setBusy(true);
    setError(undefined);
    try {
      // `to` is exclusive on the server: the day after the last day chosen, or now.
      const end = to ? isoDay(Date.parse(`${to}T00:00:00Z`) + DAY_MS) : undefined;
      setReport(
        await api<BacktestReport>('/v1/workflows/backtest', {
          method: 'POST',
          query: { from, to: end },
          body: props.text,
          contentType: 'application/yaml',
        }),
      );
    } catch (err) {
      setReport(undefined);
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card
      title="Backtest"
      subtitle={`what the workflow in the editor${props.dirty ? ' (unsaved)' : ''} would have done over the stored events — nothing is sent or saved`}
      testId="backtest"
    >
      <form class="wf-form" onSubmit={run}>
        <div class="field">
          <label for="bt-from">First day (UTC)</label>
          <input id="bt-from" type="date" value={from} required onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="bt-to">Last day (UTC, inclusive; empty: up to now)</label>
          <input id="bt-to" type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </div>
        <Button type="submit" kind="primary" busy={busy} disabled={blocker !== undefined} title={blocker}>
          Run backtest
        </Button>
        {blocker ? <span class="muted small">{blocker}</span> : null}
      </form>
      <ErrorNote error={error} />
      {busy ? <Loading /> : report ? <BacktestResult r={report} /> : null}
    </Card>
  );
}

function counts(m: Record<string, number | undefined>): [string, number][] {
  return Object.entries(m)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0)
    .sort((a, b) => b[1] - a[1]);
}

function BacktestResult(props: { r: BacktestReport }) {
  const { r } = props;
  const pairCols = (label: string): Column<[string, number]>[] => [
    { label, value: ([k]) => <code>{k}</code> },
    { label: 'Count', align: 'right', value: ([, n]) => fmtInt(n) },
  ];
  return (
    <div data-testid="backtest-result" class="wf-result">
      <p class="muted small">
        {fmtTime(r.from)} – {fmtTime(r.to)}: {fmtInt(r.events.handled)} events replayed through the workflow ({fmtInt(r.events.folded)}{' '}
        folded into state).
      </p>
      <Grid min={150}>
        <Stat testId="bt-runs" label="Runs" value={fmtInt(r.runs.total)} />
        <Stat testId="bt-actions" label="Actions" value={fmtInt(r.actions.total)} note="would have been sent" />
        <Stat testId="bt-customers" label="Customers reached" value={fmtInt(r.customersReached)} />
        <Stat
          testId="bt-policy"
          label="Policy skips"
          value={fmtInt(r.policy.skips)}
          note={`${fmtInt(r.policy.deferrals)} deferred`}
          tone={r.policy.skips > 0 ? 'bad' : 'neutral'}
        />
        <Stat testId="bt-holdouts" label="Held out" value={fmtInt(r.holdouts)} note="would have acted" />
      </Grid>
      {r.runs.total === 0 ? (
        <Empty title="No run in this window." testId="bt-empty">
          No stored event in these days matched the trigger. Widen the dates, or check the trigger’s event type.
        </Empty>
      ) : (
        <div class="wf-three">
          <Table testId="bt-by-status" rows={counts(r.runs.byStatus)} columns={pairCols('Run status')} rowKey={([k]) => k} />
          <Table
            testId="bt-by-type"
            rows={counts(r.actions.byType)}
            columns={pairCols('Action type')}
            rowKey={([k]) => k}
            empty={<p class="muted small">No action would have been sent.</p>}
          />
          <Table
            testId="bt-by-code"
            rows={counts(r.policy.byCode)}
            columns={pairCols('Policy reason')}
            rowKey={([k]) => k}
            empty={<p class="muted small">The contact policy skipped nothing.</p>}
          />
        </div>
      )}
    </div>
  );
}

// ── traces ───────────────────────────────────────────────────────────────────────────────────

const s = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** One trace entry in words. */
export function traceText(t: TraceWire): string {
  const d = t.detail;
  switch (t.kind) {
    case 'trigger': {
      const events = Array.isArray(d.events) ? (d.events as { type?: string; id?: string }[]) : [];
      return `${s(d.kind)} trigger: ${events.map((e) => `${e.type} ${e.id}`).join(', ')}${d.customer ? ` · customer ${s(d.customer)}` : ''}`;
    }
    case 'flow':
      return `flow control ${s(d.control)}: ${s(d.decision)}${d.reason ? ` — ${s(d.reason)}` : ''}`;
    case 'condition':
      return `${d.filter ? 'filter' : 'condition'} ${s(d.expression)} → ${s(d.value)}${d.error ? ` (${s(d.error)})` : ''}`;
    case 'policy':
      return `contact policy for ${s(d.action)}${d.purpose ? ` (${s(d.purpose)})` : ''}: ${s(d.verdict)}${d.code ? ` ${s(d.code)}` : ''}${d.reason ? ` — ${s(d.reason)}` : ''}`;
    case 'holdout':
      return `holdout ${s(d.percent)} %: ${s(d.assignment)}${d.would_have_acted ? ' — would have acted' : ''}${d.reason ? ` (${s(d.reason)})` : ''}`;
    case 'action':
      return `action ${s(d.action)} queued${d.not_before ? ` for ${fmtTime(s(d.not_before))}` : ''}`;
    case 'wait':
      return d.resumed ? 'the wait ended; resumed' : `wait ${s(d.duration)} until ${fmtTime(s(d.until))}`;
    case 'cancel': {
      const e = (d.event ?? {}) as { type?: string; id?: string };
      return `cancelled by ${e.type ?? 'an event'} ${e.id ?? ''}`.trim();
    }
    case 'error':
      return `${s(d.code) || 'error'}: ${s(d.error)}`;
  }
}

const KIND_TONE: Partial<Record<TraceWire['kind'], 'good' | 'bad' | 'warn'>> = { action: 'good', error: 'bad', cancel: 'warn' };

export function TraceList(props: { trace: readonly TraceWire[]; deciding?: ReadonlySet<number>; testId?: string }) {
  if (props.trace.length === 0) return <p class="muted small">No trace entries.</p>;
  return (
    <ol class="trace" data-testid={props.testId}>
      {props.trace.map((t) => (
        <li key={t.seq} class={props.deciding?.has(t.seq) ? 'deciding' : ''} data-testid="trace-step">
          <span class="when muted small">{fmtTime(t.at)}</span>
          <Badge tone={KIND_TONE[t.kind] ?? (t.kind === 'policy' && t.detail.verdict !== 'allow' ? 'warn' : 'neutral')}>{t.kind}</Badge>
          {t.step_path ? <code class="small">{t.step_path}</code> : null}
          <span class="what">{traceText(t)}</span>
          {props.deciding?.has(t.seq) ? <span class="muted small"> (deciding)</span> : null}
        </li>
      ))}
    </ol>
  );
}

/** A run's full trace, fetched when shown. */
function RunTrace(props: { runId: string; deciding?: readonly TraceWire[]; testId?: string }) {
  const run = useApi<RunWire & { trace: TraceWire[] }>(`/v1/runs/${enc(props.runId)}`);
  if (run.error) return <ErrorNote error={run.error} />;
  if (!run.data) return <Loading />;
  return <TraceList trace={run.data.trace} deciding={new Set((props.deciding ?? []).map((t) => t.seq))} testId={props.testId} />;
}

// ── why ──────────────────────────────────────────────────────────────────────────────────────

const FIRED: Record<RunStatus, string> = {
  completed: 'Fired',
  waiting: 'Fired (still waiting)',
  running: 'Fired (running)',
  holdout: 'Did not act: held out',
  skipped: 'Did not fire',
  cancelled: 'Fired, then cancelled',
  failed: 'Fired, then failed',
};

export function WhyPanel(props: { id: string }) {
  const [customer, setCustomer] = useState('');
  const [busy, setBusy] = useState(false);
  const [why, setWhy] = useState<WhyWire | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const ask = async (e: Event) => {
    e.preventDefault();
    const c = customer.trim();
    if (!c) return;
    setBusy(true);
    setError(undefined);
    try {
      setWhy(await api<WhyWire>(`/v1/workflows/${enc(props.id)}/why`, { query: { customer: c, limit: 5 } }));
    } catch (err) {
      setWhy(undefined);
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const latest = why?.runs[0];
  return (
    <Card title="Why did it (not) fire?" subtitle="for one customer: the latest runs and the trace entries that decided them" testId="why">
      <form class="wf-form" onSubmit={ask}>
        <div class="field grow">
          <label for="why-customer">Customer</label>
          <input
            id="why-customer"
            value={customer}
            placeholder="a user id, email:…, vin:…, order:…"
            onInput={(e) => setCustomer((e.target as HTMLInputElement).value)}
          />
        </div>
        <Button type="submit" kind="primary" busy={busy} disabled={customer.trim() === ''}>
          Explain
        </Button>
      </form>
      <ErrorNote error={error} />
      {why ? (
        <div class="wf-result">
          <p class="why-answer" data-testid="why-answer">
            <strong>{latest ? FIRED[latest.status] : 'Did not fire'}</strong>: {why.answer}
            {why.customer_id && why.customer_id !== why.customer ? <span class="muted small"> (customer {why.customer_id})</span> : null}
          </p>
          {latest ? (
            <>
              <h3>
                Latest run, {fmtTime(latest.started_at)} (v{latest.workflow_version})
              </h3>
              <RunTrace runId={latest.id} deciding={latest.deciding} testId="why-trace" />
              {why.runs.length > 1 ? (
                <>
                  <h3>Earlier runs</h3>
                  <ul class="plain small">
                    {why.runs.slice(1).map((r) => (
                      <li key={r.id}>
                        {fmtTime(r.started_at)} <Badge tone={STATUS_TONE[r.status]}>{r.status}</Badge> {r.summary}
                      </li>
                    ))}
                  </ul>
                </>
              ) : null}
            </>
          ) : null}
        </div>
      ) : null}
    </Card>
  );
}

// ── recent runs ──────────────────────────────────────────────────────────────────────────────

export function RunsPanel(props: { id: string; triggers: readonly string[] }) {
  const runs = useApi<{ runs: RunWire[] }>('/v1/runs', { workflow: props.id, limit: 20 });
  const [open, setOpen] = useState<string | undefined>();
  useLiveTypes(props.triggers.length > 0 ? props.triggers : ['reminder.due'], runs.reload);
  const cols: Column<RunWire>[] = [
    { label: 'Started', value: (r) => <span class="small">{fmtTime(r.started_at)}</span> },
    { label: 'Customer', value: (r) => (r.customer_id ? <code>{r.customer_id}</code> : <span class="muted">—</span>) },
    { label: 'Status', value: (r) => <Badge tone={STATUS_TONE[r.status]}>{r.status}</Badge> },
    { label: 'Outcome', value: (r) => <span class="small">{r.outcome ?? '—'}</span> },
    { label: 'Actions', align: 'right', value: (r) => fmtInt(r.actions) },
    { label: 'Version', align: 'right', value: (r) => `v${r.workflow_version}` },
    {
      label: 'Trace',
      value: (r) => (
        <Button aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? undefined : r.id)}>
          {open === r.id ? 'Hide' : 'Show'}
        </Button>
      ),
    },
  ];
  return (
    <Card title="Recent runs" subtitle="the latest 20, newest first; live" testId="runs">
      <ErrorNote error={runs.error} />
      {!runs.data ? (
        runs.error ? null : (
          <Loading />
        )
      ) : (
        <Table
          testId="runs-table"
          rows={runs.data.runs}
          columns={cols}
          rowKey={(r) => r.id}
          empty={
            <Empty title="No runs yet.">
              Runs start when a trigger event arrives while the workflow is enabled. Backtest it above to see what it would do.
            </Empty>
          }
        />
      )}
      {open ? (
        <div class="wf-result">
          <h3>
            Trace of run <code>{open}</code>
          </h3>
          <RunTrace runId={open} testId="run-trace" />
        </div>
      ) : null}
    </Card>
  );
}
