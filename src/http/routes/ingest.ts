/** Ways in over HTTP: CloudEvents (all three modes), Segment's Tracking API, SenML. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/index.ts';
import type { SegmentCall } from '../../events/index.ts';
import { fromBinary, modeOf } from '../../events/index.ts';
import type { EventOutcome } from '../../ingest/index.ts';
import { keySource, requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

/** Segment's limits: 500 KB per batch request, 32 KB per event. */
export const SEGMENT_BATCH_LIMIT = 500 * 1024;
export const EVENTS_BODY_LIMIT = 1024 * 1024;

function summary(outcomes: EventOutcome[]) {
  let accepted = 0;
  let duplicates = 0;
  let rejected = 0;
  for (const o of outcomes) {
    if (o.status === 'accepted') accepted++;
    else if (o.status === 'duplicate') duplicates++;
    else rejected++;
  }
  return { accepted, duplicates, rejected };
}

/** A single event that was rejected is a 400 (and quarantined); otherwise its outcome. */
function single(reply: FastifyReply, o: EventOutcome | undefined) {
  if (!o) throw new AppError('PW_INTERNAL', 'no outcome', { status: 500 });
  if (o.status === 'rejected') {
    throw new AppError(o.code, o.message, { status: 400, pointer: o.pointer, extra: { quarantine_id: o.quarantine_id, id: o.id } });
  }
  return reply.code(200).send(o);
}

function parseJsonBody(body: unknown): unknown {
  if (Buffer.isBuffer(body)) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new AppError('PW_BODY_MALFORMED', `the body is not valid JSON: ${(e as Error).message}`);
    }
  }
  return body;
}

function contentLength(req: FastifyRequest): number | undefined {
  const n = Number(req.headers['content-length']);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function historyHeader(req: FastifyRequest): boolean {
  return String(req.headers['pitwall-history'] ?? '').toLowerCase() === 'true';
}

export function ingestRoutes(app: FastifyInstance, d: HttpDeps): void {
  // CloudEvents: structured (one), batch (many), binary (ce-* headers).
  app.post('/v1/events', { bodyLimit: EVENTS_BODY_LIMIT }, async (req, reply) => {
    await requireScope(d.keys, req, 'ingest');
    const ct = req.headers['content-type'];
    const mode = modeOf(ct, req.headers);
    const history = historyHeader(req);
    if (mode === 'binary') {
      const raw = fromBinary(req.headers, req.body, ct);
      const [outcomes = []] = await d.ingestor.ingest('cloudevents', [{ raw, ctx: { history } }]);
      return single(reply, outcomes[0]);
    }
    const body = parseJsonBody(req.body);
    if (mode === 'batch' || Array.isArray(body)) {
      if (!Array.isArray(body)) throw new AppError('PW_BODY_MALFORMED', 'a CloudEvents batch must be a JSON array', { pointer: '' });
      const outcomes = (
        await d.ingestor.ingest(
          'cloudevents',
          body.map((raw) => ({ raw, ctx: { history } })),
        )
      ).map((o) => o[0] as EventOutcome);
      return reply.code(200).send({ ...summary(outcomes), results: outcomes.map((o, index) => ({ index, ...o })) });
    }
    const [outcomes = []] = await d.ingestor.ingest('cloudevents', [{ raw: body, ctx: { history } }]);
    return single(reply, outcomes[0]);
  });

  // Segment HTTP Tracking API.
  const segment = (call: SegmentCall | 'batch') => async (req: FastifyRequest, reply: FastifyReply) => {
    req.body = parseJsonBody(req.body);
    const key = await requireScope(d.keys, req, 'ingest', true);
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new AppError('PW_BODY_MALFORMED', 'the body must be a JSON object', { pointer: '' });
    const ctx = { source: keySource(key), history: historyHeader(req) };
    if (call === 'batch') {
      if (!Array.isArray(body.batch)) throw new AppError('PW_SEGMENT_INVALID', 'batch must be an array of messages', { pointer: '/batch' });
      // One context object for the whole batch: the Segment door builds its options once per context.
      const batchCtx = { ...ctx, batchSentAt: body.sentAt };
      const outcomes = (
        await d.ingestor.ingest(
          'segment',
          body.batch.map((raw) => ({ raw, ctx: batchCtx })),
          { bodyBytes: contentLength(req) },
        )
      ).map((o) => o[0] as EventOutcome);
      return reply.code(200).send({ success: true, ...summary(outcomes), results: outcomes.map((o, index) => ({ index, ...o })) });
    }
    const { writeKey: _omit, ...message } = body;
    const [outcomes = []] = await d.ingestor.ingest('segment', [{ raw: message, ctx: { ...ctx, call } }], {
      bodyBytes: contentLength(req),
    });
    const o = outcomes[0];
    if (o?.status === 'rejected') return single(reply, o);
    return reply.code(200).send({ success: true, ...o });
  };
  for (const call of ['batch', 'track', 'identify', 'page', 'alias'] as const) {
    app.post(`/v1/${call}`, { bodyLimit: SEGMENT_BATCH_LIMIT }, segment(call));
    app.options(`/v1/${call}`, async (_req, reply) => reply.code(204).send());
  }

  // SenML over HTTP.
  app.post('/v1/senml', { bodyLimit: EVENTS_BODY_LIMIT }, async (req, reply) => {
    const key = await requireScope(d.keys, req, 'ingest');
    const q = req.query as { device?: string };
    const [outcomes = []] = await d.ingestor.ingest('senml', [
      {
        raw: parseJsonBody(req.body),
        ctx: { source: keySource(key), deviceId: typeof q.device === 'string' ? q.device : undefined, history: historyHeader(req) },
      },
    ]);
    const rejectedWhole = outcomes.length === 1 && outcomes[0]?.status === 'rejected' && outcomes[0].id === undefined;
    if (rejectedWhole) return single(reply, outcomes[0]);
    return reply.code(200).send({ ...summary(outcomes), results: outcomes.map((o, index) => ({ index, ...o })) });
  });
}
