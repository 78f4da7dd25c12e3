/**
 * Surveys: the list (`/surveys`), one survey's results (`/surveys/<id>`), the builder
 * (`/surveys/new`, `/surveys/<id>/edit`). The list and results reload when `survey.response`
 * events arrive on the live feed.
 */
import { useApi } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { Badge, Card, type Column, Empty, ErrorNote, Loading, PageHeader, Table } from '../components.tsx';
import { fmtInt, fmtTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useCanAdmin } from '../session.ts';
import { useLiveTypes } from '../stream.ts';
import { SurveyBuilder } from './surveys-builder.tsx';
import { SurveyResultsView } from './surveys-results.tsx';
import type { ListedSurvey } from './surveys-types.tsx';
import './surveys.css';

const PLACEMENT_LABELS: Record<string, string> = { exit_intent: 'exit intent', post_purchase: 'post purchase', page: 'page' };

export function SurveysPage(props: PageProps) {
  const [first, second] = props.route.rest;
  if (first === 'new') return <SurveyBuilder />;
  if (first !== undefined && second === 'edit') return <SurveyBuilder id={first} />;
  if (first !== undefined) return <SurveyResultsView id={first} />;
  return <SurveyList />;
}

export function placementText(p: ListedSurvey['placements']): string {
  if (p.length === 0) return 'none (workflows only)';
  return p
    .map(
      (x) => `${PLACEMENT_LABELS[x.type] ?? x.type}${x.auto ? ' (auto)' : ''}${x.pageTypes?.length ? `: ${x.pageTypes.join(', ')}` : ''}`,
    )
    .join(' · ');
}

function SurveyList() {
  const list = useApi<{ surveys: ListedSurvey[] }>('/v1/surveys');
  const canAdmin = useCanAdmin();
  useLiveTypes(['survey.response'], list.reload);
  const rows = list.data?.surveys ?? [];
  const cols: Column<ListedSurvey>[] = [
    {
      label: 'Survey',
      value: (s) => (
        <div>
          <Link href={`/surveys/${encodeURIComponent(s.id)}`}>{s.name}</Link>
          <div class="muted small">
            <code>{s.id}</code> · v{s.version} {s.source === 'builtin' ? <Badge>built in</Badge> : null}
          </div>
        </div>
      ),
    },
    { label: 'Placements', value: (s) => <span class="small">{placementText(s.placements)}</span> },
    { label: 'Questions', align: 'right', value: (s) => fmtInt(s.questions.length) },
    { label: 'Responses', align: 'right', value: (s) => <span data-testid={`responses-${s.id}`}>{fmtInt(s.responses ?? 0)}</span> },
    { label: 'Last answer', value: (s) => (s.lastResponseAt ? fmtTime(s.lastResponseAt) : <span class="muted">never</span>) },
    {
      label: '',
      value: (s) => (
        <span class="survey-row-actions">
          <Link href={`/surveys/${encodeURIComponent(s.id)}`}>Results</Link>
          {canAdmin ? <Link href={`/surveys/${encodeURIComponent(s.id)}/edit`}>Edit</Link> : null}
        </span>
      ),
    },
  ];
  return (
    <>
      <PageHeader
        title="Surveys"
        subtitle="Questions the storefront widget asks shoppers: why they left, how the order went"
        actions={
          canAdmin ? (
            <Link href="/surveys/new" class="btn primary" data-testid="new-survey">
              New survey
            </Link>
          ) : (
            <span class="muted small">Read-only key: sign in with an admin key to create or edit surveys.</span>
          )
        }
      />
      <ErrorNote error={list.error} />
      <Card title="All surveys" subtitle="responses so far; updates live as answers arrive" testId="survey-list">
        {!list.data ? (
          list.error ? null : (
            <Loading />
          )
        ) : (
          <Table
            rows={rows}
            columns={cols}
            rowKey={(s) => s.id}
            testId="survey-table"
            empty={
              <Empty title="No surveys yet.">
                Create one with <strong>New survey</strong>, then place it on exit intent or after purchase.
              </Empty>
            }
          />
        )}
      </Card>
    </>
  );
}
