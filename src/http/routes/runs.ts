/**
 * Workflow runs and their traces: list, read one with its trace, and "why did (or didn't)
 * workflow W act for customer C?", and per workflow its last run and recent count (docs/act/runner.md). All read-only, scope `read`.
 */
import type { FastifyInstance } from 'fastify';
import {
  canonicalCustomer,
  countRunsSince,
  decodeRunCursor,
  encodeRunCursor,
  explainRuns,
  getRun,
  getWorkflow,
  listRuns,
  listWorkflows,
  RUN_STATUSES,
  type Run,
  type RunStatus,
  runTrace,
  type TraceEntry,
} from '../../automate/index.ts';
import { AppError } from '../../core/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function wireRun(r: Run) {
  return {
    id: r.id,
    workflow_id: r.workflowId,
    workflow_version: r.workflowVersion,
    customer_id: r.customerId ?? null,
    status: r.status,
    outcome: r.outcome ?? null,
    trigger_kind: r.triggerKind,
    trigger_event_ids: r.triggerEventIds,
    subject: r.subject ?? null,
    step_path: r.stepPath ?? null,
    wake_at: iso(r.wakeAt),
    wake_kind: r.wakeKind ?? null,
    actions: r.actions,
    started_at: iso(r.startedAt),
    updated_at: iso(r.updatedAt),
    ended_at: iso(r.endedAt),
  };
}

function wireTrace(t: TraceEntry) {
  return { seq: t.seq, at: iso(t.at), kind: t.kind, step_path: t.stepPath ?? null, detail: t.detail };
}

function limitOf(v: string | undefined, max: number, dflt: number): number {
  const limit = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new AppError('PW_QUERY_INVALID', `limit must be an integer from 1 to ${max}`, { pointer: '/limit' });
  return limit;
}

const DAY_MS = 86_400_000;
export function runsRoutes(app: FastifyInstance, d: HttpDeps): void {
  // Before `/v1/runs/:id` in meaning only: a static path wins over the parameter (run ids are UUIDs).
  app.get('/v1/runs/summary', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const days = q.days === undefined || q.days === '' ? 7 : Number(q.days);
    if (!Number.isInteger(days) || days < 1 || days > 90)
      throw new AppError('PW_QUERY_INVALID', 'days must be an integer from 1 to 90', { pointer: '/days' });
    const now = d.clock.now();
    const since = now - days * DAY_MS;
    const counts = await countRunsSince(d.store.db, since);
    const workflows = [];
    for (const w of await listWorkflows(d.store.db)) {
      const byStatus = counts.get(w.id) ?? {};
      const [latest] = await listRuns(d.store.db, { workflowId: w.id, limit: 1 });
      workflows.push({
        workflow_id: w.id,
        runs: Object.values(byStatus).reduce((a, n) => a + (n ?? 0), 0),
        runs_capped: false,
        by_status: byStatus,
        last_run: latest
          ? { id: latest.id, status: latest.status, outcome: latest.outcome ?? null, started_at: iso(latest.startedAt) }
          : null,
      });
    }
    return { days, since: iso(since), to: iso(now), workflows };
  });

  app.get('/v1/runs', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    if (q.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(q.status))
      throw new AppError('PW_QUERY_INVALID', `status must be one of ${RUN_STATUSES.join(', ')}`, { pointer: '/status' });
    const limit = limitOf(q.limit, 500, 50);
    let customerId: string | undefined;
    if (q.customer) {
      customerId = await canonicalCustomer(d.store.db, q.customer);
      if (customerId === undefined) return { runs: [], next_cursor: null };
    }
    const runs = await listRuns(d.store.db, {
      workflowId: q.workflow || undefined,
      customerId,
      status: q.status as RunStatus | undefined,
      before: q.cursor ? decodeRunCursor(q.cursor) : undefined,
      limit,
    });
    const last = runs[runs.length - 1];
    return { runs: runs.map(wireRun), next_cursor: runs.length === limit && last ? encodeRunCursor(last) : null };
  });

  app.get('/v1/runs/:id', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const run = await getRun(d.store.db, id);
    if (!run) throw new AppError('PW_RUN_NOT_FOUND', `no run "${id}"`, { status: 404 });
    return { ...wireRun(run), trace: (await runTrace(d.store.db, id)).map(wireTrace) };
  });

  app.get('/v1/workflows/:id/why', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const q = req.query as Record<string, string | undefined>;
    if (!q.customer)
      throw new AppError('PW_QUERY_INVALID', 'customer is required: any identifier (user id, email:…, vin:…)', { pointer: '/customer' });
    const limit = limitOf(q.limit, 50, 5);
    const why = await explainRuns(d.store.db, id, q.customer, limit);
    if (why.runs.length === 0 && !(await getWorkflow(d.store.db, id)))
      throw new AppError('PW_WORKFLOW_NOT_FOUND', `no workflow "${id}"`, { status: 404 });
    return {
      workflow_id: why.workflowId,
      customer: why.identifier,
      customer_id: why.customerId ?? null,
      answer: why.answer,
      runs: why.runs.map((r) => ({ ...wireRun(r.run), summary: r.summary, deciding: r.deciding.map(wireTrace) })),
    };
  });
}
