/** Survey results from the response table: counts per option, NPS, CSAT, abandonment reasons, free text, CSV. */
import type { Kysely } from 'kysely';
import { toCsv } from '../../catalog/index.ts';
import type { Database } from '../../store/index.ts';
import type { SurveyDefinition } from './definition.ts';
import type { Answer } from './responses.ts';

export interface QuestionResult {
  id: string;
  type: string;
  prompt: string;
  answered: number;
  /** single / multiple: per option; scales: per value. */
  counts?: Record<string, number>;
  average?: number | null;
  /** nps: % promoters (9–10) − % detractors (0–6), −100…100. */
  nps?: number | null;
  /** csat: share of 4–5 answers, 0…1. */
  csatShare?: number | null;
  /** text: the newest answers (up to 200). */
  texts?: { response: string; at: string; text: string }[];
}

export interface SurveyResults {
  survey: string;
  impressions: number;
  dismissed: number;
  responses: number;
  responseRate: number | null;
  questions: QuestionResult[];
  /** The first single-choice question of an exit-intent survey, as shares: why shoppers left. */
  abandonmentReasons: { reason: string; label: string; count: number; share: number }[] | null;
}

const MAX_ROWS = 100_000;

interface Row {
  id: string;
  customer_id: string | null;
  cart_id: string | null;
  order_id: string | null;
  placement: string;
  answers: string;
  created_ms: number;
}

/** A time window of responses (and impressions): from `sinceMs` on; none = all. */
export interface ResultsRange {
  sinceMs?: number;
}

async function rowsOf(db: Kysely<Database>, surveyId: string, range: ResultsRange = {}): Promise<Row[]> {
  let q = db
    .selectFrom('survey_responses')
    .select(['id', 'customer_id', 'cart_id', 'order_id', 'placement', 'answers', 'created_ms'])
    .where('survey_id', '=', surveyId);
  if (range.sinceMs !== undefined) q = q.where('created_ms', '>=', range.sinceMs);
  const rows = await q.orderBy('created_ms', 'desc').orderBy('id').limit(MAX_ROWS).execute();
  return rows.map((r) => ({ ...r, created_ms: Number(r.created_ms) }));
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

export async function surveyResults(db: Kysely<Database>, def: SurveyDefinition, range: ResultsRange = {}): Promise<SurveyResults> {
  const rows = await rowsOf(db, def.id, range);
  let impQ = db
    .selectFrom('survey_impressions')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.count<number>('dismissed_ms').as('d')])
    .where('survey_id', '=', def.id);
  if (range.sinceMs !== undefined) impQ = impQ.where('shown_ms', '>=', range.sinceMs);
  const imp = await impQ.executeTakeFirst();
  const impressions = Number(imp?.n ?? 0);
  const parsed = rows.map((r) => ({ r, answers: new Map((JSON.parse(r.answers) as Answer[]).map((a) => [a.question, a.value])) }));
  const questions = def.questions.map((q): QuestionResult => {
    const values = parsed.flatMap(({ r, answers }) => (answers.has(q.id) ? [{ r, v: answers.get(q.id) as Answer['value'] }] : []));
    const out: QuestionResult = { id: q.id, type: q.type, prompt: q.prompt, answered: values.length };
    if (q.type === 'single' || q.type === 'multiple') {
      const counts: Record<string, number> = Object.fromEntries((q.options ?? []).map((o) => [o.id, 0]));
      for (const { v } of values) for (const o of Array.isArray(v) ? v : [String(v)]) counts[o] = (counts[o] ?? 0) + 1;
      out.counts = counts;
    } else if (q.type === 'text') {
      out.texts = values.slice(0, 200).map(({ r, v }) => ({ response: r.id, at: new Date(r.created_ms).toISOString(), text: String(v) }));
    } else {
      const nums = values.map(({ v }) => Number(v));
      const counts: Record<string, number> = {};
      for (const n of nums) counts[String(n)] = (counts[String(n)] ?? 0) + 1;
      out.counts = counts;
      out.average = nums.length === 0 ? null : round(nums.reduce((a, b) => a + b, 0) / nums.length, 2);
      if (q.type === 'nps')
        out.nps =
          nums.length === 0
            ? null
            : round(((nums.filter((n) => n >= 9).length - nums.filter((n) => n <= 6).length) / nums.length) * 100, 1);
      if (q.type === 'csat') out.csatShare = nums.length === 0 ? null : round(nums.filter((n) => n >= 4).length / nums.length);
    }
    return out;
  });
  let abandonmentReasons: SurveyResults['abandonmentReasons'] = null;
  const reasonQ = def.placements.some((p) => p.type === 'exit_intent') ? def.questions.find((q) => q.type === 'single') : undefined;
  const reasonR = reasonQ ? questions.find((q) => q.id === reasonQ.id) : undefined;
  if (reasonQ && reasonR?.counts) {
    const total = reasonR.answered;
    abandonmentReasons = (reasonQ.options ?? [])
      .map((o) => ({
        reason: o.id,
        label: o.label,
        count: reasonR.counts?.[o.id] ?? 0,
        share: total === 0 ? 0 : round((reasonR.counts?.[o.id] ?? 0) / total),
      }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  }
  return {
    survey: def.id,
    impressions,
    dismissed: Number(imp?.d ?? 0),
    responses: rows.length,
    responseRate: impressions === 0 ? null : round(Math.min(1, rows.length / impressions)),
    questions,
    abandonmentReasons,
  };
}

/** Free text starting with = + - @ would run as a formula in a spreadsheet: prefix it with '. */
function spreadsheetSafe(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One row per response, one column per question (multiple choice joined with `|`). */
export async function surveyCsv(db: Kysely<Database>, def: SurveyDefinition, range: ResultsRange = {}): Promise<string> {
  const rows = await rowsOf(db, def.id, range);
  const header = ['response_id', 'created_at', 'customer', 'cart_id', 'order_id', 'placement', ...def.questions.map((q) => q.id)];
  const records = rows.map((r) => {
    const answers = new Map((JSON.parse(r.answers) as Answer[]).map((a) => [a.question, a.value]));
    return [
      r.id,
      new Date(r.created_ms).toISOString(),
      // Ids come from callers (a browser's context, the identifier it named): neutralised like answers.
      spreadsheetSafe(r.customer_id ?? ''),
      spreadsheetSafe(r.cart_id ?? ''),
      spreadsheetSafe(r.order_id ?? ''),
      r.placement,
      ...def.questions.map((q) => {
        const v = answers.get(q.id);
        return v === undefined ? '' : spreadsheetSafe(Array.isArray(v) ? v.join('|') : String(v));
      }),
    ];
  });
  return toCsv([header, ...records]);
}

/** Per survey: how many responses and when the last came (for the survey list). */
export async function surveyResponseStats(
  db: Kysely<Database>,
): Promise<Map<string, { responses: number; lastResponseAt: string | null }>> {
  const rows = await db
    .selectFrom('survey_responses')
    .select((eb) => ['survey_id', eb.fn.countAll<number>().as('n'), eb.fn.max('created_ms').as('last')])
    .groupBy('survey_id')
    .execute();
  return new Map(
    rows.map((r) => [
      r.survey_id,
      { responses: Number(r.n), lastResponseAt: r.last === null || r.last === undefined ? null : new Date(Number(r.last)).toISOString() },
    ]),
  );
}
