/**
 * Impressions and responses. A response needs a valid token (the survey was shown through a
 * decide answer); answers are checked against the definition along the branch path taken. The
 * response becomes a `survey.response` event in the log and a row the results read.
 */
import type { Kysely } from 'kysely';
import { consumeDirective } from '../../act/index.ts';
import { recordContact } from '../../automate/index.ts';
import { AppError, type Clock, deterministicId, isoTime } from '../../core/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { EventLog } from '../../log/index.ts';
import type { Database } from '../../store/index.ts';
import { type SurveyDefinition, type SurveyQuestion, scaleOf } from './definition.ts';
import type { SurveyStore } from './store.ts';
import type { SurveyTokens, TokenClaims } from './token.ts';

export const STOREFRONT_SOURCE = 'pitwall:storefront';

export interface Answer {
  question: string;
  value: string | number | string[];
}

function notShown(reason: string): AppError {
  return new AppError('PW_SURVEY_NOT_SHOWN', `a response for a survey that was not shown: ${reason}`, { status: 422, pointer: '/token' });
}
function invalid(message: string, pointer: string): AppError {
  return new AppError('PW_SURVEY_ANSWER_INVALID', message, { status: 422, pointer });
}

function branchTarget(q: SurveyQuestion, value: Answer['value'] | undefined): string | undefined {
  if (value === undefined) return undefined;
  for (const b of q.next ?? []) {
    const a = b.if.answer;
    if (typeof a === 'string') {
      if (value === a || (Array.isArray(value) && value.includes(a))) return b.goto;
    } else if (typeof value === 'number' && (a.min === undefined || value >= a.min) && (a.max === undefined || value <= a.max))
      return b.goto;
  }
  return undefined;
}

function checkValue(q: SurveyQuestion, v: unknown, p: string): Answer['value'] {
  const ids = (q.options ?? []).map((o) => o.id);
  switch (q.type) {
    case 'single':
      if (typeof v !== 'string' || !ids.includes(v)) throw invalid(`"${q.id}" takes one of ${ids.join(', ')}`, p);
      return v;
    case 'multiple':
      if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || !ids.includes(x)) || new Set(v).size !== v.length)
        throw invalid(`"${q.id}" takes a non-empty list of distinct options from ${ids.join(', ')}`, p);
      return v as string[];
    case 'text': {
      const max = q.maxLength ?? 2000;
      if (typeof v !== 'string' || v.length > max) throw invalid(`"${q.id}" takes text of at most ${max} characters`, p);
      return v;
    }
    default: {
      const s = scaleOf(q) as { min: number; max: number };
      if (typeof v !== 'number' || !Number.isInteger(v) || v < s.min || v > s.max)
        throw invalid(`"${q.id}" takes a whole number from ${s.min} to ${s.max}`, p);
      return v;
    }
  }
}

/** Checks the answers against the definition: known questions, once each, values in range, required ones on the path answered. */
export function validateAnswers(def: SurveyDefinition, raw: unknown): Answer[] {
  if (!Array.isArray(raw) || raw.length > def.questions.length)
    throw invalid(`answers must be a list of at most ${def.questions.length} {question, value}`, '/answers');
  const byId = new Map(def.questions.map((q) => [q.id, q]));
  const given = new Map<string, Answer['value']>();
  raw.forEach((a, i) => {
    const p = `/answers/${i}`;
    if (a === null || typeof a !== 'object' || Array.isArray(a)) throw invalid('an answer is {question, value}', p);
    const { question, value } = a as { question?: unknown; value?: unknown };
    const q = typeof question === 'string' ? byId.get(question) : undefined;
    if (!q) throw invalid(`unknown question ${JSON.stringify(question)}; known: ${[...byId.keys()].join(', ')}`, `${p}/question`);
    if (given.has(q.id)) throw invalid(`"${q.id}" is answered twice`, `${p}/question`);
    given.set(q.id, checkValue(q, value, `${p}/value`));
  });
  // Walk the path the answers take; required questions on it must be answered, ones off it must not be.
  const onPath = new Set<string>();
  let i = 0;
  while (i < def.questions.length) {
    const q = def.questions[i] as SurveyQuestion;
    onPath.add(q.id);
    const v = given.get(q.id);
    if (v === undefined && q.required) throw invalid(`"${q.id}" is required`, '/answers');
    const target = branchTarget(q, v);
    if (target === 'thanks') break;
    i = target === undefined ? i + 1 : def.questions.findIndex((x) => x.id === target);
  }
  for (const id of given.keys()) if (!onPath.has(id)) throw invalid(`"${id}" is not asked after the answers given (branching)`, '/answers');
  return [...given].map(([question, value]) => ({ question, value }));
}

export interface SurveyServices {
  db: Kysely<Database>;
  clock: Clock;
  log: EventLog;
  surveys: SurveyStore;
  tokens: SurveyTokens;
}

async function claimsFor(s: SurveyServices, surveyId: string, token: unknown): Promise<TokenClaims> {
  const v = await s.tokens.verify(token, surveyId, s.clock.now());
  if (!v.ok) throw notShown(v.reason);
  return v.claims;
}

