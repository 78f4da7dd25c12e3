/**
 * The outbox over HTTP: list actions (the dead letters above all) and replay a dead one. The
 * dispatcher of whichever process runs it picks a replayed action up on its next round.
 */
import type { FastifyInstance } from 'fastify';
import { type ActionStatus, openOutbox, type StoredAction } from '../../act/index.ts';
import { AppError } from '../../core/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const STATUSES: readonly ActionStatus[] = ['pending', 'done', 'dead'];
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function wire(a: StoredAction) {
  return {
    key: a.key,
    status: a.status,
    type: a.type,
    workflow_id: a.workflowId,
    workflow_version: a.workflowVersion,
    run_id: a.runId,
    step_path: a.stepPath,
    customer_id: a.customerId ?? null,
    subject: a.subject ?? null,
    params: a.params,
    attempts: a.attempts,
    created_at: iso(a.createdAtMs),
    next_attempt_at: a.status === 'pending' ? iso(a.readyAtMs) : null,
    leased_until: iso(a.leasedUntilMs),
    last_error: a.lastError ?? null,
    result: a.result ?? null,
    updated_at: iso(a.updatedAtMs),
    finished_at: iso(a.finishedAtMs),
  };
}

export function actionsRoutes(app: FastifyInstance, d: HttpDeps): void {
  const outbox = openOutbox(d.store, d.clock);

  app.get('/v1/actions', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    if (q.status !== undefined && !(STATUSES as readonly string[]).includes(q.status))
      throw new AppError('PW_QUERY_INVALID', `status must be one of ${STATUSES.join(', ')}`, { pointer: '/status' });
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
    const page = await outbox.list({
      limit,
      ...(q.status ? { status: q.status as ActionStatus } : {}),
      ...(q.workflow ? { workflowId: q.workflow } : {}),
      ...(q.run ? { runId: q.run } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { actions: page.actions.map(wire), next_cursor: page.nextCursor };
  });

  app.get('/v1/actions/:key', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { key } = req.params as { key: string };
    const a = await outbox.get(key);
    if (!a) throw new AppError('PW_ACTION_NOT_FOUND', `no action with key "${key}"`, { status: 404 });
    return wire(a);
  });

  app.post('/v1/actions/:key/replay', async (req) => {
    await requireScope(d.keys, req, 'admin');
    const { key } = req.params as { key: string };
    if (!(await outbox.replay(key))) {
      const a = await outbox.get(key);
      if (!a) throw new AppError('PW_ACTION_NOT_FOUND', `no action with key "${key}"`, { status: 404 });
      throw new AppError('PW_ACTION_NOT_DEAD', `action "${key}" is ${a.status}; only dead-lettered actions are replayed`, {
        status: 409,
        extra: { action_status: a.status },
      });
    }
    return wire((await outbox.get(key)) as StoredAction);
  });
}
