/**
 * The contact policy's suppression list: "do not contact" by customer id or email hash, for
 * all channels or one, optionally until a time. Email addresses are hashed before storing and
 * never echoed. Reading needs `read`; adding and removing need `admin`.
 */
import type { FastifyInstance } from 'fastify';
import {
  addSuppression,
  listSuppressions,
  removeSuppression,
  type Suppression,
  suppressionChannel,
  suppressionId,
  suppressionsOf,
  suppressionTarget,
} from '../../automate/index.ts';
import { AppError } from '../../core/index.ts';
import { getCustomer } from '../../state/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const iso = (ms: number) => new Date(ms).toISOString();

function wire(s: Suppression, nowMs: number) {
  return {
    id: s.id,
    customer: s.kind === 'customer' ? s.value : null,
    email_sha256: s.kind === 'email' ? s.value : null,
    channel: s.channel,
    reason: s.reason,
    until: s.untilMs === undefined ? null : iso(s.untilMs),
    active: s.untilMs === undefined || s.untilMs > nowMs,
    created_at: iso(s.createdMs),
    created_by: s.createdBy ?? null,
  };
}

function encodeCursor(s: Suppression): string {
  return Buffer.from(JSON.stringify([s.createdMs, s.id])).toString('base64url');
}
function decodeCursor(text: string): { createdMs: number; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { createdMs: v[0], id: v[1] };
  } catch {
    // falls through to the error below
  }
  throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
}

type Obj = Record<string, unknown>;
function objectBody(body: unknown): Obj {
  if (body === null || body === undefined) return {};
  if (typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body))
    throw new AppError('PW_REQUEST_INVALID', 'expected a JSON object like {"customer": "cus_1", "reason": "asked us"}', { pointer: '' });
  return body as Obj;
}

function until(v: unknown, nowMs: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) throw new AppError('PW_SUPPRESSION_INVALID', 'until must be an RFC 3339 time', { pointer: '/until' });
  if (ms <= nowMs) throw new AppError('PW_SUPPRESSION_INVALID', 'until must be in the future', { pointer: '/until' });
  return ms;
}

const KNOWN = ['customer', 'email', 'email_sha256', 'channel', 'reason', 'until', 'by'];

export function suppressionsRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/suppressions', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
    const now = d.clock.now();
    if (q.customer !== undefined && q.customer !== '') {
      // Every suppression that applies to this customer: any of their ids or email hashes.
      const c = await getCustomer(d.store.db, q.customer);
      let who = { ids: c === undefined ? [] : [...c.userIds, ...c.anonymousIds], emailHashes: c?.emailHashes ?? [] };
      if (c === undefined) {
        const t = await suppressionTarget(d.store.db, { customer: q.customer });
        who = t.kind === 'customer' ? { ids: [t.value], emailHashes: [] } : { ids: [], emailHashes: [t.value] };
      }
      const list = await suppressionsOf(d.store.db, who);
      return { suppressions: list.slice(0, limit).map((s) => wire(s, now)), next_cursor: null };
    }
    const list = await listSuppressions(d.store.db, { before: q.cursor ? decodeCursor(q.cursor) : undefined, limit });
    const last = list[list.length - 1];
    return { suppressions: list.map((s) => wire(s, now)), next_cursor: list.length === limit && last ? encodeCursor(last) : null };
  });

  app.post('/v1/suppressions', async (req, reply) => {
    const key = await requireScope(d.keys, req, 'admin');
    const body = objectBody(req.body);
    for (const k of Object.keys(body))
      if (!KNOWN.includes(k))
        throw new AppError('PW_SUPPRESSION_INVALID', `unknown field (known: ${KNOWN.join(', ')})`, { pointer: `/${k}` });
    if (body.reason !== undefined && typeof body.reason !== 'string')
      throw new AppError('PW_SUPPRESSION_INVALID', 'reason must be a string', { pointer: '/reason' });
    if (body.by !== undefined && (typeof body.by !== 'string' || body.by === '' || body.by.length > 200))
      throw new AppError('PW_SUPPRESSION_INVALID', 'by must be a non-empty string of at most 200 characters', { pointer: '/by' });
    const now = d.clock.now();
    const target = await suppressionTarget(d.store.db, { customer: body.customer, email: body.email, emailSha256: body.email_sha256 });
    const { suppression, created } = await addSuppression(
      d.store.db,
      {
        ...target,
        channel: suppressionChannel(body.channel),
        reason: body.reason as string | undefined,
        untilMs: until(body.until, now),
        createdBy: typeof body.by === 'string' ? body.by : `key:${key.id}`,
      },
      now,
    );
    return reply.code(created ? 201 : 200).send(wire(suppression, now));
  });

  app.delete('/v1/suppressions/:id', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const { id } = req.params as { id: string };
    if (!(await removeSuppression(d.store.db, id)))
      throw new AppError('PW_SUPPRESSION_NOT_FOUND', `no suppression "${id}"`, { status: 404 });
    return reply.code(204).send();
  });

  // By what it names: `?customer=` / `?email_sha256=` (and `&channel=`), or the same fields in a JSON body.
  app.delete('/v1/suppressions', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const q = req.query as Record<string, string | undefined>;
    const body = objectBody(req.body);
    const from = Object.keys(body).length > 0 ? body : (q as Obj);
    const target = await suppressionTarget(d.store.db, { customer: from.customer, email: from.email, emailSha256: from.email_sha256 });
    const id = suppressionId(target.kind, target.value, suppressionChannel(from.channel));
    if (!(await removeSuppression(d.store.db, id))) throw new AppError('PW_SUPPRESSION_NOT_FOUND', 'no such suppression', { status: 404 });
    return reply.code(204).send();
  });
}
