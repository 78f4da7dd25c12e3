/**
 * Survey definitions: questions (single, multiple, rating, nps, csat, text), branching,
 * translations, a thank-you step, placements and an audience condition (CEL). Validation
 * returns every problem with a JSON pointer; `resolveLocale` renders one language.
 */
import { AppError } from '../../core/index.ts';
import { compileAudience } from './audience.ts';

export const QUESTION_TYPES = ['single', 'multiple', 'rating', 'nps', 'csat', 'text'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export const PLACEMENT_TYPES = ['exit_intent', 'post_purchase', 'page'] as const;
export type PlacementType = (typeof PLACEMENT_TYPES)[number];

export interface SurveyOption {
  id: string;
  label: string;
}

/** `answer`: an option id (single/multiple) or an inclusive number range (rating/nps/csat). */
export interface Branch {
  if: { answer: string | { min?: number; max?: number } };
  goto: string;
}

export interface SurveyQuestion {
  id: string;
  type: QuestionType;
  prompt: string;
  options?: SurveyOption[];
  min?: number;
  max?: number;
  required: boolean;
  /** Text questions: the longest answer (default 2000). */
  maxLength?: number;
  next?: Branch[];
}

/**
 * Where a survey may appear. `auto: true` shows it by the audience condition alone (subject to the
 * contact policy); otherwise only when a workflow's `survey.show` asks for it.
 */
export interface SurveyPlacement {
  type: PlacementType;
  auto?: boolean;
  /** `page` placements: the page types (`product`, `checkout`, …) it shows on; empty = any. */
  pageTypes?: string[];
}

export interface SurveyDefinition {
  id: string;
  name: string;
  /** The language prompts are written in (default `en`). */
  locale?: string;
  questions: SurveyQuestion[];
  thankYou: { text: string };
  /** Per locale: `questionId` → prompt, `questionId.optionId` → label, `thankYou` → text. */
  translations?: Record<string, Record<string, string>>;
  placements: SurveyPlacement[];
  audience?: string;
  /** Contact-policy purpose (default `service`). */
  purpose?: string;
}

export interface SurveyProblem {
  pointer: string;
  message: string;
}

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStr = (v: unknown, max = 1000): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= max;

/** The fixed scale of nps (0–10) and csat (1–5); rating defaults to 1–5. */
export function scaleOf(q: Pick<SurveyQuestion, 'type' | 'min' | 'max'>): { min: number; max: number } | undefined {
  if (q.type === 'nps') return { min: 0, max: 10 };
  if (q.type === 'csat') return { min: 1, max: 5 };
  if (q.type === 'rating') return { min: q.min ?? 1, max: q.max ?? 5 };
  return undefined;
}

function checkQuestion(q: unknown, p: string, out: SurveyProblem[]): void {
  if (!isObj(q)) {
    out.push({ pointer: p, message: 'must be an object {id, type, prompt, required}' });
    return;
  }
  if (typeof q.id !== 'string' || !ID.test(q.id) || q.id === 'thanks')
    out.push({ pointer: `${p}/id`, message: 'must be a lowercase id (a-z, 0-9, _ -; not "thanks")' });
  if (!(QUESTION_TYPES as readonly unknown[]).includes(q.type))
    out.push({ pointer: `${p}/type`, message: `must be one of ${QUESTION_TYPES.join(', ')}` });
  if (!isStr(q.prompt)) out.push({ pointer: `${p}/prompt`, message: 'must be a non-empty string (≤ 1000 characters)' });
  if (typeof q.required !== 'boolean') out.push({ pointer: `${p}/required`, message: 'must be true or false' });
  const choice = q.type === 'single' || q.type === 'multiple';
  if (choice) {
    if (!Array.isArray(q.options) || q.options.length < 2 || q.options.length > 50)
      out.push({ pointer: `${p}/options`, message: 'a choice question needs 2–50 options' });
    else {
      const seen = new Set<string>();
      q.options.forEach((o, j) => {
        if (!isObj(o) || typeof o.id !== 'string' || !ID.test(o.id) || !isStr(o.label, 200))
          out.push({ pointer: `${p}/options/${j}`, message: 'must be {id, label} with a lowercase id' });
        else if (seen.has(o.id)) out.push({ pointer: `${p}/options/${j}/id`, message: `option id "${o.id}" is used twice` });
        else seen.add(o.id);
      });
    }
  } else if (q.options !== undefined) out.push({ pointer: `${p}/options`, message: 'only single and multiple questions have options' });
  if (q.type === 'rating') {
    const min = q.min ?? 1;
    const max = q.max ?? 5;
    if (!Number.isInteger(min) || !Number.isInteger(max) || (min as number) >= (max as number) || (max as number) - (min as number) > 100)
      out.push({ pointer: `${p}/min`, message: 'rating min and max must be integers with min < max (at most 100 apart)' });
  } else if (q.min !== undefined || q.max !== undefined)
    out.push({ pointer: `${p}/min`, message: 'min / max apply to rating questions only (nps is 0–10, csat 1–5)' });
  if (q.maxLength !== undefined && (q.type !== 'text' || !Number.isInteger(q.maxLength) || (q.maxLength as number) < 1))
    out.push({ pointer: `${p}/maxLength`, message: 'maxLength is a positive integer, for text questions only' });
}

function checkBranches(def: Obj, out: SurveyProblem[]): void {
  const questions = def.questions as Obj[];
  const index = new Map(questions.map((q, i) => [q.id, i]));
  questions.forEach((q, i) => {
    if (q.next === undefined) return;
    if (!Array.isArray(q.next)) {
      out.push({ pointer: `/questions/${i}/next`, message: 'must be a list of {if: {answer}, goto}' });
      return;
    }
    q.next.forEach((b, j) => {
      const p = `/questions/${i}/next/${j}`;
      if (!isObj(b) || !isObj(b.if)) {
        out.push({ pointer: p, message: 'must be {if: {answer}, goto}' });
        return;
      }
      const target = b.goto === 'thanks' ? questions.length : index.get(b.goto);
      if (typeof b.goto !== 'string' || target === undefined)
        out.push({ pointer: `${p}/goto`, message: 'must name a question id or "thanks"' });
      else if (target <= i) out.push({ pointer: `${p}/goto`, message: 'may only jump forward (no loops)' });
      const a = b.if.answer;
      const options = Array.isArray(q.options) ? (q.options as Obj[]).map((o) => o.id) : [];
      if (typeof a === 'string') {
        if (!options.includes(a)) out.push({ pointer: `${p}/if/answer`, message: 'must be an option id of this question' });
      } else if (isObj(a) && (q.type === 'rating' || q.type === 'nps' || q.type === 'csat')) {
        if ((a.min !== undefined && typeof a.min !== 'number') || (a.max !== undefined && typeof a.max !== 'number'))
          out.push({ pointer: `${p}/if/answer`, message: 'a range is {min?, max?} with numbers' });
      } else out.push({ pointer: `${p}/if/answer`, message: 'an option id (choice questions) or {min, max} (scales)' });
    });
  });
}

/** Every problem with a definition; empty when it is valid. `id` is the id from the URL, when given. */
export function surveyProblems(raw: unknown, id?: string): SurveyProblem[] {
  const out: SurveyProblem[] = [];
  if (!isObj(raw)) return [{ pointer: '', message: 'a survey is an object {id, name, questions, thankYou, placements}' }];
  if (typeof raw.id !== 'string' || !ID.test(raw.id)) out.push({ pointer: '/id', message: 'must be a lowercase id (a-z, 0-9, _ -)' });
  else if (id !== undefined && raw.id !== id) out.push({ pointer: '/id', message: `must be "${id}", as in the URL` });
  if (!isStr(raw.name, 200)) out.push({ pointer: '/name', message: 'must be a non-empty string' });
  if (raw.locale !== undefined && !isStr(raw.locale, 20))
    out.push({ pointer: '/locale', message: 'must be a language tag like en or de-DE' });
  if (!Array.isArray(raw.questions) || raw.questions.length === 0 || raw.questions.length > 50)
    out.push({ pointer: '/questions', message: 'must list 1–50 questions' });
  else {
    raw.questions.forEach((q, i) => {
      checkQuestion(q, `/questions/${i}`, out);
    });
    const ids = raw.questions.map((q) => (isObj(q) ? q.id : undefined));
    ids.forEach((qid, i) => {
      if (qid !== undefined && ids.indexOf(qid) !== i)
        out.push({ pointer: `/questions/${i}/id`, message: `question id "${String(qid)}" is used twice` });
    });
    if (out.length === 0) checkBranches(raw, out);
  }
  if (!isObj(raw.thankYou) || !isStr(raw.thankYou.text)) out.push({ pointer: '/thankYou/text', message: 'must be a non-empty string' });
  if (raw.translations !== undefined) {
    if (!isObj(raw.translations)) out.push({ pointer: '/translations', message: 'must map a locale to {id: text}' });
    else
      for (const [loc, t] of Object.entries(raw.translations)) {
        if (!isObj(t) || Object.values(t).some((v) => !isStr(v)))
          out.push({ pointer: `/translations/${loc}`, message: 'must map question ids, questionId.optionId and thankYou to text' });
      }
  }
  if (!Array.isArray(raw.placements)) out.push({ pointer: '/placements', message: 'must be a list (may be empty)' });
  else
    raw.placements.forEach((pl, i) => {
      if (!isObj(pl) || !(PLACEMENT_TYPES as readonly unknown[]).includes(pl.type))
        out.push({ pointer: `/placements/${i}/type`, message: `must be one of ${PLACEMENT_TYPES.join(', ')}` });
      else if (pl.auto !== undefined && typeof pl.auto !== 'boolean')
        out.push({ pointer: `/placements/${i}/auto`, message: 'must be true or false' });
      else if (pl.pageTypes !== undefined && (!Array.isArray(pl.pageTypes) || pl.pageTypes.some((t) => !isStr(t, 50))))
        out.push({ pointer: `/placements/${i}/pageTypes`, message: 'must be a list of page types' });
    });
  if (raw.audience !== undefined) {
    if (typeof raw.audience !== 'string') out.push({ pointer: '/audience', message: 'must be a CEL expression (a string)' });
    else {
      const c = compileAudience(raw.audience);
      if (!c.ok) out.push({ pointer: '/audience', message: c.message });
    }
  }
  if (raw.purpose !== undefined && !isStr(raw.purpose, 50))
    out.push({ pointer: '/purpose', message: 'must be a consent purpose like service' });
  const known = ['id', 'name', 'locale', 'questions', 'thankYou', 'translations', 'placements', 'audience', 'purpose'];
  for (const k of Object.keys(raw))
    if (!known.includes(k)) out.push({ pointer: `/${k}`, message: `unknown field (known: ${known.join(', ')})` });
  return out;
}

/** The definition, or PW_SURVEY_INVALID (422) listing every problem. */
export function parseSurvey(raw: unknown, id?: string): SurveyDefinition {
  const problems = surveyProblems(raw, id);
  const first = problems[0];
  if (first)
    throw new AppError('PW_SURVEY_INVALID', `the survey is invalid: ${first.message} at ${first.pointer || '(root)'}`, {
      status: 422,
      pointer: first.pointer,
      extra: { problems },
    });
  return raw as SurveyDefinition;
}

/** The definition in one language (falling back to its own per text) for the widget. */
export function resolveLocale(def: SurveyDefinition, version: number, locale: string | undefined) {
  const own = def.locale ?? 'en';
  const tr = def.translations ?? {};
  const wanted = locale?.trim() || own;
  const chosen = tr[wanted] !== undefined ? wanted : tr[wanted.split('-')[0] ?? ''] !== undefined ? (wanted.split('-')[0] as string) : own;
  const t = tr[chosen] ?? {};
  return {
    id: def.id,
    version,
    locale: chosen,
    questions: def.questions.map((q) => ({
      id: q.id,
      type: q.type,
      prompt: t[q.id] ?? q.prompt,
      required: q.required,
      ...(q.options ? { options: q.options.map((o) => ({ id: o.id, label: t[`${q.id}.${o.id}`] ?? o.label })) } : {}),
      ...(scaleOf(q) ?? {}),
      ...(q.type === 'text' ? { maxLength: q.maxLength ?? 2000 } : {}),
      ...(q.next ? { next: q.next } : {}),
    })),
    thankYou: { text: t.thankYou ?? def.thankYou.text },
  };
}
