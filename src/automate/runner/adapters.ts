/**
 * The runner's ports (ports.ts) built from the other parts of Act: CEL from src/automate/conditions,
 * the contact policy and holdouts from src/automate/policy and src/automate/holdouts, workflow
 * versions from src/automate/definitions (its store).
 */
import type { Db } from '../../detect/index.ts';
import { compileCondition, compileExpression } from '../conditions/compile.ts';
import { fromCel } from '../conditions/convert.ts';
import type { Activation, ConditionEnvironment, ConditionScope } from '../conditions/environment.ts';
import { getWorkflow, listWorkflows } from '../definitions/store.ts';
import { assignHoldout } from '../holdouts/index.ts';
import { type ContactPolicySettings, checkContact, DEFAULT_POLICY_SETTINGS, recordContact } from '../policy/index.ts';
import type { ContactPolicy, Evaluator, ExpressionCompiler, WorkflowVersion, WorkflowVersions } from './ports.ts';
import type { WorkflowDefinition } from './types.ts';

/** Overrides for tests; by default the functions of src/automate/policy and src/automate/holdouts. */
export type ContactPolicyParts = Partial<ContactPolicy>;

/** Part D's policy with its settings bound (the config file's `automation.policy`, parsed). */
export function contactPolicy(settings: ContactPolicySettings = DEFAULT_POLICY_SETTINGS, parts: ContactPolicyParts = {}): ContactPolicy {
  return {
    check: parts.check ?? ((db, req) => checkContact(db, settings, req)),
    record: parts.record ?? ((db, req) => recordContact(db, req)),
    assignHoldout: parts.assignHoldout ?? ((db, w, c, p, at) => assignHoldout(db, w, c, p, at)),
  };
}

/**
 * Part B's compiler: every runner expression is compiled in a scope declaring `event` (of the
 * site's event type), `run`, `now` and the state variables; values come back as JSON (`fromCel`).
 */
export function expressionsFrom(env: ConditionEnvironment): ExpressionCompiler {
  const scopeFor = (eventType: string, workflow?: WorkflowDefinition): ConditionScope => {
    // A correlation's expressions also see `correlated` (both events, typed by their entries).
    const t = workflow?.trigger;
    const pair = t?.kind === 'correlation' ? ([t.events[0].event, t.events[1].event] as const) : undefined;
    const correlated = pair && env.hasEventType(pair[0]) && env.hasEventType(pair[1]) ? { correlated: pair } : {};
    return env.scope({ event: env.hasEventType(eventType) ? eventType : 'any', run: true, state: true, ...correlated });
  };
  return {
    condition(expr, site): Evaluator<boolean> {
      const c = compileCondition(expr, scopeFor(site.eventType, site.workflow));
      return { variables: c.variables, evaluate: (a) => c.evaluate(a as unknown as Activation) };
    },
    value(expr, site): Evaluator<unknown> {
      const c = compileExpression(expr, scopeFor(site.eventType, site.workflow), 'any');
      return {
        variables: c.variables,
        evaluate: (a) => {
          const r = c.evaluate(a as unknown as Activation);
          return r.ok ? { ok: true, value: fromCel(r.value) } : r;
        },
      };
    },
  };
}

/** Part B's workflow store, as the runner reads it (`listWorkflows` / `getWorkflow` by default). */
export interface WorkflowRepository {
  listWorkflows(db: Db): Promise<readonly { definition: WorkflowDefinition; version: number }[]>;
  getWorkflow(db: Db, id: string, version?: number): Promise<{ definition: WorkflowDefinition; version: number } | undefined>;
}

export function workflowsFrom(repo: WorkflowRepository = { listWorkflows, getWorkflow }): WorkflowVersions {
  const pick = (w: { definition: WorkflowDefinition; version: number }): WorkflowVersion => ({
    definition: w.definition,
    version: w.version,
  });
  return {
    latest: async (db) => (await repo.listWorkflows(db)).map(pick),
    get: async (db, id, version) => {
      const w = await repo.getWorkflow(db, id, version);
      return w ? pick(w) : undefined;
    },
  };
}
