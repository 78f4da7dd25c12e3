/**
 * A workflow definition as stored and run (the YAML surface is in docs/act/workflows.md). The
 * shapes follow act-design.md exactly: the runner codes against them.
 */

export interface TriggerEvent {
  event: string;
  /** CEL over `event` (and the state): only matching events count. */
  filter?: string;
}
export interface KeyedTriggerEvent extends TriggerEvent {
  /** CEL: the key (a string, or a list of strings — any shared element matches) the events are paired on. */
  key: string;
}

export type Trigger =
  | { kind: 'event'; event: string; filter?: string }
  | { kind: 'absence'; first: KeyedTriggerEvent; missing: KeyedTriggerEvent; within: string }
  | { kind: 'correlation'; events: [KeyedTriggerEvent, KeyedTriggerEvent]; within: string; lookback?: string }
  | { kind: 'schedule'; cron: string; timezone?: string };

export type Step =
  | {
      kind: 'action';
      id?: string;
      action: string;
      with: Record<string, unknown>;
      /** The consent purpose the contact policy checks (lower case); default `marketing`. */
      purpose?: string;
    }
  | { kind: 'wait'; id?: string; duration: string }
  | { kind: 'if'; id?: string; condition: string; then: Step[]; else: Step[] };

export interface FlowControl {
  /** Runs start only once `period` passes without another trigger for the same key (the last one wins). */
  debounce?: { key: string; period: string };
  /** At most `limit` runs start per key per `period`. */
  throttle?: { key: string; limit: number; period: string };
  /** At most `limit` runs in flight per key. */
  concurrency?: { key: string; limit: number };
  /** CEL: one run per value (within the dedupe window). */
  idempotency?: string;
}

export interface WorkflowDefinition {
  schemaVersion: 1;
  /** `[a-z0-9-]+`. */
  id: string;
  name: string;
  description?: string;
  /** Default true. */
  enabled: boolean;
  /** 0–50, default 0. */
  holdoutPercent: number;
  /** Default 'skip'. */
  onPolicyBlock: 'skip' | 'defer';
  /** CEL: the customer identifier for the run (default: event.userid, else event.anonymousid). */
  customer?: string;
  trigger: Trigger;
  /** CEL; all must be true. */
  conditions: string[];
  steps: Step[];
  /** CEL `match` over `event` and `run`. */
  cancelOn: { event: string; match?: string }[];
  flow?: FlowControl;
  /** Per action type; overrides the executor's default. */
  minutesSaved?: Record<string, number>;
}

/** One validation problem; `line` / `column` are 1-based (0 when there is no source text). */
export interface WorkflowProblem {
  file?: string;
  line: number;
  column: number;
  /** RFC 6901 pointer into the definition as written (`/steps/2/if`). */
  pointer: string;
  message: string;
  code: string;
}

/** What validation needs of an executor (Part A's `ActionExecutor` satisfies it). */
export interface ExecutorInfo {
  validateParams(params: unknown): { pointer: string; message: string }[];
  /** Params the executor renders itself (not `{{ … }}` CEL templates). */
  readonly templateParams?: readonly string[];
}
export type ExecutorLookup = ReadonlyMap<string, ExecutorInfo>;

/** The consent purposes a step may name when validation is given none (the contact policy's defaults). */
export const DEFAULT_PURPOSES: readonly string[] = ['marketing', 'service', 'transactional'];
