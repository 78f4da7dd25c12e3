/**
 * Conditions: list, read, acknowledge, clear by hand. Acknowledging appends
 * `condition.acknowledged` and clearing `condition.cleared` to the log; when this process runs the
 * Decide stage the answer waits until it is folded (200), otherwise the Decide process folds it
 * later (202).
 */
import type { FastifyInstance } from 'fastify';
import { AppError, uuidv7 } from '../../core/index.ts';
import {
  acknowledgementEvent,
  type Condition,
  type ConditionStatus,
  clearanceEvent,
  getCondition,
  listConditions,
} from '../../detect/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const STATUSES = ['open', 'raised', 'acknowledged', 'cleared'] as const;
/** How long an acknowledgement waits for the state consumer before answering 202. */
const FOLD_WAIT_MS = 5_000;

function wire(c: Condition) {
  return {
    id: c.id,
    kind: c.kind,
    key: c.key,
    status: c.status,
    severity: c.severity,
    summary: c.summary,
    details: c.details,
    raised_at: c.raisedAt,
    raised_event_id: c.raisedEventId,
    last_raised_at: c.lastRaisedAt,
    raise_count: c.raiseCount,
    acknowledged_at: c.acknowledgedAt ?? null,
    acknowledged_by: c.acknowledgedBy ?? null,
    note: c.note ?? null,
    cleared_at: c.clearedAt ?? null,
    cleared_event_id: c.clearedEventId ?? null,
  };
}

function encodeCursor(c: Condition): string {
  return Buffer.from(JSON.stringify([Date.parse(c.raisedAt), c.id])).toString('base64url');
}
function decodeCursor(s: string): { raisedMs: number; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { raisedMs: v[0], id: v[1] };
  } catch {
    // falls through to the error below
  }
  throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
}

export function conditionsRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/conditions', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const status = q.status ?? 'open';
    if (!(STATUSES as readonly string[]).includes(status))
      throw new AppError('PW_QUERY_INVALID', `status must be one of ${STATUSES.join(', ')}`, { pointer: '/status' });
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
    const conditions = await listConditions(d.store.db, {
      status: status as ConditionStatus | 'open',
      kind: q.kind || undefined,
      key: q.key || undefined,
      before: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit,
    });
    const last = conditions[conditions.length - 1];
    return { conditions: conditions.map(wire), next_cursor: conditions.length === limit && last ? encodeCursor(last) : null };
  });

  app.get('/v1/conditions/:id', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const c = await getCondition(d.store.db, id);
    if (!c) throw new AppError('PW_CONDITION_NOT_FOUND', `no condition "${id}"`, { status: 404 });
    return wire(c);
  });

  /**
   * A change to one condition by a person: validated `{note?, by?}`, skipped when `done(c)` already
   * holds, else the event appended and (when this process folds) waited for.
   */
  const change = (path: string, make: typeof acknowledgementEvent, done: (c: Condition) => boolean) =>
    app.post(path, async (req, reply) => {
      const key = await requireScope(d.keys, req, 'admin');
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as { note?: unknown; by?: unknown };
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new AppError('PW_REQUEST_INVALID', 'expected a JSON object like {"note": "…"}', { pointer: '' });
      if (body.note !== undefined && (typeof body.note !== 'string' || body.note.length > 2000))
        throw new AppError('PW_REQUEST_INVALID', 'note must be a string of at most 2000 characters', { pointer: '/note' });
      if (body.by !== undefined && (typeof body.by !== 'string' || body.by === '' || body.by.length > 200))
        throw new AppError('PW_REQUEST_INVALID', 'by must be a non-empty string of at most 200 characters', { pointer: '/by' });
      const c = await getCondition(d.store.db, id);
      if (!c) throw new AppError('PW_CONDITION_NOT_FOUND', `no condition "${id}"`, { status: 404 });
      if (done(c)) return wire(c);
      const by = typeof body.by === 'string' ? body.by : `key:${key.id}`;
      const event = make(id, by, typeof body.note === 'string' ? body.note : undefined, d.clock.now(), uuidv7(d.clock));
      const [outcome] = await d.log.append([{ event, receivedAt: d.clock.now() }]);
      if (outcome && d.state) {
        let timer: NodeJS.Timeout | undefined;
        const folded = await Promise.race([
          d.state.caughtUp(outcome.seq).then(() => true),
          new Promise<boolean>((r) => {
            timer = setTimeout(() => r(false), FOLD_WAIT_MS);
          }),
        ]);
        clearTimeout(timer);
        const after = folded ? await getCondition(d.store.db, id) : undefined;
        if (after) return wire(after);
      }
      return reply.code(202).send({ ...wire(c), change: { event_id: event.id, type: event.type, status: 'pending' } });
    });

  // Acknowledging twice, or a cleared condition, changes nothing.
  change('/v1/conditions/:id/acknowledge', acknowledgementEvent, (c) => c.acknowledgedAt !== undefined || c.status === 'cleared');
  // Clearing by hand: closes an open condition now (a recurrence opens a new one).
  change('/v1/conditions/:id/clear', clearanceEvent, (c) => c.status === 'cleared');
}
