/**
 * The storefront's storage parts on SQLite and PostgreSQL: survey definitions and versions,
 * answer validation with branching, tokens, responses as events plus results and CSV,
 * impressions through the contact policy, automatic placements with a CEL audience, and
 * decisions for unknown SKUs and carts.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { DEFAULT_POLICY_SETTINGS } from '../automate/index.ts';
import { AppError, FakeClock } from '../core/index.ts';
import { type EventLog, openEventLog } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import {
  createStorefront,
  parseStorefrontSettings,
  recordImpression,
  type Storefront,
  type SurveyDefinition,
  submitResponse,
  surveyCsv,
  surveyProblems,
  surveyResults,
  TokenBuckets,
  validateAnswers,
  WHAT_STOPPED_YOU,
} from './index.ts';
import { POST_PURCHASE_CSAT } from './surveys/builtin.ts';

const T0 = Date.parse('2026-11-20T09:00:00Z');

function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

it('validates answers along the branch path: required, ranges, option ids, skipped questions', () => {
  expect(validateAnswers(WHAT_STOPPED_YOU, [{ question: 'reason', value: 'price' }])).toEqual([{ question: 'reason', value: 'price' }]);
  expect(appError(() => validateAnswers(WHAT_STOPPED_YOU, [{ question: 'details', value: 'x' }]))).toMatchObject({
    code: 'PW_SURVEY_ANSWER_INVALID',
    pointer: '/answers',
  });
  // just_browsing jumps to the thank-you step: the free-text question is not asked then.
  const skipped = appError(() =>
    validateAnswers(WHAT_STOPPED_YOU, [
      { question: 'reason', value: 'just_browsing' },
      { question: 'details', value: 'x' },
    ]),
  );
  expect(skipped.message).toContain('branching');
  expect(appError(() => validateAnswers(WHAT_STOPPED_YOU, [{ question: 'reason', value: ['price'] }]))).toMatchObject({
    pointer: '/answers/0/value',
  });
  expect(appError(() => validateAnswers(WHAT_STOPPED_YOU, [{ question: 'nope', value: 1 }]))).toMatchObject({
    pointer: '/answers/0/question',
  });
  expect(appError(() => validateAnswers(POST_PURCHASE_CSAT, [{ question: 'csat', value: 6 }]))).toMatchObject({
    pointer: '/answers/0/value',
  });
  // csat 4–5 skips the "what went wrong" question; a low score asks it.
  expect(
    validateAnswers(POST_PURCHASE_CSAT, [
      { question: 'csat', value: 5 },
      { question: 'nps', value: 10 },
    ]),
  ).toHaveLength(2);
  expect(
    appError(() =>
      validateAnswers(POST_PURCHASE_CSAT, [
        { question: 'csat', value: 5 },
        { question: 'problem', value: 'late' },
      ]),
    ).message,
  ).toContain('branching');
  expect(
    validateAnswers(POST_PURCHASE_CSAT, [
      { question: 'csat', value: 2 },
      { question: 'problem', value: 'late' },
    ]),
  ).toHaveLength(2);
});

it('reports every problem of a definition with a pointer, CEL audiences type-checked', () => {
  const bad = {
    ...WHAT_STOPPED_YOU,
    questions: [
      { id: 'a', type: 'single', prompt: 'p', required: true, options: [{ id: 'x', label: 'X' }] },
      { id: 'b', type: 'rating', prompt: 'p', required: false, min: 5, max: 1 },
    ],
    audience: 'page_type + 1',
    extra: true,
  };
  const pointers = surveyProblems(bad).map((p) => p.pointer);
  expect(pointers).toEqual(expect.arrayContaining(['/questions/0/options', '/questions/1/min', '/audience', '/extra']));
  expect(surveyProblems({ ...WHAT_STOPPED_YOU, audience: "page_type == 'checkout' && cart_value > 50.0" })).toEqual([]);
  const loop = {
    ...WHAT_STOPPED_YOU,
    questions: [{ ...WHAT_STOPPED_YOU.questions[0], next: [{ if: { answer: 'price' }, goto: 'reason' }] }],
  };
  expect(surveyProblems(loop).map((p) => p.pointer)).toContain('/questions/0/next/0/goto');
});

it('refills token buckets from the clock', () => {
  const clock = new FakeClock(T0);
  const b = new TokenBuckets(clock, { perSecond: 2, burst: 2 });
  expect([b.take('ip'), b.take('ip')]).toEqual([undefined, undefined]);
  expect(b.take('ip')).toBe(1);
  expect(b.take('other')).toBeUndefined();
  clock.advance(500);
  expect(b.take('ip')).toBeUndefined();
});

it('reads the storefront settings section with one message per bad value', () => {
  expect(parseStorefrontSettings({ rate_limits: { per_ip: { per_second: 5, burst: 10 } } }).access.perIp).toEqual({
    perSecond: 5,
    burst: 10,
  });
  const e = appError(() => parseStorefrontSettings({ rate_limits: { per_ip: { per_second: -1 } }, cache: { live_ms: 'x' }, nope: 1 }));
  expect(e.code).toBe('PW_CONFIG_INVALID');
  expect((e.extra as { problems: string[] }).problems).toHaveLength(3);
  const ok = parseStorefrontSettings({ rate_limits: { max_tracked: 500 }, publishable: { stock: 'exact', low_stock_at: 2 } });
  expect(ok.access.maxTracked).toBe(500);
  expect(ok.decide.browser).toEqual({ stock: 'exact', lowStockAt: 2 });
  expect(parseStorefrontSettings({}).decide.browser).toEqual({ stock: 'bands', lowStockAt: 5 });
  const bad = appError(() =>
    parseStorefrontSettings({ rate_limits: { max_tracked: 5 }, publishable: { stock: 'counts', low_stock_at: -1, codes: true } }),
  );
  expect((bad.extra as { problems: string[] }).problems).toEqual([
    'storefront.rate_limits.max_tracked must be a whole number from 100 to 10000000',
    'storefront.publishable.stock must be bands or exact',
    'storefront.publishable.low_stock_at must be a whole number ≥ 0',
    'storefront.publishable.codes is unknown (known: stock, low_stock_at)',
  ]);
});

describeEachBackend('storefront storage', (make) => {
  let backend: Backend;
  let store: Store;
  let log: EventLog;
  let clock: FakeClock;
  let sf: Storefront;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock(T0);
    log = openEventLog(store, clock);
    sf = await createStorefront({ store, log, clock, policy: DEFAULT_POLICY_SETTINGS, settings: { decide: { liveTtlMs: 0 } } });
  });
  afterEach(async () => {
    await log.close();
    await store.close();
    await backend.cleanup();
  });

  it('seeds the built-in surveys and versions saved definitions', async () => {
    expect([...(await sf.surveys.all()).keys()]).toEqual(['post-purchase-csat', 'what-stopped-you']);
    const def: SurveyDefinition = {
      ...WHAT_STOPPED_YOU,
      id: 'fit',
      name: 'Fit check',
      placements: [{ type: 'page', pageTypes: ['product'] }],
    };
    expect((await sf.surveys.put('fit', def)).version).toBe(1);
    expect((await sf.surveys.put('fit', { ...def, name: 'Fit check 2' })).version).toBe(2);
    expect((await sf.surveys.get('fit'))?.definition.name).toBe('Fit check 2');
    await expect(sf.surveys.put('fit', { ...def, id: 'other' })).rejects.toMatchObject({
      code: 'PW_SURVEY_INVALID',
      status: 422,
      pointer: '/id',
    });
  });

  it('rejects tokens that were not issued, are for another survey or have expired', async () => {
    const { token } = await sf.services.tokens.sign({ s: 'what-stopped-you', c: 'u-1', p: 'exit_intent', e: T0 + 60_000 });
    expect(await sf.services.tokens.verify(token, 'what-stopped-you', T0)).toMatchObject({ ok: true, claims: { c: 'u-1' } });
    expect(await sf.services.tokens.verify(token, 'post-purchase-csat', T0)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not "post-purchase-csat"'),
    });
    expect(await sf.services.tokens.verify(token, 'what-stopped-you', T0 + 60_000)).toMatchObject({
      ok: false,
      reason: 'the token has expired',
    });
    expect(await sf.services.tokens.verify(`${token.slice(0, -2)}AA`, 'what-stopped-you', T0)).toMatchObject({ ok: false });
    expect(await sf.services.tokens.verify(undefined, 'what-stopped-you', T0)).toMatchObject({ ok: false });
  });

  it('stores a response once as a survey.response event and a row; results give NPS, CSAT and CSV', async () => {
    const answers = [
      [5, 10],
      [4, 9],
      [2, 3],
    ];
    for (const [csat, nps] of answers) {
      const { token } = await sf.services.tokens.sign({
        s: 'post-purchase-csat',
        c: 'u-1',
        order: 'o-1',
        p: 'post_purchase',
        e: T0 + 86_400_000,
      });
      const input = {
        token,
        context: { cartId: '@SUM(A1)' }, // an id from the browser, echoed in the export
        answers:
          csat === 2
            ? [
                { question: 'csat', value: csat },
                { question: 'problem', value: '=HYPERLINK("x")' },
                { question: 'nps', value: nps },
              ]
            : [
                { question: 'csat', value: csat },
                { question: 'nps', value: nps },
              ],
      };
      const first = await submitResponse(sf.services, 'post-purchase-csat', input, async () => ({}));
      const again = await submitResponse(sf.services, 'post-purchase-csat', input, async () => ({}));
      expect(again).toEqual({ id: first.id, duplicate: true });
    }
    const events = await log.query({ type: 'survey.response', order: 'asc', limit: 10 });
    expect(events).toHaveLength(3);
    expect(events[0]?.event).toMatchObject({
      source: 'pitwall:storefront',
      userid: 'u-1',
      data: { survey_id: 'post-purchase-csat', order_id: 'o-1', survey_version: 1 },
    });

    const r = await surveyResults(store.db, POST_PURCHASE_CSAT);
    expect(r).toMatchObject({ responses: 3, impressions: 3, dismissed: 0, responseRate: 1, abandonmentReasons: null });
    const byId = new Map(r.questions.map((q) => [q.id, q]));
    expect(byId.get('csat')).toMatchObject({ answered: 3, csatShare: 0.6667, average: 3.67, counts: { '2': 1, '4': 1, '5': 1 } });
    expect(byId.get('nps')).toMatchObject({ answered: 3, nps: 33.3 });
    expect(byId.get('problem')?.texts?.map((t) => t.text)).toEqual(['=HYPERLINK("x")']);
    const csv = await surveyCsv(store.db, POST_PURCHASE_CSAT);
    expect(csv.split('\r\n')).toHaveLength(5);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`); // a formula is neutralised for spreadsheets
    expect(csv).toContain(`'@SUM(A1)`); // ids too
    expect(csv).not.toMatch(/(^|,)"?@SUM/m);
  });

  it('counts an impression against the survey channel, so an automatic survey is not offered again the same day', async () => {
    await sf.surveys.put('fit', {
      ...WHAT_STOPPED_YOU,
      id: 'fit',
      name: 'Fit',
      placements: [{ type: 'exit_intent', auto: true }],
      audience: "page_type == 'product' && !customer_known",
    });
    const ask = () =>
      sf.decider.decideProduct({ skus: ['X-1'], customer: { anonymousId: 'a-1' }, placement: 'exit_intent', page: { type: 'product' } });
    const first = await ask();
    expect(first.survey).toMatchObject({
      id: 'fit',
      placement: 'exit_intent',
      why: { workflow: null, rule: expect.stringContaining('automatic exit_intent') },
    });
    expect(
      (
        await sf.decider.decideProduct({
          skus: ['X-1'],
          customer: { anonymousId: 'a-1' },
          placement: 'exit_intent',
          page: { type: 'cart' },
        })
      ).survey,
    ).toBeNull();
    await sf.decider.decideProduct({ skus: ['X-1'], placement: 'exit_intent' }).then((d) => expect(d.survey).toBeNull());

    const token = (first.survey as { token: string }).token;
    await recordImpression(sf.services, 'fit', { token }, 'service');
    const contacts = await store.db.selectFrom('contact_log').selectAll().execute();
    expect(contacts).toMatchObject([{ customer_id: 'a-1', channel: 'survey', purpose: 'service', workflow_id: 'storefront' }]);
    expect((await ask()).survey).toBeNull();
    clock.advance(86_400_000 + 1000);
    expect((await ask()).survey).toMatchObject({ id: 'fit' });
  });

  it('answers unknown SKUs and carts plainly', async () => {
    const p = await sf.decider.decideProduct({ skus: ['NOPE'], region: 'DE' });
    expect(p).toMatchObject({ products: [{ sku: 'NOPE', known: false, promise: null, fitment: null, messages: [] }], survey: null });
    const c = await sf.decider.decideCheckout({ cartId: 'nope', region: 'DE' });
    expect(c).toMatchObject({
      cart: { cartId: 'nope', known: false, lines: [] },
      shippingOptions: [],
      offers: [],
      messages: [],
      survey: null,
    });
  });
});
