/**
 * What the runner needs from the other parts of Act, in the words of act-design.md: workflow
 * versions and compiled CEL (Part B), the outbox and the action types (Part A), the contact
 * policy and holdouts (Part D). `adapters.ts` builds these from those parts; tests may pass
 * their own.
 */
import type { ActionRequest, Channel } from '../../act/index.ts';
import type { Db } from '../../detect/index.ts';
import type { ContactRequest, PolicyVerdict } from '../policy/index.ts';
import type { WorkflowDefinition } from './types.ts';

/** A CEL evaluation: a run-time error is a value (a non-match with its reason), never a throw. */
export type Evaluation<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Evaluator<T> {
  /** The variables the expression reads, when the compiler knows (else the runner scans the text). */
  readonly variables?: ReadonlySet<string>;
  /** Over `{ nowMs, event, run, <state variables> }`. */
  evaluate(activation: Record<string, unknown>): Evaluation<T>;
}

/** Where an expression sits: its `event` is of `eventType` (the trigger's, or a cancelOn entry's). */
export interface ExpressionSite {
  workflow: WorkflowDefinition;
  eventType: string;
}

/** Compiles a workflow's expressions; throws (with the CEL message) when one does not compile. */
export interface ExpressionCompiler {
  condition(expr: string, site: ExpressionSite): Evaluator<boolean>;
  value(expr: string, site: ExpressionSite): Evaluator<unknown>;
}

export interface WorkflowVersion {
  definition: WorkflowDefinition;
  version: number;
}

export interface WorkflowVersions {
  /** The latest version of every workflow (disabled ones included; the runner skips them). */
  latest(db: Db): Promise<WorkflowVersion[]>;
  /** One version: a run keeps the version it started with. */
  get(db: Db, id: string, version: number): Promise<WorkflowVersion | undefined>;
}

/** What the runner reads of an executor; Part A's `executorRegistry` map satisfies it. */
export interface ActionTypes {
  get(type: string):
    | {
        readonly channel: Channel;
        readonly reachesCustomer: boolean;
        /** Params left unrendered: the executor renders them itself (email templates). */
        readonly templateParams?: readonly string[];
        /** Not dispatched before this time (a reminder's due time); the outbox holds it until then. */
        dispatchAt?(params: Record<string, unknown>, createdAtMs: number): number | undefined;
      }
    | undefined;
}

export interface OutboxWriter {
  /** Inside the caller's transaction; a request whose key exists is ignored. */
  enqueue(db: Db, requests: readonly ActionRequest[]): Promise<void>;
}

/** Part D's contact policy, its settings already bound. */
export interface ContactPolicy {
  check(db: Db, req: ContactRequest): Promise<PolicyVerdict>;
  /** In the same transaction as the outbox enqueue. */
  record(db: Db, req: ContactRequest & { actionKey: string }): Promise<void>;
  assignHoldout(db: Db, workflowId: string, customerId: string, percent: number, atMs: number): Promise<'treatment' | 'holdout'>;
}
