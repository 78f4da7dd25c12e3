/**
 * The survey builder (`/surveys/new`, `/surveys/<id>/edit`): questions of every type with
 * options, required, branching (if the answer is … go to …), translations, the thank-you text,
 * placements and audience, beside a live preview in the widget's look. Saves with
 * `PUT /v1/surveys/:id`; the server validates, and each problem it lists is shown at its field
 * (problem+json `problems[].pointer`).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, useApi } from '../api.ts';
import { Button, Card, ErrorNote, Loading, PageHeader } from '../components.tsx';
import { Link, navigate } from '../router.tsx';
import { useCanAdmin } from '../session.ts';
import { SurveyPreview } from './surveys-preview.tsx';
import {
  type Branch,
  type ListedSurvey,
  PLACEMENT_TYPES,
  type Placement,
  type PlacementType,
  QUESTION_TYPES,
  type Question,
  type QuestionType,
  type SurveyDefinition,
  scaleOf,
} from './surveys-types.tsx';

interface Problem {
  pointer: string;
  message: string;
}

const TYPE_LABELS: Record<QuestionType, string> = {
  single: 'Single choice',
  multiple: 'Multiple choice',
  rating: 'Rating',
  nps: 'NPS (0–10)',
  csat: 'CSAT (1–5)',
  text: 'Free text',
};
const PLACEMENT_LABELS: Record<PlacementType, string> = {
  exit_intent: 'Exit intent (shopper about to leave)',
  post_purchase: 'Post purchase (order confirmation)',
  page: 'Page (product, checkout, …)',
};

const blankQuestion = (n: number, type: QuestionType = 'single'): Question => ({
  id: `q${n}`,
  type,
  prompt: '',
  required: true,
  ...(type === 'single' || type === 'multiple' ? { options: [] } : {}),
});

const NEW_SURVEY: SurveyDefinition = {
  id: '',
  name: '',
  locale: 'en',
  questions: [blankQuestion(1)],
  thankYou: { text: 'Thank you — this helps us improve.' },
  placements: [{ type: 'exit_intent' }],
};

export function slug(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
}

/** What is sent: the definition without empty optional parts and fields of other question types. */
export function cleanDefinition(d: SurveyDefinition): SurveyDefinition {
  const translations = Object.fromEntries(
    Object.entries(d.translations ?? {}).map(([loc, t]) => [loc, Object.fromEntries(Object.entries(t).filter(([, v]) => v.trim() !== ''))]),
  );
  return {
    id: d.id.trim(),
    name: d.name,
    ...(d.locale ? { locale: d.locale } : {}),
    questions: d.questions.map((q) => ({
      id: q.id,
      type: q.type,
      prompt: q.prompt,
      required: q.required,
      ...(q.type === 'single' || q.type === 'multiple' ? { options: q.options ?? [] } : {}),
      ...(q.type === 'rating' ? { min: q.min ?? 1, max: q.max ?? 5 } : {}),
      ...(q.type === 'text' && q.maxLength !== undefined ? { maxLength: q.maxLength } : {}),
      ...(q.next && q.next.length > 0 ? { next: q.next } : {}),
    })),
    thankYou: { text: d.thankYou.text },
    ...(Object.keys(translations).length > 0 ? { translations } : {}),
    placements: d.placements.map((p) => ({
      type: p.type,
      ...(p.auto ? { auto: true } : {}),
      ...(p.type === 'page' && p.pageTypes && p.pageTypes.length > 0 ? { pageTypes: p.pageTypes } : {}),
    })),
    ...(d.audience?.trim() ? { audience: d.audience.trim() } : {}),
    ...(d.purpose?.trim() ? { purpose: d.purpose.trim() } : {}),
  };
}

export function SurveyBuilder(props: { id?: string }) {
  const list = useApi<{ surveys: ListedSurvey[] }>(props.id ? '/v1/surveys' : null);
  if (!props.id) return <Builder initial={NEW_SURVEY} isNew />;
  const found = list.data?.surveys.find((s) => s.id === props.id);
  if (!list.data)
    return (
      <>
        <PageHeader title="Edit survey" />
        <ErrorNote error={list.error} />
        {list.error ? null : <Loading />}
      </>
    );
  if (!found)
    return (
      <>
        <PageHeader title="Edit survey" />
        <div class="error" role="alert">
          No survey <code>{props.id}</code>. <Link href="/surveys/new">Create a new one</Link>.
        </div>
      </>
    );
  const { version: _v, source: _s, updatedAt: _u, responses: _r, lastResponseAt: _l, ...def } = found;
  return <Builder initial={def} version={found.version} />;
}

