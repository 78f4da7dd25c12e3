/**
 * Workflows: the list (status, source, version, trigger, holdout, last run, runs in 7 days) with
 * enable / pause; `/workflows/new` to write one; `/workflows/<id>` for the editor, versions,
 * backtest, recent runs and "why". File-backed workflows are read-only here, and say so.
 */
import './workflows.css';
import { useState } from 'preact/hooks';
import { ApiError, useApi } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { Badge, Button, Card, type Column, Empty, ErrorNote, Loading, PageHeader, Table } from '../components.tsx';
import { fmtInt, fmtTime } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { useCanAdmin } from '../session.ts';
import { useLiveTypes } from '../stream.ts';
import { NewWorkflowPage, WorkflowDetailPage } from './workflows-detail.tsx';
import { SourceBadge, StatusBadge, ToggleButton } from './workflows-parts.tsx';
import { type Activity, STATUS_TONE, triggerText, type WorkflowSummary } from './workflows-types.tsx';

export function WorkflowsPage(props: PageProps) {
  const sub = props.route.rest[0];
  if (sub === 'new') return <NewWorkflowPage />;
  if (sub) return <WorkflowDetailPage id={sub} version={props.route.query.get('version')} />;
  return <WorkflowList />;
}

function WorkflowList() {
  const list = useApi<{ workflows: WorkflowSummary[] }>('/v1/workflows');
  const activity = useApi<Activity>('/v1/runs/summary', { days: 7 });
  const admin = useCanAdmin();
  const [actionError, setActionError] = useState<Error | undefined>();
  const triggers = [...new Set((list.data?.workflows ?? []).flatMap((w) => w.trigger.events ?? []))];
  useLiveTypes(triggers.length > 0 ? triggers : ['reminder.due'], () => {
    activity.reload();
  });

  const byId = new Map((activity.data?.workflows ?? []).map((a) => [a.workflow_id, a]));
  const cols: Column<WorkflowSummary>[] = [
    {
      label: 'Workflow',
      value: (w) => (
        <div>
          <Link href={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link>
          <div class="muted small">
            <code>{w.id}</code>
          </div>
        </div>
      ),
    },
    { label: 'Status', value: (w) => <StatusBadge enabled={w.enabled} /> },
    { label: 'Source', value: (w) => <SourceBadge w={w} /> },
    { label: 'Version', align: 'right', value: (w) => `v${w.version}` },
    { label: 'Trigger', value: (w) => <span class="small">{triggerText(w.trigger)}</span> },
    { label: 'Holdout', align: 'right', value: (w) => `${w.holdout_percent} %` },
    {
      label: 'Last run',
      value: (w) => {
        const last = byId.get(w.id)?.last_run;
        if (!last) return <span class="muted small">no runs yet</span>;
        return (
          <span class="small">
            {fmtTime(last.started_at)} <Badge tone={STATUS_TONE[last.status]}>{last.status}</Badge>
            {last.outcome ? <span class="muted"> {last.outcome}</span> : null}
          </span>
        );
      },
    },
    {
      label: 'Runs (7 days)',
      align: 'right',
      title: 'runs started in the last 7 days of server time',
      value: (w) => {
        const a = byId.get(w.id);
        return a ? `${fmtInt(a.runs)}${a.runs_capped ? '+' : ''}` : '—';
      },
    },
    {
      label: 'Actions',
      value: (w) => (
        <ToggleButton
          w={w}
          onError={setActionError}
          onChanged={() => {
            setActionError(undefined);
            list.reload();
          }}
        />
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Workflows"
        subtitle="Triggers, conditions and actions. Every save is a new version; runs keep the version they started with."
        actions={
          <Button
            kind="primary"
            disabled={!admin}
            title={admin ? 'Write a new workflow in YAML' : 'Your key is read-only: sign in with an admin key to add workflows.'}
            onClick={() => navigate('/workflows/new')}
          >
            New workflow
          </Button>
        }
      />
      <ErrorNote error={list.error} />
      <ErrorNote error={actionError} />
      {actionError instanceof ApiError && actionError.code === 'PW_WORKFLOW_INVALID' ? (
        <p class="small">Open the workflow to see its problems.</p>
      ) : null}
      <Card testId="workflow-list">
        {!list.data ? (
          list.error ? null : (
            <Loading />
          )
        ) : (
          <Table
            testId="workflows-table"
            rows={list.data.workflows}
            columns={cols}
            rowKey={(w) => w.id}
            empty={
              <Empty title="No workflows yet." testId="workflows-empty">
                Choose <strong>New workflow</strong> to write one, or put YAML files in the workflows directory (
                <code>PITWALL_WORKFLOWS_DIR</code>, default <code>./workflows</code>) and restart; the starters are in{' '}
                <code>workflows/examples/</code>.
              </Empty>
            }
          />
        )}
        {activity.data ? (
          <p class="muted small">
            Runs counted from {fmtTime(activity.data.since)} to {fmtTime(activity.data.to)}.
          </p>
        ) : null}
        <ErrorNote error={activity.error} />
      </Card>
    </>
  );
}
