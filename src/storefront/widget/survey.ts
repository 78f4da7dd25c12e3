/**
 * The survey dialog, in a shadow root: one question at a time, branching, required answers,
 * a thank-you step. Accessible: role=dialog + aria-modal, labelled by the current prompt, focus
 * kept inside and given back on close, Escape dismisses. Styles come from Pitwall's widget.css
 * (a <link>, allowed by `style-src <pitwall>`); the dialog stays hidden until they load and is
 * removed if they cannot.
 */
import { nextQuestion, scale, THANKS } from './branching.ts';
import { h } from './dom.ts';
import type { Answer, AnswerValue, Question, SurveyDefinition } from './types.ts';

export interface SurveyCallbacks {
  shown(): void;
  completed(answers: Answer[]): void;
  dismissed(answers: Answer[]): void;
}

const HINTS: Partial<Record<Question['type'], [string, string]>> = {
  nps: ['0 = not at all likely', '10 = extremely likely'],
  csat: ['1 = very unsatisfied', '5 = very satisfied'],
};

function inputsFor(q: Question): HTMLElement {
  const name = `pw-${q.id}`;
  if (q.type === 'text')
    return h('textarea', {
      name,
      rows: '3',
      maxlength: '2000',
      'aria-labelledby': 'pw-prompt',
      'aria-required': q.required ? 'true' : undefined,
    });
  const multiple = q.type === 'multiple';
  const items: [string, string][] =
    q.type === 'single' || multiple ? (q.options ?? []).map((o) => [o.id, o.label]) : scale(q).map((n) => [String(n), String(n)]);
  const list = h('div', {
    class: q.type === 'single' || multiple ? 'options' : 'scale',
    role: multiple ? 'group' : 'radiogroup',
    'aria-labelledby': 'pw-prompt',
    'aria-required': q.required ? 'true' : undefined,
  });
  for (const [value, label] of items)
    list.append(h('label', { class: 'option' }, h('input', { type: multiple ? 'checkbox' : 'radio', name, value }), h('span', {}, label)));
  const hint = HINTS[q.type];
  return hint ? h('div', {}, list, h('p', { class: 'hint' }, h('span', {}, hint[0]), h('span', {}, hint[1]))) : list;
}

function answerOf(q: Question, form: HTMLFormElement): AnswerValue | undefined {
  if (q.type === 'text') {
    const t = (form.querySelector('textarea')?.value ?? '').trim();
    return t === '' ? undefined : t;
  }
  const picked = Array.from(form.querySelectorAll<HTMLInputElement>('input:checked'), (i) => i.value);
  if (picked.length === 0) return undefined;
  if (q.type === 'multiple') return picked;
  const first = picked[0] as string;
  return q.type === 'single' ? first : Number(first);
}

/** Shows `def` once its styles load; completion is reported when the last answer is given. */
export function openSurvey(def: SurveyDefinition, cssHref: string, cb: SurveyCallbacks): void {
  const previous = document.activeElement as HTMLElement | null;
  const host = h('div', { 'data-pitwall-widget': '' });
  const root = host.attachShadow({ mode: 'open' });
  const answers: Answer[] = [];
  let finished = false;
  let closed = false;
  let reported = false;
  const reportCompleted = () => {
    if (reported) return;
    reported = true;
    cb.completed(answers);
  };

  const prompt = h('p', { id: 'pw-prompt', class: 'prompt' });
  const body = h('div', { class: 'body' });
  const error = h('p', { id: 'pw-error', class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' });
  const form = h('form', { novalidate: true }, prompt, body, error, h('div', { class: 'actions' }, submit));
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Close survey' }, '×');
  const progress = h('p', { class: 'progress', 'aria-live': 'polite' });
  const dialog = h(
    'div',
    { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'pw-prompt', tabindex: '-1' },
    close,
    form,
    progress,
  );
  const backdrop = h('div', { class: 'backdrop', hidden: true }, dialog);
  const link = h('link', { rel: 'stylesheet', href: cssHref });
  root.append(link, backdrop);

  const focusables = () =>
    Array.from(root.querySelectorAll<HTMLElement>('button, input, textarea')).filter((el) => !el.hasAttribute('disabled'));

  const teardown = () => {
    if (closed) return;
    closed = true;
    document.removeEventListener('focusin', keepFocus, true);
    host.remove();
    try {
      if (previous?.isConnected) previous.focus();
    } catch {
      // the host page's element refused focus
    }
  };
  const dismiss = () => {
    if (closed) return;
    teardown();
    if (finished) reportCompleted();
    else cb.dismissed(answers);
  };
  const keepFocus = (e: FocusEvent) => {
    if (!closed && e.target !== host) (focusables()[1] ?? close).focus();
  };

  let current: Question | undefined = def.questions[0];
  const render = () => {
    error.textContent = '';
    body.replaceChildren();
    if (!current) {
      finished = true;
      prompt.textContent = def.thankYou?.text || 'Thank you!';
      progress.textContent = '';
      submit.textContent = 'Close';
      submit.focus();
      return;
    }
    const i = def.questions.indexOf(current);
    prompt.textContent = current.prompt + (current.required ? ' *' : '');
    body.append(inputsFor(current));
    progress.textContent = `Question ${i + 1} of ${def.questions.length}`;
    submit.textContent = nextQuestion(def.questions, current, undefined) === THANKS && !current.next?.length ? 'Send' : 'Next';
    (root.querySelector<HTMLElement>('input, textarea') ?? submit).focus();
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(() => {
      if (!current) return dismiss();
      const value = answerOf(current, form);
      if (value === undefined && current.required) {
        error.textContent = 'Please answer this question.';
        for (const el of root.querySelectorAll('input, textarea')) el.setAttribute('aria-invalid', 'true');
        (root.querySelector<HTMLElement>('input, textarea') ?? submit).focus();
        return;
      }
      if (value !== undefined) answers.push({ question: current.id, value });
      const next = nextQuestion(def.questions, current, value);
      current = next === THANKS ? undefined : def.questions.find((q) => q.id === next);
      if (!current) {
        finished = true;
        reportCompleted();
      }
      render();
    });
  });
  close.addEventListener('click', () => guard(dismiss));
  dialog.addEventListener('keydown', (e) =>
    guard(() => {
      if (e.key === 'Escape') {
        e.preventDefault();
        dismiss();
      } else if (e.key === 'Tab') {
        const f = focusables();
        const active = root.activeElement;
        if (e.shiftKey && active === f[0]) {
          e.preventDefault();
          submit.focus();
        } else if (!e.shiftKey && active === submit) {
          e.preventDefault();
          f[0]?.focus();
        }
      }
    }),
  );
  link.addEventListener('load', () =>
    guard(() => {
      backdrop.hidden = false;
      document.addEventListener('focusin', keepFocus, true);
      render();
      cb.shown();
    }),
  );
  link.addEventListener('error', () => guard(teardown));
  document.body.append(host);
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch {
    // never into the host page
  }
}
