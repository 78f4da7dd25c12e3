/**
 * Surveys (docs/storefront.md): definitions (`PUT` admin, lists `read`), the definition in one
 * locale for the widget (publishable), impressions and responses (publishable, token-checked,
 * spam-limited), results and CSV export (`read`).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/index.ts';
import { recordImpression, resolveLocale, submitResponse, surveyCsv, surveyResponseStats, surveyResults } from '../../storefront/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { jsonBody, storefrontKey } from './decide.ts';

type Obj = Record<string, unknown>;
function objectBody(body: unknown, example: string): Obj {
  const b = jsonBody(body);
  if (b === null || typeof b !== 'object' || Array.isArray(b))
    throw new AppError('PW_REQUEST_INVALID', `expected a JSON object like ${example}`, { pointer: '' });
  return b as Obj;
}

export function surveysRoutes(app: FastifyInstance, d: HttpDeps): void {
  const sf = d.storefront;
  if (sf === undefined) return;
  const find = async (id: string) => {
    const s = await sf.surveys.get(id);
    if (!s) throw new AppError('PW_SURVEY_NOT_FOUND', `no survey "${id}"`, { status: 404 });
    return s;
  };

  app.get('/v1/surveys', async (req) => {
    await requireScope(d.keys, req, 'read');
    const all = await sf.surveys.all();
    const stats = await surveyResponseStats(d.store.db);
    return {
      surveys: [...all.values()].map((s) => ({
        ...s.definition,
        version: s.version,
        source: s.source,
        updatedAt: new Date(s.updatedAt).toISOString(),
        // For the dashboard's list: how many responses, and when the last came.
        responses: stats.get(s.definition.id)?.responses ?? 0,
        lastResponseAt: stats.get(s.definition.id)?.lastResponseAt ?? null,
      })),
    };
  });

  app.put<{ Params: { id: string } }>('/v1/surveys/:id', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const s = await sf.surveys.put(req.params.id, jsonBody(req.body));
    return reply.code(s.version === 1 ? 201 : 200).send({ ...s.definition, version: s.version, source: s.source });
  });

  app.get<{ Params: { id: string }; Querystring: { locale?: string } }>('/v1/surveys/:id', async (req) => {
    await storefrontKey(d, sf, req);
    const s = await find(req.params.id);
    return resolveLocale(s.definition, s.version, req.query.locale);
  });

  app.post<{ Params: { id: string } }>('/v1/surveys/:id/impressions', async (req, reply) => {
    const key = await storefrontKey(d, sf, req);
    if (key.scopes.includes('publishable')) sf.access.limitResponses(req.ip);
    const s = await find(req.params.id);
    const body = objectBody(req.body, '{"token": "…"}');
    await recordImpression(sf.services, req.params.id, { token: body.token, dismissed: body.dismissed }, s.definition.purpose ?? 'service');
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/v1/surveys/:id/responses', async (req, reply) => {
    const key = await storefrontKey(d, sf, req);
    if (key.scopes.includes('publishable')) sf.access.limitResponses(req.ip);
    const body = objectBody(req.body, '{"token": "…", "answers": [{"question": "reason", "value": "price"}]}');
    for (const k of Object.keys(body))
      if (!['token', 'answers', 'context', 'dismissed'].includes(k))
        throw new AppError('PW_SURVEY_ANSWER_INVALID', `unknown field "${k}" (known: token, answers, context, dismissed)`, {
          status: 422,
          pointer: `/${k}`,
        });
    const r = await submitResponse(sf.services, req.params.id, body, (c, ctx) => sf.iotContext(c, ctx));
    return reply.code(r.duplicate ? 200 : 201).send({ id: r.id, duplicate: r.duplicate });
  });

  app.get<{ Params: { id: string }; Querystring: { format?: string; days?: string } }>('/v1/surveys/:id/results', async (req, reply) => {
    await requireScope(d.keys, req, 'read');
    const s = await find(req.params.id);
    const format = req.query.format ?? 'json';
    // `days`: only the last N days (of the server's clock); none = all responses.
    const days = req.query.days === undefined || req.query.days === '' ? undefined : Number(req.query.days);
    if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 3660))
      throw new AppError('PW_QUERY_INVALID', 'days must be a whole number from 1 to 3660', { pointer: '/days' });
    const range = days === undefined ? {} : { sinceMs: d.clock.now() - days * 86_400_000 };
    if (format === 'csv') {
      const csv = await surveyCsv(d.store.db, s.definition, range);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${s.definition.id}-responses.csv"`)
        .send(csv);
    }
    if (format !== 'json') throw new AppError('PW_QUERY_INVALID', 'format must be json or csv', { pointer: '/format' });
    return surveyResults(d.store.db, s.definition, range);
  });
}
