/**
 * What the dashboard's Surveys page reads beyond the definitions: responses and the last answer
 * per survey in `GET /v1/surveys`, and `?days=` on the results and the CSV export — over HTTP
 * (answered as the widget does: decide → token → response), and the domain functions on SQLite
 * and PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/index.ts';
import { createKey } from '../src/govern/index.ts';
import type { Store } from '../src/store/index.ts';
import { surveyResponseStats, surveyResults } from '../src/storefront/index.ts';
import { type Backend, describeEachBackend } from './support/backends.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const T = Date.parse('2026-06-10T10:00:00Z');
const DAY = 86_400_000;

const DEF = {
  id: 'quick',
  name: 'Quick',
  questions: [{ id: 'score', type: 'csat', prompt: 'How was it?', required: true }],
  thankYou: { text: 'Thanks' },
  placements: [{ type: 'exit_intent', auto: true }],
};

describe('survey list and results range over HTTP', () => {
  const clock = new FakeClock(T);
  let server: TestServer;
  let admin: string;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${server.pw.httpUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const answer = async (customer: string, score: number) => {
    const d = await call('POST', '/v1/decide/product', { skus: ['X-1'], customer: { userId: customer }, placement: 'exit_intent' });
    const token = (d.json?.survey as { token: string } | undefined)?.token;
    expect((await call('POST', '/v1/surveys/quick/responses', { token, answers: [{ question: 'score', value: score }] })).status).toBe(201);
  };

  beforeAll(async () => {
    server = await startTestServer({ name: 'surveys-list', clock });
    admin = (await createKey(server.pw.store.db, clock, { name: 'a', scopes: ['read', 'admin'] })).key;
    expect((await call('PUT', '/v1/surveys/quick', DEF)).status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists responses and the last answer per survey, and narrows results and CSV to the last days', async () => {
    await answer('c1', 5);
    clock.advance(3 * DAY);
    await answer('c2', 2);
    const list = (await call('GET', '/v1/surveys')).json?.surveys as { id: string; responses: number; lastResponseAt: string | null }[];
    expect(list.find((s) => s.id === 'quick')).toMatchObject({ responses: 2, lastResponseAt: new Date(T + 3 * DAY).toISOString() });
    expect(list.find((s) => s.id === 'what-stopped-you')).toMatchObject({ responses: 0, lastResponseAt: null });

    const all = (await call('GET', '/v1/surveys/quick/results')).json as { responses: number; questions: { csatShare: number }[] };
    expect(all.responses).toBe(2);
    expect(all.questions[0]?.csatShare).toBe(0.5);
    const recent = (await call('GET', '/v1/surveys/quick/results?days=1')).json as { responses: number; impressions: number };
    expect(recent.responses).toBe(1);
    const csv = await call('GET', '/v1/surveys/quick/results?format=csv&days=1');
    expect(csv.text.trim().split(/\r?\n/)).toHaveLength(2);
    expect(csv.text).toContain(',c2,');
    expect(csv.text).not.toContain(',c1,');

    for (const bad of ['0', '1.5', 'week', '9999'])
      expect((await call('GET', `/v1/surveys/quick/results?days=${bad}`)).json).toMatchObject({
        code: 'PW_QUERY_INVALID',
        pointer: '/days',
      });
  });
});

describeEachBackend('survey response stats and ranges', (make) => {
  let backend: Backend;
  let store: Store;
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('counts responses per survey with the last time, and keeps a range to its days', async () => {
    backend = make();
    store = await backend.open();
    const row = (id: string, survey: string, at: number, score: number) => ({
      id,
      survey_id: survey,
      version: 1,
      customer_id: id,
      cart_id: null,
      order_id: null,
      placement: 'exit_intent',
      answers: JSON.stringify([{ question: 'score', value: score }]),
      context: '{}',
      created_ms: at,
    });
    await store.db
      .insertInto('survey_responses')
      .values([row('r1', 'quick', T, 5), row('r2', 'quick', T + 2 * DAY, 1), row('r3', 'other', T + DAY, 4)])
      .execute();
    const stats = await surveyResponseStats(store.db);
    expect(stats.get('quick')).toEqual({ responses: 2, lastResponseAt: new Date(T + 2 * DAY).toISOString() });
    expect(stats.get('other')).toEqual({ responses: 1, lastResponseAt: new Date(T + DAY).toISOString() });
    expect(stats.get('none')).toBeUndefined();
    const def = { ...DEF, questions: [{ id: 'score', type: 'csat' as const, prompt: 'How was it?', required: true }] } as Parameters<
      typeof surveyResults
    >[1];
    expect((await surveyResults(store.db, def)).responses).toBe(2);
    const recent = await surveyResults(store.db, def, { sinceMs: T + DAY });
    expect(recent.responses).toBe(1);
    expect(recent.questions[0]?.csatShare).toBe(0);
  });
});
