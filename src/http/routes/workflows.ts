/**
 * Workflows: list, read (any version), version history, save a new version (YAML or JSON body),
 * validate without saving, enable / pause (a new version). A workflow defined by a file in the workflows directory is read-only
 * here (409 `PW_WORKFLOW_READ_ONLY`). Reference: docs/act/workflows.md.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { builtInExecutors, executorRegistry, parseActSettings } from '../../act/index.ts';
import {
  assertWritable,
  ConditionEnvironment,
  DEFAULT_POLICY_SETTINGS,
  type ExecutorLookup,
  getWorkflow,
  listWorkflows,
  putWorkflow,
  runBacktest,
  type StoredWorkflow,
  saveWorkflow,
  validateWorkflow,
  type WorkflowDefinition,
  workflowVersions,
} from '../../automate/index.ts';
import { AppError, isoTime } from '../../core/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

/** A workflow file is small; 256 KiB leaves room for long descriptions and many steps. */
const WORKFLOW_BODY_LIMIT = 256 * 1024;
const TEXT_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain', 'application/json']);

/** What the routes need beyond HttpDeps: main.ts passes the executors it dispatches with (else the built-ins are used). */
export interface WorkflowRouteDeps extends HttpDeps {
  executors?: ExecutorLookup;
  conditionEnvironment?: ConditionEnvironment;
}

function triggerSummary(def: WorkflowDefinition): Record<string, unknown> {
  const t = def.trigger;
  switch (t.kind) {
    case 'event':
      return { kind: t.kind, events: [t.event] };
    case 'absence':
      return { kind: t.kind, events: [t.first.event, t.missing.event], within: t.within };
    case 'correlation':
      return { kind: t.kind, events: t.events.map((e) => e.event), within: t.within };
    case 'schedule':
      return { kind: t.kind, schedule: t.cron, timezone: t.timezone ?? 'UTC' };
  }
}

function summary(w: StoredWorkflow) {
  return {
    id: w.id,
    version: w.version,
    name: w.definition.name,
    enabled: w.enabled,
    source: w.source,
    file_path: w.filePath,
    read_only: w.readOnly,
    trigger: triggerSummary(w.definition),
    holdout_percent: w.definition.holdoutPercent,
    created_at: isoTime(w.createdMs),
    created_by: w.createdBy,
  };
}

function full(w: StoredWorkflow) {
  return { ...summary(w), description: w.definition.description ?? null, definition: w.definition, source_text: w.yaml };
}

/** The body as text: YAML or JSON (both read by the YAML parser, so problems have lines and columns). */
function bodyText(req: FastifyRequest): string {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!TEXT_TYPES.has(type) && !type.endsWith('+json') && !type.endsWith('+yaml'))
    throw new AppError('PW_MEDIA_TYPE', `send the workflow as application/yaml or application/json, not "${type || 'none'}"`, {
      status: 415,
    });
  const body: unknown = req.body;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw new AppError('PW_BODY_MALFORMED', 'the workflow is not UTF-8 text', { status: 400 });
    }
  }
  throw new AppError('PW_BODY_MALFORMED', 'the body is empty; a workflow (YAML or JSON) was expected', { status: 400 });
}

/**
 * The saved text with its top-level `enabled` set (comments and layout kept), or undefined when
 * there is no text to edit (a version saved without one) or it no longer parses as one mapping.
 */
function withEnabled(text: string | null, enabled: boolean): string | undefined {
  if (text === null) return undefined;
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  if (doc.has('enabled')) doc.set('enabled', enabled);
  else {
    // Near the top, after the fields that name the workflow, where a reader looks for it.
    const map: YAMLMap = doc.contents;
    const after = map.items.reduce(
      (at, pair, i) => (['schemaVersion', 'id', 'name', 'description'].includes(String(pair.key)) ? i + 1 : at),
      0,
    );
    map.items.splice(after, 0, doc.createPair('enabled', enabled));
  }
  return doc.toString();
}

function versionParam(q: Record<string, string | undefined>): number | undefined {
  if (q.version === undefined || q.version === '') return undefined;
  const n = Number(q.version);
  if (!Number.isInteger(n) || n < 1) throw new AppError('PW_QUERY_INVALID', 'version must be a positive integer', { pointer: '/version' });
  return n;
}

