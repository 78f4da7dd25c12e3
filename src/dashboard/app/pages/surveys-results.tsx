/**
 * One survey's results: responses, impressions and response rate, NPS / CSAT with their answer
 * counts, counts per option or scale value (bars), abandonment reasons, free text newest first,
 * a date range and the CSV export. Reloads live on `survey.response`.
 */
import { useState } from 'preact/hooks';
import { useApi, withQuery } from '../api.ts';
import { Bar, Card, Empty, ErrorNote, Grid, Loading, PageHeader, Segmented, Stat } from '../components.tsx';
import { fmtInt, fmtNum, fmtPct, fmtTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useCanAdmin } from '../session.ts';
import { useLiveTypes } from '../stream.ts';
import { type ListedSurvey, type Question, type QuestionResult, type SurveyResults, scaleOf } from './surveys-types.tsx';

const RANGES: { value: number; label: string }[] = [
  { value: 0, label: 'All time' },
  { value: 7, label: '7 days' },
  { value: 30, label: '30 days' },
  { value: 90, label: '90 days' },
];

const TYPE_LABELS: Record<string, string> = {
  single: 'single choice',
  multiple: 'multiple choice',
  rating: 'rating',
  nps: 'NPS (0–10)',
  csat: 'CSAT (1–5)',
  text: 'free text',
};

export function SurveyResultsView(props: { id: string }) {
  const [days, setDays] = useState<number>(0);
  const query = { days: days || undefined };
  const results = useApi<SurveyResults>(`/v1/surveys/${encodeURIComponent(props.id)}/results`, query);
  const list = useApi<{ surveys: ListedSurvey[] }>('/v1/surveys');
  const canAdmin = useCanAdmin();
  useLiveTypes(['survey.response'], () => {
    results.reload();
    list.reload();
  });
  const def = list.data?.surveys.find((s) => s.id === props.id);
  const r = results.data;
  const csv = withQuery(`/v1/surveys/${encodeURIComponent(props.id)}/results`, { format: 'csv', ...query });
  const rangeText = days ? `the last ${days} days (server time)` : 'all responses';

  return (
    <>
      <PageHeader
        title={def?.name ?? props.id}
        subtitle={
          <>
            <Link href="/surveys">Surveys</Link> › <code>{props.id}</code>
            {def ? ` · version ${def.version}` : null} · {rangeText}
            {def?.lastResponseAt ? ` · last answer ${fmtTime(def.lastResponseAt)}` : null}
          </>
        }
        actions={
          <>
            <Segmented label="Date range" options={RANGES} value={days} onChange={setDays} />
            <a class="btn" href={csv} download={`${props.id}-responses.csv`} data-testid="csv-export">
              Export CSV
            </a>
            {canAdmin ? (
              <Link class="btn" href={`/surveys/${encodeURIComponent(props.id)}/edit`}>
                Edit
              </Link>
            ) : null}
          </>
        }
      />
      <ErrorNote error={results.error} />
      {!r ? (
        results.error ? null : (
          <Loading />
        )
      ) : (
        <>
          <Grid min={160}>
            <Stat testId="stat-responses" label="Responses" value={fmtInt(r.responses)} note={rangeText} />
            <Stat testId="stat-impressions" label="Shown" value={fmtInt(r.impressions)} note={`${fmtInt(r.dismissed)} dismissed`} />
            <Stat testId="stat-rate" label="Response rate" value={fmtPct(r.responseRate)} note="responses per survey shown" />
            {r.questions
              .filter((q) => q.type === 'nps')
              .map((q) => (
                <Stat
                  key={q.id}
                  testId={`stat-nps-${q.id}`}
                  label={`NPS · ${q.id}`}
                  value={q.nps === null || q.nps === undefined ? '—' : fmtNum(q.nps)}
                  note={`${fmtInt(q.answered)} answers (−100 to 100)`}
                />
              ))}
            {r.questions
              .filter((q) => q.type === 'csat')
              .map((q) => (
                <Stat
                  key={q.id}
                  testId={`stat-csat-${q.id}`}
                  label={`CSAT · ${q.id}`}
                  value={fmtPct(q.csatShare, 0)}
                  note={`${fmtInt(q.answered)} answers (share 4–5 of 5)`}
                />
              ))}
          </Grid>
          {r.responses === 0 ? (
            <Empty title="No answers in this range yet." testId="results-empty">
              Place the survey (exit intent, post purchase) or let a workflow show it with <code>survey.show</code>; answers appear here as
              they arrive.
            </Empty>
          ) : null}
          {r.abandonmentReasons && r.abandonmentReasons.length > 0 ? (
            <Card title="Why carts were abandoned" subtitle="the first single-choice question of this exit-intent survey" testId="reasons">
              <div class="survey-bars">
                {r.abandonmentReasons.map((x) => (
                  <div class="survey-bar-row" key={x.reason}>
                    <span class="survey-bar-label">{x.label}</span>
                    <Bar share={x.share} label={`${fmtInt(x.count)} · ${fmtPct(x.share, 0)}`} />
                  </div>
                ))}
              </div>
            </Card>
          ) : null}
          <div class="two">
            {r.questions.map((q) => (
              <QuestionCard key={q.id} q={q} def={def?.questions.find((d) => d.id === q.id)} />
            ))}
          </div>
        </>
      )}
    </>
  );
}