/** The widget showed (or the shopper dismissed) a survey: counts for the contact policy's survey channel. */
export async function recordImpression(
  s: SurveyServices,
  surveyId: string,
  body: { token?: unknown; dismissed?: unknown },
  purpose: string,
): Promise<void> {
  const c = await claimsFor(s, surveyId, body.token);
  const now = s.clock.now();
  await s.db
    .insertInto('survey_impressions')
    .values({
      token_id: c.t,
      survey_id: surveyId,
      customer_id: c.c ?? null,
      placement: c.p,
      shown_ms: now,
      dismissed_ms: body.dismissed === true ? now : null,
    })
    .onConflict((oc) =>
      body.dismissed === true ? oc.column('token_id').doUpdateSet({ dismissed_ms: now }) : oc.column('token_id').doNothing(),
    )
    .execute();
  if (c.d !== undefined) await consumeDirective(s.db, c.d, now);
  if (c.c !== undefined)
    await recordContact(s.db, {
      actionKey: `survey:${c.t}`,
      customerId: c.c,
      channel: 'survey',
      purpose,
      workflowId: c.d ? 'workflow' : 'storefront',
      atMs: now,
    });
}

export interface ResponseInput {
  token?: unknown;
  answers?: unknown;
  context?: unknown;
  dismissed?: unknown;
}

/** Stores a response and appends its `survey.response` event; a repeat of the same token returns the first id. */
export async function submitResponse(
  s: SurveyServices,
  surveyId: string,
  input: ResponseInput,
  iotContext: (claims: TokenClaims, ctx: Record<string, string>) => Promise<Record<string, unknown>>,
): Promise<{ id: string; duplicate: boolean }> {
  const stored = await s.surveys.get(surveyId);
  if (!stored) throw new AppError('PW_SURVEY_NOT_FOUND', `no survey "${surveyId}"`, { status: 404 });
  const c = await claimsFor(s, surveyId, input.token);
  const id = deterministicId('pitwall.survey.response', c.t);
  if (input.dismissed === true) {
    await recordImpression(s, surveyId, { token: input.token, dismissed: true }, stored.definition.purpose ?? 'service');
    return { id, duplicate: false };
  }
  const answers = validateAnswers(stored.definition, input.answers);
  if (answers.length === 0) throw invalid('a response needs at least one answer (send dismissed: true to close without one)', '/answers');
  const ctxIn: Record<string, string> = {};
  if (input.context !== undefined) {
    if (input.context === null || typeof input.context !== 'object' || Array.isArray(input.context))
      throw invalid('context is {url?, cartId?, orderId?, sku?}', '/context');
    for (const [k, v] of Object.entries(input.context)) {
      if (!['url', 'cartId', 'orderId', 'sku'].includes(k))
        throw invalid(`unknown context field "${k}" (known: url, cartId, orderId, sku)`, `/context/${k}`);
      if (typeof v !== 'string' || v.length > 2000) throw invalid(`context.${k} must be a string`, `/context/${k}`);
      ctxIn[k] = v;
    }
  }
  const prev = await s.db.selectFrom('survey_responses').select(['id']).where('id', '=', id).executeTakeFirst();
  if (prev) return { id, duplicate: true };
  const now = s.clock.now();
  const cartId = c.cart ?? ctxIn.cartId;
  const orderId = c.order ?? ctxIn.orderId;
  const iot = await iotContext(c, ctxIn);
  const labels = new Map(stored.definition.questions.map((q) => [q.id, q.prompt]));
  const event: CloudEvent = {
    specversion: '1.0',
    id,
    source: STOREFRONT_SOURCE,
    type: 'survey.response',
    time: isoTime(now),
    ...(c.c !== undefined ? { subject: c.c, userid: c.c } : {}),
    datacontenttype: 'application/json',
    data: {
      survey_id: surveyId,
      response_id: id,
      placement: c.p,
      answers: answers.map((a) => ({ question_id: a.question, value: a.value, label: labels.get(a.question) })),
      ...(cartId !== undefined ? { cart_id: cartId } : {}),
      ...(orderId !== undefined ? { order_id: orderId } : {}),
      survey_version: stored.version,
      context: { ...(ctxIn.url ? { url: ctxIn.url } : {}), ...(ctxIn.sku ? { sku: ctxIn.sku } : {}), ...iot },
    },
  };
  await s.log.append([{ event, receivedAt: now }]);
  await s.db
    .insertInto('survey_responses')
    .values({
      id,
      survey_id: surveyId,
      version: stored.version,
      customer_id: c.c ?? null,
      cart_id: cartId ?? null,
      order_id: orderId ?? null,
      placement: c.p,
      answers: JSON.stringify(answers),
      context: JSON.stringify((event.data as { context: unknown }).context),
      created_ms: now,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  // Answering counts as shown, for a widget that did not report the impression.
  await recordImpression(s, surveyId, { token: input.token }, stored.definition.purpose ?? 'service');
  return { id, duplicate: false };
}