export function workflowsRoutes(app: FastifyInstance, d: HttpDeps): void {
  const deps = d as WorkflowRouteDeps;
  const environment = deps.conditionEnvironment ?? new ConditionEnvironment(d.registry);
  let fallback: ReturnType<typeof builtInExecutors> | undefined;
  const executors = (): ExecutorLookup => {
    if (deps.executors) return deps.executors;
    // Only their parameter checks are used here; they are closed with the app.
    fallback ??= builtInExecutors(parseActSettings(process.env).settings);
    return executorRegistry(fallback);
  };
  app.addHook('onClose', async () => {
    for (const e of fallback ?? []) await e.close?.();
  });

  // An encapsulated context: here a JSON body stays text, so its problems get lines and columns.
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    scope.get('/v1/workflows', async (req) => {
      await requireScope(d.keys, req, 'read');
      return { workflows: (await listWorkflows(d.store.db)).map(summary) };
    });

    scope.get('/v1/workflows/:id', async (req) => {
      await requireScope(d.keys, req, 'read');
      const { id } = req.params as { id: string };
      const version = versionParam(req.query as Record<string, string | undefined>);
      const w = await getWorkflow(d.store.db, id, version);
      if (!w)
        throw new AppError(
          'PW_WORKFLOW_NOT_FOUND',
          version === undefined ? `no workflow "${id}"` : `workflow "${id}" has no version ${version}`,
          {
            status: 404,
          },
        );
      return full(w);
    });

    scope.get('/v1/workflows/:id/versions', async (req) => {
      await requireScope(d.keys, req, 'read');
      const { id } = req.params as { id: string };
      const versions = await workflowVersions(d.store.db, id);
      if (versions.length === 0) throw new AppError('PW_WORKFLOW_NOT_FOUND', `no workflow "${id}"`, { status: 404 });
      return {
        id,
        versions: versions.map((v) => ({
          version: v.version,
          name: v.name,
          enabled: v.enabled,
          source: v.source,
          file_path: v.filePath,
          created_at: isoTime(v.createdMs),
          created_by: v.createdBy,
        })),
      };
    });

    scope.put('/v1/workflows/:id', { bodyLimit: WORKFLOW_BODY_LIMIT }, async (req, reply) => {
      const key = await requireScope(d.keys, req, 'admin');
      const { id } = req.params as { id: string };
      const saved = await putWorkflow(d.store.db, id, bodyText(req), {
        environment,
        executors: executors(),
        createdBy: `key:${key.id}`,
        nowMs: d.clock.now(),
      });
      return reply.code(saved.version === 1 ? 201 : 200).send(full(saved));
    });

    // Enable / pause: a new version whose text says `enabled: true|false` (history kept, runs keep theirs).
    const setEnabled = (enabled: boolean) => async (req: FastifyRequest) => {
      const key = await requireScope(d.keys, req, 'admin');
      const { id } = req.params as { id: string };
      const current = await getWorkflow(d.store.db, id);
      if (!current) throw new AppError('PW_WORKFLOW_NOT_FOUND', `no workflow "${id}"`, { status: 404 });
      assertWritable(current);
      if (current.enabled === enabled) return full(current);
      const meta = { createdBy: `key:${key.id}`, nowMs: d.clock.now() };
      const text = withEnabled(current.yaml, enabled);
      // Enabling validates the text again (a version that no longer compiles is refused with its
      // problems); pausing never does: a broken workflow must always be stoppable.
      const saved =
        enabled && text !== undefined
          ? await putWorkflow(d.store.db, id, text, { ...meta, environment, executors: executors() })
          : await saveWorkflow(d.store.db, { ...current.definition, enabled }, { ...meta, yaml: text ?? null, source: 'api' });
      return full(saved);
    };
    scope.post('/v1/workflows/:id/enable', setEnabled(true));
    scope.post('/v1/workflows/:id/pause', setEnabled(false));

    // Admin: a backtest folds the whole log into a scratch store — too heavy for every read key.
    scope.post('/v1/workflows/backtest', { bodyLimit: WORKFLOW_BODY_LIMIT }, async (req) => {
      await requireScope(d.keys, req, 'admin');
      const q = req.query as Record<string, string | undefined>;
      return runBacktest({
        text: bodyText(req),
        from: q.from,
        to: q.to,
        nowMs: d.clock.now(),
        log: d.log,
        environment,
        executors: executors(),
        policy: d.policySettings ?? DEFAULT_POLICY_SETTINGS,
        ...(d.detectors !== undefined ? { detectors: d.detectors } : {}),
      });
    });

    scope.post('/v1/workflows/validate', { bodyLimit: WORKFLOW_BODY_LIMIT }, async (req) => {
      await requireScope(d.keys, req, 'read');
      const r = validateWorkflow(bodyText(req), { environment, executors: executors() });
      return { valid: r.problems.length === 0, problems: r.problems, ...(r.definition ? { definition: r.definition } : {}) };
    });
  });
}