function Builder(props: { initial: SurveyDefinition; isNew?: boolean; version?: number }) {
  const [d, setD] = useState<SurveyDefinition>(() => structuredClone(props.initial));
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const canAdmin = useCanAdmin();
  const ro = !canAdmin;
  const change = (f: (x: SurveyDefinition) => void) =>
    setD((prev) => {
      const next = structuredClone(prev);
      f(next);
      return next;
    });
  const err = (pointer: string) => problems.filter((p) => p.pointer === pointer);

  const save = async () => {
    setSaving(true);
    setError(undefined);
    setProblems([]);
    const body = cleanDefinition(d);
    try {
      if (!body.id) {
        setProblems([{ pointer: '/id', message: 'give the survey an id (a-z, 0-9, _ -)' }]);
        return;
      }
      await api(`/v1/surveys/${encodeURIComponent(body.id)}`, { method: 'PUT', body });
      navigate(`/surveys/${encodeURIComponent(body.id)}`);
    } catch (e) {
      const list = e instanceof ApiError ? (e.problem?.problems as Problem[] | undefined) : undefined;
      if (list && Array.isArray(list)) setProblems(list);
      else if (e instanceof ApiError && e.pointer !== undefined) setProblems([{ pointer: e.pointer, message: e.message }]);
      setError(e as Error);
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      <PageHeader
        title={props.isNew ? 'New survey' : `Edit ${props.initial.name}`}
        subtitle={
          <>
            <Link href="/surveys">Surveys</Link>
            {props.isNew ? ' › new' : ` › ${props.initial.id} · saving makes version ${(props.version ?? 0) + 1}`}
          </>
        }
        actions={
          <>
            <Link class="btn" href={props.isNew ? '/surveys' : `/surveys/${encodeURIComponent(props.initial.id)}`}>
              Cancel
            </Link>
            <Button kind="primary" onClick={save} busy={saving} disabled={ro} data-testid="save-survey">
              {saving ? 'Saving…' : 'Save survey'}
            </Button>
          </>
        }
      />
      {ro ? <p class="muted">Read-only key: you can look, but saving needs an admin key.</p> : null}
      {problems.length === 0 ? <ErrorNote error={error} /> : null}
      {problems.length > 0 ? (
        <div class="error" role="alert" data-testid="survey-problems">
          <strong>The survey was not saved:</strong>
          <ul class="plain">
            {problems.map((p) => (
              <li key={`${p.pointer}:${p.message}`}>
                <code>{p.pointer || '/'}</code> {p.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="survey-builder">
        <div class="survey-builder-form">
          <Card title="Survey">
            <div class="survey-fields">
              <Field label="Id" hint="a-z, 0-9, _ and -; fixed once saved" problems={err('/id')}>
                <input
                  value={d.id}
                  disabled={ro || !props.isNew}
                  onInput={(e) =>
                    change((x) => {
                      x.id = (e.target as HTMLInputElement).value;
                    })
                  }
                  data-testid="survey-id"
                />
              </Field>
              <Field label="Name" problems={err('/name')}>
                <input
                  value={d.name}
                  disabled={ro}
                  onInput={(e) => {
                    const v = (e.target as HTMLInputElement).value;
                    change((x) => {
                      if (props.isNew && (x.id === '' || x.id === slug(x.name).replace(/_/g, '-'))) x.id = slug(v).replace(/_/g, '-');
                      x.name = v;
                    });
                  }}
                  data-testid="survey-name"
                />
              </Field>
              <Field label="Language of the texts" hint="e.g. en, de" problems={err('/locale')}>
                <input
                  value={d.locale ?? ''}
                  disabled={ro}
                  onInput={(e) =>
                    change((x) => {
                      x.locale = (e.target as HTMLInputElement).value;
                    })
                  }
                />
              </Field>
              <Field label="Thank-you text" problems={err('/thankYou/text')}>
                <input
                  value={d.thankYou.text}
                  disabled={ro}
                  onInput={(e) =>
                    change((x) => {
                      x.thankYou.text = (e.target as HTMLInputElement).value;
                    })
                  }
                  data-testid="survey-thanks"
                />
              </Field>
            </div>
          </Card>
          {d.questions.map((q, i) => (
            <QuestionEditor
              key={i}
              q={q}
              i={i}
              all={d.questions}
              ro={ro}
              problems={problems}
              change={(f) => change((x) => f(x.questions[i] as Question))}
              move={(delta) =>
                change((x) => {
                  const j = i + delta;
                  const a = x.questions[i];
                  const b = x.questions[j];
                  if (!a || !b) return;
                  x.questions[i] = b;
                  x.questions[j] = a;
                })
              }
              remove={() => change((x) => void x.questions.splice(i, 1))}
            />
          ))}
          {err('/questions').map((p) => (
            <p key={p.message} class="field-error" role="alert">
              {p.message}
            </p>
          ))}
          <div class="actions">
            <Button
              disabled={ro || d.questions.length >= 50}
              onClick={() =>
                change((x) => {
                  let n = x.questions.length + 1;
                  while (x.questions.some((q) => q.id === `q${n}`)) n++;
                  x.questions.push(blankQuestion(n));
                })
              }
              data-testid="add-question"
            >
              + Add question
            </Button>
          </div>
          <PlacementsCard d={d} ro={ro} problems={problems} change={change} />
          <TranslationsCard d={d} ro={ro} problems={problems} change={change} />
        </div>
        <div class="survey-builder-preview">
          <Card title="Preview" subtitle="as the storefront widget shows it (its own stylesheet); try the branching">
            <SurveyPreview def={d} />
          </Card>
        </div>
      </div>
    </>
  );
}

function Field(props: { label: string; hint?: string; problems?: Problem[]; children: ComponentChildren; class?: string }) {
  return (
    <div class={`field ${props.class ?? ''} ${props.problems?.length ? 'invalid' : ''}`}>
      {/* biome-ignore lint/a11y/noLabelWithoutControl: the input comes as children; the label wraps it, so no ids are needed */}
      <label>
        <span>{props.label}</span>
        {props.children}
      </label>
      {props.hint ? <span class="muted small">{props.hint}</span> : null}
      {props.problems?.map((p) => (
        <span key={p.message} class="field-error" role="alert">
          {p.message}
        </span>
      ))}
    </div>
  );
}

function QuestionEditor(props: {
  q: Question;
  i: number;
  all: Question[];
  ro: boolean;
  problems: Problem[];
  change: (f: (q: Question) => void) => void;
  move: (delta: number) => void;
  remove: () => void;
}) {
  const { q, i, ro, change } = props;
  const at = `/questions/${i}`;
  const err = (p: string) => props.problems.filter((x) => x.pointer === `${at}${p}`);
  const choice = q.type === 'single' || q.type === 'multiple';
  const scale = scaleOf(q);
  const later = props.all.slice(i + 1);
  return (
    <Card
      title={`Question ${i + 1}`}
      testId={`question-editor-${i}`}
      actions={
        <>
          <Button disabled={ro || i === 0} onClick={() => props.move(-1)} aria-label={`Move question ${i + 1} up`}>
            ↑
          </Button>
          <Button disabled={ro || i === props.all.length - 1} onClick={() => props.move(1)} aria-label={`Move question ${i + 1} down`}>
            ↓
          </Button>
          <Button kind="danger" disabled={ro || props.all.length === 1} onClick={props.remove} aria-label={`Remove question ${i + 1}`}>
            Remove
          </Button>
        </>
      }
    >
      <div class="survey-fields">
        <Field label="Id" problems={err('/id')}>
          <input
            value={q.id}
            disabled={ro}
            onInput={(e) =>
              change((x) => {
                x.id = (e.target as HTMLInputElement).value;
              })
            }
          />
        </Field>
        <Field label="Type" problems={err('/type')}>
          <select
            value={q.type}
            disabled={ro}
            onChange={(e) =>
              change((x) => {
                x.type = (e.target as HTMLSelectElement).value as QuestionType;
                if ((x.type === 'single' || x.type === 'multiple') && !x.options) x.options = [];
                x.next = [];
              })
            }
          >
            {QUESTION_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Question" class="wide" problems={err('/prompt')}>
          <input
            value={q.prompt}
            disabled={ro}
            onInput={(e) =>
              change((x) => {
                x.prompt = (e.target as HTMLInputElement).value;
              })
            }
          />
        </Field>
        <label class="check">
          <input
            type="checkbox"
            checked={q.required}
            disabled={ro}
            onChange={(e) =>
              change((x) => {
                x.required = (e.target as HTMLInputElement).checked;
              })
            }
          />{' '}
          Required
        </label>
        {q.type === 'rating' ? (
          <>
            <Field label="Lowest" problems={err('/min')}>
              <input
                type="number"
                value={q.min ?? 1}
                disabled={ro}
                onInput={(e) =>
                  change((x) => {
                    x.min = Number((e.target as HTMLInputElement).value);
                  })
                }
              />
            </Field>
            <Field label="Highest" problems={err('/max')}>
              <input
                type="number"
                value={q.max ?? 5}
                disabled={ro}
                onInput={(e) =>
                  change((x) => {
                    x.max = Number((e.target as HTMLInputElement).value);
                  })
                }
              />
            </Field>
          </>
        ) : null}
        {q.type === 'text' ? (
          <Field label="Longest answer (characters)" problems={err('/maxLength')}>
            <input
              type="number"
              min={1}
              value={q.maxLength ?? 2000}
              disabled={ro}
              onInput={(e) =>
                change((x) => {
                  x.maxLength = Number((e.target as HTMLInputElement).value);
                })
              }
            />
          </Field>
        ) : null}
      </div>
      {choice ? (
        <fieldset class="survey-options">
          <legend>Options</legend>
          {(q.options ?? []).map((o, j) => {
            const problems = [...err(`/options/${j}`), ...err(`/options/${j}/id`)];
            return (
              <div class={`survey-option ${problems.length ? 'invalid' : ''}`} key={j} data-testid={`option-${i}-${j}`}>
                <input
                  aria-label={`Option ${j + 1} label`}
                  placeholder="Label shoppers see"
                  value={o.label}
                  disabled={ro}
                  onInput={(e) => {
                    const v = (e.target as HTMLInputElement).value;
                    change((x) => {
                      const opt = x.options?.[j];
                      if (!opt) return;
                      if (opt.id === '' || opt.id === slug(opt.label)) opt.id = slug(v);
                      opt.label = v;
                    });
                  }}
                />
                <input
                  aria-label={`Option ${j + 1} id`}
                  placeholder="id"
                  class="survey-option-id"
                  value={o.id}
                  disabled={ro}
                  onInput={(e) =>
                    change((x) => {
                      const opt = x.options?.[j];
                      if (opt) opt.id = (e.target as HTMLInputElement).value;
                    })
                  }
                />
                <Button
                  kind="plain"
                  disabled={ro}
                  aria-label={`Remove option ${j + 1}`}
                  onClick={() => change((x) => void x.options?.splice(j, 1))}
                >
                  ×
                </Button>
                {problems.map((p) => (
                  <span key={p.message} class="field-error" role="alert">
                    {p.message}
                  </span>
                ))}
              </div>
            );
          })}
          {err('/options').map((p) => (
            <span key={p.message} class="field-error" role="alert">
              {p.message}
            </span>
          ))}
          <Button
            disabled={ro || (q.options?.length ?? 0) >= 50}
            onClick={() =>
              change((x) => {
                x.options = [...(x.options ?? []), { id: '', label: '' }];
              })
            }
            data-testid={`add-option-${i}`}
          >
            + Add option
          </Button>
        </fieldset>
      ) : null}
      {choice || scale ? (
        <fieldset class="survey-branches">
          <legend>Branching</legend>
          {(q.next ?? []).length === 0 ? <p class="muted small">No rules: the next question follows.</p> : null}
          {(q.next ?? []).map((b, j) => (
            <BranchRow
              key={j}
              b={b}
              q={q}
              later={later}
              ro={ro}
              problems={props.problems.filter((p) => p.pointer.startsWith(`${at}/next/${j}`))}
              set={(nb) =>
                change((x) => {
                  x.next = (x.next ?? []).map((y, k) => (k === j ? nb : y));
                })
              }
              remove={() => change((x) => void x.next?.splice(j, 1))}
              label={`Rule ${j + 1} of question ${i + 1}`}
            />
          ))}
          <Button
            disabled={ro}
            onClick={() =>
              change((x) => {
                x.next = [
                  ...(x.next ?? []),
                  { if: { answer: choice ? (x.options?.[0]?.id ?? '') : { min: scale?.min, max: scale?.max } }, goto: 'thanks' },
                ];
              })
            }
          >
            + Add rule
          </Button>
        </fieldset>
      ) : null}
    </Card>
  );
}

function BranchRow(props: {
  b: Branch;
  q: Question;
  later: Question[];
  ro: boolean;
  problems: Problem[];
  set: (b: Branch) => void;
  remove: () => void;
  label: string;
}) {
  const { b, q, ro } = props;
  const a = b.if.answer;
  const range = typeof a === 'string' ? undefined : a;
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  return (
    <fieldset class="survey-branch">
      <legend class="visually-hidden">{props.label}</legend>
      <span>If the answer</span>
      {q.options ? (
        <select
          aria-label="is"
          value={typeof a === 'string' ? a : ''}
          disabled={ro}
          onChange={(e) => props.set({ ...b, if: { answer: (e.target as HTMLSelectElement).value } })}
        >
          {q.options.map((o) => (
            <option key={o.id} value={o.id}>
              is {o.label || o.id}
            </option>
          ))}
        </select>
      ) : (
        <>
          <span>is from</span>
          <input
            type="number"
            aria-label="from"
            class="survey-num"
            value={range?.min ?? ''}
            disabled={ro}
            onInput={(e) => props.set({ ...b, if: { answer: { ...range, min: num((e.target as HTMLInputElement).value) } } })}
          />
          <span>to</span>
          <input
            type="number"
            aria-label="to"
            class="survey-num"
            value={range?.max ?? ''}
            disabled={ro}
            onInput={(e) => props.set({ ...b, if: { answer: { ...range, max: num((e.target as HTMLInputElement).value) } } })}
          />
        </>
      )}
      <span>go to</span>
      <select
        aria-label="go to"
        value={b.goto}
        disabled={ro}
        onChange={(e) => props.set({ ...b, goto: (e.target as HTMLSelectElement).value })}
      >
        {props.later.map((x) => (
          <option key={x.id} value={x.id}>
            {x.id}
          </option>
        ))}
        <option value="thanks">the thank-you step</option>
      </select>
      <Button kind="plain" disabled={ro} onClick={props.remove} aria-label={`Remove ${props.label}`}>
        ×
      </Button>
      {props.problems.map((p) => (
        <span key={p.message} class="field-error" role="alert">
          {p.message}
        </span>
      ))}
    </fieldset>
  );
}

type Change = (f: (x: SurveyDefinition) => void) => void;

function PlacementsCard(props: { d: SurveyDefinition; ro: boolean; problems: Problem[]; change: Change }) {
  const { d, ro, change } = props;
  const err = (p: string) => props.problems.filter((x) => x.pointer === p || x.pointer.startsWith(`${p}/`));
  return (
    <Card
      title="Where it shows"
      subtitle="automatic placements show it by the audience alone; otherwise only when a workflow asks (survey.show)"
    >
      <div class="survey-placements">
        {PLACEMENT_TYPES.map((t) => {
          const i = d.placements.findIndex((p) => p.type === t);
          const p: Placement | undefined = d.placements[i];
          return (
            <div class="survey-placement" key={t}>
              <label class="check">
                <input
                  type="checkbox"
                  checked={p !== undefined}
                  disabled={ro}
                  data-testid={`placement-${t}`}
                  onChange={(e) =>
                    change((x) => {
                      if ((e.target as HTMLInputElement).checked) x.placements.push({ type: t });
                      else x.placements = x.placements.filter((y) => y.type !== t);
                    })
                  }
                />{' '}
                {PLACEMENT_LABELS[t]}
              </label>
              {p ? (
                <>
                  <label class="check">
                    <input
                      type="checkbox"
                      checked={Boolean(p.auto)}
                      disabled={ro}
                      onChange={(e) =>
                        change((x) => {
                          const y = x.placements.find((z) => z.type === t);
                          if (y) y.auto = (e.target as HTMLInputElement).checked;
                        })
                      }
                    />{' '}
                    automatic
                  </label>
                  {t === 'page' ? (
                    <label>
                      <span class="small">Page types (comma separated; empty = any)</span>
                      <input
                        value={(p.pageTypes ?? []).join(', ')}
                        disabled={ro}
                        onChange={(e) =>
                          change((x) => {
                            const y = x.placements.find((z) => z.type === t);
                            if (y)
                              y.pageTypes = (e.target as HTMLInputElement).value
                                .split(',')
                                .map((s) => s.trim())
                                .filter(Boolean);
                          })
                        }
                      />
                    </label>
                  ) : null}
                  {err(`/placements/${i}`).map((x) => (
                    <span key={x.message} class="field-error" role="alert">
                      {x.message}
                    </span>
                  ))}
                </>
              ) : null}
            </div>
          );
        })}
      </div>
      <div class="survey-fields">
        <Field
          label="Audience (CEL, optional)"
          hint="e.g. page_type == 'checkout' && cart_value > 50.0"
          class="wide"
          problems={err('/audience')}
        >
          <input
            value={d.audience ?? ''}
            disabled={ro}
            onInput={(e) =>
              change((x) => {
                x.audience = (e.target as HTMLInputElement).value;
              })
            }
          />
        </Field>
        <Field label="Consent purpose" hint="the contact policy checks it (default service)" problems={err('/purpose')}>
          <input
            value={d.purpose ?? ''}
            placeholder="service"
            disabled={ro}
            onInput={(e) =>
              change((x) => {
                x.purpose = (e.target as HTMLInputElement).value;
              })
            }
          />
        </Field>
      </div>
    </Card>
  );
}

function TranslationsCard(props: { d: SurveyDefinition; ro: boolean; problems: Problem[]; change: Change }) {
  const { d, ro, change } = props;
  const locales = Object.keys(d.translations ?? {});
  const [sel, setSel] = useState<string | undefined>(locales[0]);
  const [adding, setAdding] = useState('');
  useEffect(() => {
    if (sel === undefined || !locales.includes(sel)) setSel(locales[0]);
  }, [locales.join(','), sel]);
  const t = sel ? d.translations?.[sel] : undefined;
  const keys: { key: string; original: string }[] = [];
  for (const q of d.questions) {
    keys.push({ key: q.id, original: q.prompt });
    for (const o of q.options ?? []) keys.push({ key: `${q.id}.${o.id}`, original: o.label });
  }
  keys.push({ key: 'thankYou', original: d.thankYou.text });
  const problems = props.problems.filter((p) => p.pointer.startsWith('/translations'));
  return (
    <Card title="Translations" subtitle="the widget picks the shopper's language, else its base language, else the survey's own">
      <div class="actions">
        {locales.map((l) => (
          <Button key={l} class={l === sel ? 'on' : ''} aria-pressed={l === sel} onClick={() => setSel(l)}>
            {l}
          </Button>
        ))}
        <label>
          <span class="visually-hidden">New language</span>
          <input
            placeholder="language, e.g. de"
            value={adding}
            disabled={ro}
            class="survey-lang"
            onInput={(e) => setAdding((e.target as HTMLInputElement).value)}
          />
        </label>
        <Button
          disabled={ro || adding.trim() === '' || locales.includes(adding.trim())}
          onClick={() => {
            const l = adding.trim();
            change((x) => {
              x.translations = { ...(x.translations ?? {}), [l]: {} };
            });
            setSel(l);
            setAdding('');
          }}
        >
          + Add language
        </Button>
      </div>
      {problems.map((p) => (
        <p key={p.pointer + p.message} class="field-error" role="alert">
          {p.pointer}: {p.message}
        </p>
      ))}
      {sel && t ? (
        <>
          <table class="survey-translations">
            <thead>
              <tr>
                <th>Text</th>
                <th>In {sel}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.key}>
                  <td>
                    <div>{k.original || <span class="muted">(empty)</span>}</div>
                    <code class="small">{k.key}</code>
                  </td>
                  <td>
                    <input
                      aria-label={`${k.key} in ${sel}`}
                      value={t[k.key] ?? ''}
                      disabled={ro}
                      onInput={(e) =>
                        change((x) => {
                          const tr = x.translations?.[sel];
                          if (tr) tr[k.key] = (e.target as HTMLInputElement).value;
                        })
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Button kind="danger" disabled={ro} onClick={() => change((x) => void delete x.translations?.[sel])}>
            Remove {sel}
          </Button>
        </>
      ) : (
        <p class="muted small">No translations: every shopper sees the texts above. Add a language to translate them.</p>
      )}
    </Card>
  );
}