function QuestionCard(props: { q: QuestionResult; def: Question | undefined }) {
  const { q, def } = props;
  return (
    <Card
      title={q.prompt}
      subtitle={`${TYPE_LABELS[q.type] ?? q.type} · ${fmtInt(q.answered)} answers`}
      testId={`question-${q.id}`}
      class={q.type === 'text' ? 'survey-text-card' : ''}
    >
      {q.type === 'text' ? <Texts q={q} /> : <Counts q={q} def={def} />}
    </Card>
  );
}

function Counts(props: { q: QuestionResult; def: Question | undefined }) {
  const { q, def } = props;
  const counts = q.counts ?? {};
  let rows: { key: string; label: string; n: number }[];
  const scale = def ? scaleOf(def) : undefined;
  if (def?.options) rows = def.options.map((o) => ({ key: o.id, label: o.label, n: counts[o.id] ?? 0 }));
  else if (scale) {
    rows = [];
    for (let v = scale.min; v <= scale.max; v++) rows.push({ key: String(v), label: String(v), n: counts[String(v)] ?? 0 });
  } else rows = Object.entries(counts).map(([k, n]) => ({ key: k, label: k, n }));
  // Answers the definition no longer lists (an older version's options) are still shown.
  for (const [k, n] of Object.entries(counts))
    if (!rows.some((r) => r.key === k)) rows.push({ key: k, label: `${k} (not in this version)`, n });
  const total = Math.max(1, q.type === 'multiple' ? q.answered : rows.reduce((s, r) => s + r.n, 0));
  return (
    <>
      {q.average !== undefined && q.average !== null ? (
        <p class="small" data-testid={`average-${q.id}`}>
          Average <strong>{fmtNum(q.average)}</strong>
          {q.nps !== undefined && q.nps !== null ? (
            <>
              {' '}
              · NPS <strong>{fmtNum(q.nps)}</strong>
            </>
          ) : null}
          {q.csatShare !== undefined && q.csatShare !== null ? (
            <>
              {' '}
              · CSAT <strong>{fmtPct(q.csatShare, 0)}</strong>
            </>
          ) : null}
        </p>
      ) : null}
      {q.answered === 0 ? (
        <p class="muted small">No answers to this question yet.</p>
      ) : (
        <div class="survey-bars" data-testid={`counts-${q.id}`}>
          {rows.map((r) => (
            <div class="survey-bar-row" key={r.key} data-testid={`count-${q.id}-${r.key}`}>
              <span class="survey-bar-label">{r.label}</span>
              <Bar share={r.n / total} label={fmtInt(r.n)} />
            </div>
          ))}
        </div>
      )}
      {q.type === 'multiple' ? <p class="muted small">Shares of respondents; one may pick several.</p> : null}
    </>
  );
}

function Texts(props: { q: QuestionResult }) {
  const texts = props.q.texts ?? [];
  if (texts.length === 0) return <p class="muted small">No written answers yet.</p>;
  return (
    <ul class="survey-texts" data-testid={`texts-${props.q.id}`}>
      {texts.map((t) => (
        <li key={t.response}>
          <p>{t.text}</p>
          <span class="muted small">{fmtTime(t.at)}</span>
        </li>
      ))}
    </ul>
  );
}
