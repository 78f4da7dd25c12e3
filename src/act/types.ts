/** The outbox port and the executor contract (words: see index.ts). */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../core/index.ts';
import type { Db } from '../detect/index.ts';
import type { EventLog } from '../log/index.ts';
import type { Database } from '../store/index.ts';

/** The contact-policy channel an action uses. */
export type Channel = 'survey' | 'onsite' | 'email' | 'webhook' | 'reminder' | 'ops' | 'internal';

export interface ActionRequest {
  /** deterministicId('pitwall.action', runId, stepPath): the outbox key and the receiver's idempotency key. */
  key: string;
  runId: string;
  workflowId: string;
  workflowVersion: number;
  /** e.g. "steps.0", "steps.2.then.1". */
  stepPath: string;
  /** 'webhook.send', 'email.send', … */
  type: string;
  /** Rendered by the runner (no templates left, except those an executor lists in `templateParams`). */
  params: Record<string, unknown>;
  /** Canonical customer id when the action reaches a customer. */
  customerId?: string;
  /** What it is about: cart id, shipment id, SKU… */
  subject?: string;
  createdAtMs: number;
  /** Not dispatched before this time (a deferral); default `createdAtMs`. */
  notBeforeMs?: number;
}

/** An action handed out by `claimDue`; `token` proves the claim. */
export interface ClaimedAction extends ActionRequest {
  /** Claims so far, this one included (1 on the first attempt). */
  attempts: number;
  token: string;
}

/** What an executor reports; stored with the completed action. */
export interface ActionResult {
  detail?: Record<string, unknown>;
}

export type ActionStatus = 'pending' | 'done' | 'dead';

/** An action as stored, for lists and inspection. */
export interface StoredAction extends ActionRequest {
  status: ActionStatus;
  attempts: number;
  /** When a claim may next take it (pending only). */
  readyAtMs: number;
  /** Lease expiry while claimed (possibly past: the claimer may have died). */
  leasedUntilMs: number | undefined;
  /** `CODE: message` of the last failure. */
  lastError: string | undefined;
  result: ActionResult | undefined;
  updatedAtMs: number;
  /** When it became done or dead. */
  finishedAtMs: number | undefined;
}

/** A secret by name: the current value first, older ones still valid during a rotation. */
export interface SecretStore {
  get(name: string): Promise<string[] | undefined>;
  /** A new current value; `keepPrevious` keeps the older values (up to 2) for rotation, else they are dropped. */
  set(name: string, value: string, opts?: { keepPrevious?: boolean }): Promise<void>;
  /** Names and dates only, never values. */
  list(): Promise<{ name: string; versions: number; createdAtMs: number }[]>;
  delete(name: string): Promise<boolean>;
}

export interface ExecutorContext {
  clock: Clock;
  log: EventLog;
  db: Kysely<Database>;
  secrets: SecretStore;
  logger?: Logger;
}

export interface ParamProblem {
  pointer: string;
  message: string;
}

export interface ActionExecutor {
  readonly type: string;
  /** The contact-policy channel. */
  readonly channel: Channel;
  /** The contact policy applies only to these. */
  readonly reachesCustomer: boolean;
  /** Manual minutes a person would spend on this (the Learn issue's "work saved"). */
  readonly defaultMinutesSaved: number;
  /** Params the runner must leave unrendered: the executor renders them itself (email templates). */
  readonly templateParams?: readonly string[];
  /**
   * Static validation for `pitwall workflows validate`: [] when fine. Values holding `{{ … }}`
   * are accepted where a string is expected (the runner renders them).
   */
  validateParams(params: unknown): ParamProblem[];
  /** Not dispatched before this time (a reminder's due time), from the rendered params; undefined: at once. */
  dispatchAt?(params: Record<string, unknown>, createdAtMs: number): number | undefined;
  /** Performs the action. Throws `NonRetriableError` / `RetryAfterError` to steer the dispatcher. */
  execute(action: ClaimedAction, ctx: ExecutorContext): Promise<ActionResult>;
  /** Releases connections (HTTP agent, SMTP pool). */
  close?(): Promise<void>;
}

export interface ActionQuery {
  status?: ActionStatus;
  workflowId?: string;
  runId?: string;
  limit: number;
  cursor?: string;
}

/** The durable outbox in job words. SQLite (single writer) and PostgreSQL (SKIP LOCKED). */
export interface Outbox {
  /** Inside the caller's transaction; a request whose key exists is ignored (idempotent). */
  enqueue(db: Db, requests: readonly ActionRequest[]): Promise<void>;
  /** Leases up to `limit` pending actions that are ready now, earliest first, and counts an attempt. */
  claimDue(limit: number, leaseMs: number): Promise<ClaimedAction[]>;
  /** Marks it done if `token` is still its claim; false when the claim is stale. */
  complete(key: string, token: string, result: ActionResult): Promise<boolean>;
  /** `complete` for many claims in one transaction; how many were still current. */
  completeMany(items: readonly { key: string; token: string; result: ActionResult }[]): Promise<number>;
  /** Releases the claim and makes it ready again at `atMs`; false when stale. */
  retryAt(key: string, token: string, atMs: number, error: string): Promise<boolean>;
  /** Moves it to the dead letters; false when stale. */
  deadLetter(key: string, token: string, error: string): Promise<boolean>;
  /** A dead-lettered action becomes pending again (attempts reset); false when it is not dead. */
  replay(key: string): Promise<boolean>;
  get(key: string): Promise<StoredAction | undefined>;
  /** Newest first; `nextCursor` pages on. */
  list(q: ActionQuery): Promise<{ actions: StoredAction[]; nextCursor: string | null }>;
  /** The earliest time a claim could return something, for sleeping until then. */
  nextDueAt(): Promise<number | undefined>;
  /** Pending, claimed-or-not, and dead counts (for metrics and the CLI). */
  counts(): Promise<Record<ActionStatus, number>>;
}
