/**
 * A live preview of a survey as the storefront widget renders it: the same markup and the same
 * stylesheet (`/widget.css`, in a shadow root like the widget's), one question at a time with the
 * survey's branching, required answers and the thank-you step, in any of its locales.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Question, SurveyDefinition } from './surveys-types.tsx';
import { scaleOf } from './surveys-types.tsx';

const HINTS: Partial<Record<Question['type'], [string, string]>> = {
  nps: ['0 = not at all likely', '10 = extremely likely'],
  csat: ['1 = very unsatisfied', '5 = very satisfied'],
};

/** The definition in one locale (falling back to its own text), as `GET /v1/surveys/:id?locale=` does. */
export function localised(def: SurveyDefinition, locale: string): SurveyDefinition {
  const t = def.translations?.[locale];
  if (!t) return def;
  return {
    ...def,
    questions: def.questions.map((q) => ({
      ...q,
      prompt: t[q.id] || q.prompt,
      ...(q.options ? { options: q.options.map((o) => ({ id: o.id, label: t[`${q.id}.${o.id}`] || o.label })) } : {}),
    })),
    thankYou: { text: t.thankYou || def.thankYou.text },
  };
}

type Value = string | number | string[] | undefined;

/** The widget's branching: the first matching rule's target, else the next question; 'thanks' ends. */
export function nextOf(questions: Question[], q: Question, value: Value): string {
  for (const b of q.next ?? []) {
    const a = b.if.answer;
    if (typeof a === 'string') {
      if (value === a || (Array.isArray(value) && value.includes(a))) return b.goto;
    } else if (typeof value === 'number' && (a.min === undefined || value >= a.min) && (a.max === undefined || value <= a.max))
      return b.goto;
  }
  const i = questions.indexOf(q);
  return questions[i + 1]?.id ?? 'thanks';
}

export function SurveyPreview(props: { def: SurveyDefinition }) {
  const locales = [props.def.locale || 'en', ...Object.keys(props.def.translations ?? {})];
  const [locale, setLocale] = useState(locales[0] ?? 'en');
  const [at, setAt] = useState<string | undefined>(props.def.questions[0]?.id);
  const def = localised(props.def, locales.includes(locale) ? locale : (locales[0] ?? 'en'));
  const current = at === 'thanks' ? undefined : (def.questions.find((q) => q.id === at) ?? def.questions[0]);
  const host = useRef<HTMLDivElement>(null);
  const shadow = useRef<ShadowRoot | undefined>(undefined);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    shadow.current ??= el.shadowRoot ?? el.attachShadow({ mode: 'open' });
    render(
      <Dialog
        def={def}
        current={at === 'thanks' ? undefined : current}
        onNext={(value) => {
          if (!current) setAt(def.questions[0]?.id);
          else setAt(nextOf(def.questions, current, value));
        }}
      />,
      shadow.current,
    );
  });
  useEffect(
    () => () => {
      if (shadow.current) render(null, shadow.current);
    },
    [],
  );

  return (
    <div class="survey-preview">
      <div class="survey-preview-bar">
        <label>
          Step{' '}
          <select value={at ?? ''} onChange={(e) => setAt((e.target as HTMLSelectElement).value)} data-testid="preview-step">
            {def.questions.map((q, i) => (
              <option key={q.id} value={q.id}>
                {i + 1}. {q.id}
              </option>
            ))}
            <option value="thanks">thank you</option>
          </select>
        </label>
        {locales.length > 1 ? (
          <label>
            Language{' '}
            <select value={locale} onChange={(e) => setLocale((e.target as HTMLSelectElement).value)} data-testid="preview-locale">
              {locales.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button type="button" class="btn" onClick={() => setAt(def.questions[0]?.id)}>
          Restart
        </button>
      </div>
      <div ref={host} data-testid="survey-preview" />
    </div>
  );
}

/** The widget's dialog markup (src/storefront/widget/survey.ts), laid out in the page instead of over it. */
function Dialog(props: { def: SurveyDefinition; current: Question | undefined; onNext: (v: Value) => void }) {
  const { def, current } = props;
  const [error, setError] = useState('');
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => setError(''), [current?.id]);
  const i = current ? def.questions.indexOf(current) : -1;
  const last = current ? nextOf(def.questions, current, undefined) === 'thanks' && !current.next?.length : false;

  const submit = (e: Event) => {
    e.preventDefault();
    if (!current) return props.onNext(undefined);
    const f = form.current;
    let value: Value;
    if (current.type === 'text') {
      const t = (f?.querySelector('textarea')?.value ?? '').trim();
      value = t === '' ? undefined : t;
    } else {
      const picked = Array.from(f?.querySelectorAll<HTMLInputElement>('input:checked') ?? [], (x) => x.value);
      value =
        picked.length === 0 ? undefined : current.type === 'multiple' ? picked : current.type === 'single' ? picked[0] : Number(picked[0]);
    }
    if (value === undefined && current.required) {
      setError('Please answer this question.');
      return;
    }
    if (f) f.reset();
    props.onNext(value);
  };

  return (
    <>
      <link rel="stylesheet" href="/widget.css" />
      <div class="backdrop" style={{ position: 'relative', inset: 'auto', zIndex: 'auto', minHeight: '340px', borderRadius: '8px' }}>
        <div class="dialog" role="dialog" aria-label="Survey preview">
          <button type="button" class="close" aria-label="Close survey" disabled>
            ×
          </button>
          <form ref={form} noValidate onSubmit={submit} key={current?.id ?? 'thanks'}>
            <p class="prompt">{current ? current.prompt + (current.required ? ' *' : '') : def.thankYou.text || 'Thank you!'}</p>
            <div class="body">{current ? <Inputs q={current} /> : null}</div>
            <p class="error" role="alert">
              {error}
            </p>
            <div class="actions">
              <button type="submit" class="primary">
                {!current ? 'Close' : last ? 'Send' : 'Next'}
              </button>
            </div>
          </form>
          <p class="progress">{current ? `Question ${i + 1} of ${def.questions.length}` : ''}</p>
        </div>
      </div>
    </>
  );
}

function Inputs(props: { q: Question }) {
  const q = props.q;
  const name = `pw-${q.id}`;
  if (q.type === 'text') return <textarea name={name} rows={3} maxLength={q.maxLength ?? 2000} aria-label={q.prompt} />;
  const multiple = q.type === 'multiple';
  const choice = q.type === 'single' || multiple;
  const s = scaleOf(q);
  const items: [string, string][] = choice
    ? (q.options ?? []).map((o) => [o.id, o.label])
    : s
      ? Array.from({ length: Math.max(0, Math.min(101, s.max - s.min + 1)) }, (_, k) => [String(s.min + k), String(s.min + k)])
      : [];
  const hint = HINTS[q.type];
  const list = (
    // biome-ignore lint/a11y/useAriaPropsSupportedByRole: group and radiogroup both take aria-label (the role is chosen at run time)
    <div class={choice ? 'options' : 'scale'} role={multiple ? 'group' : 'radiogroup'} aria-label={q.prompt}>
      {items.map(([value, label]) => (
        <label class="option" key={value}>
          <input type={multiple ? 'checkbox' : 'radio'} name={name} value={value} />
          <span>{label}</span>
        </label>
      ))}
    </div>
  );
  return hint ? (
    <div>
      {list}
      <p class="hint">
        <span>{hint[0]}</span>
        <span>{hint[1]}</span>
      </p>
    </div>
  ) : (
    list
  );
}
