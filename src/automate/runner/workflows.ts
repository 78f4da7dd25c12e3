/**
 * Workflow versions as the runner uses them: expressions compiled once per version (lazily,
 * on first use) with the state variables each one names, and the latest enabled versions
 * indexed by the event type that triggers them.
 */
import type { Db } from '../../detect/index.ts';
import type { Evaluation, Evaluator, ExpressionCompiler, WorkflowVersions } from './ports.ts';
import { STATE_VARIABLES, type StateVariable, stateVariablesOf } from './state.ts';
import type { WorkflowDefinition } from './types.ts';

export interface Compiled<T> {
  expr: string;
  /** State variables the expression names: only these are loaded to evaluate it. */
  vars: readonly StateVariable[];
  evaluate(activation: Record<string, unknown>): Evaluation<T>;
}

/** A compile failure at run time (validation should have caught it): the run fails with it. */
function broken<T>(expr: string, error: unknown): Compiled<T> {
  const message = `does not compile: ${error instanceof Error ? error.message : String(error)}`;
  return { expr, vars: [], evaluate: () => ({ ok: false, error: message }) };
}

export class RunnableWorkflow {
  private readonly cache = new Map<string, Compiled<unknown>>();

  constructor(
    readonly definition: WorkflowDefinition,
    readonly version: number,
    private readonly compiler: ExpressionCompiler,
  ) {}

  get id(): string {
    return this.definition.id;
  }

  /** The event type of the trigger (what `event` is in conditions and steps). */
  get eventType(): string {
    const t = this.definition.trigger;
    if (t.kind === 'event') return t.event;
    if (t.kind === 'absence') return t.first.event;
    // A correlation's `event` is either of its events; a schedule has none.
    return 'any';
  }

  /** A boolean expression; `eventType` types `event` (a cancelOn entry's type, else the trigger's). */
  condition(expr: string, eventType = this.eventType): Compiled<boolean> {
    return this.compile('bool', expr, eventType, (e, site) => this.compiler.condition(e, site)) as Compiled<boolean>;
  }

  /** A value expression (`{{ … }}` templates, the `customer` expression). */
  value(expr: string, eventType = this.eventType): Compiled<unknown> {
    return this.compile('value', expr, eventType, (e, site) => this.compiler.value(e, site));
  }

  private compile(
    kind: string,
    expr: string,
    eventType: string,
    make: (expr: string, site: { workflow: WorkflowDefinition; eventType: string }) => Evaluator<unknown>,
  ): Compiled<unknown> {
    const key = `${kind}\u0000${eventType}\u0000${expr}`;
    let c = this.cache.get(key);
    if (!c) {
      try {
        const ev = make(expr, { workflow: this.definition, eventType });
        const vars = ev.variables ? STATE_VARIABLES.filter((v) => ev.variables?.has(v)) : stateVariablesOf(expr);
        c = { expr, vars, evaluate: (a) => ev.evaluate(a) };
      } catch (e) {
        c = broken(expr, e);
      }
      this.cache.set(key, c);
    }
    return c;
  }
}

/** The workflows the runner knows: the latest versions (refreshed per batch) and any version a run needs. */
export class WorkflowCatalogue {
  private readonly versions = new Map<string, RunnableWorkflow>();
  private latest: RunnableWorkflow[] = [];
  private byEvent = new Map<string, RunnableWorkflow[]>();
  private keyed = new Map<string, RunnableWorkflow[]>();

  constructor(
    private readonly source: WorkflowVersions,
    private readonly compiler: ExpressionCompiler,
  ) {}

  /** Reloads the latest versions; enabled event-triggered ones are indexed by their event type. */
  async refresh(db: Db): Promise<void> {
    const list = await this.source.latest(db);
    this.latest = list.map((w) => this.compiled(w.definition, w.version));
    const byEvent = new Map<string, RunnableWorkflow[]>();
    for (const w of this.latest) {
      const t = w.definition.trigger;
      if (!w.definition.enabled || t.kind !== 'event') continue;
      byEvent.set(t.event, [...(byEvent.get(t.event) ?? []), w]);
    }
    for (const ws of byEvent.values()) ws.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.byEvent = byEvent;
    // Absence and correlation workflows by every event type their entries name.
    const keyed = new Map<string, RunnableWorkflow[]>();
    for (const w of [...this.latest].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      const t = w.definition.trigger;
      if (!w.definition.enabled || (t.kind !== 'absence' && t.kind !== 'correlation')) continue;
      const types = t.kind === 'absence' ? [t.first.event, t.missing.event] : [t.events[0].event, t.events[1].event];
      for (const type of new Set(types)) keyed.set(type, [...(keyed.get(type) ?? []), w]);
    }
    this.keyed = keyed;
  }

  /** Enabled absence / correlation workflows with an entry on `type`, in id order. */
  keyedBy(type: string): readonly RunnableWorkflow[] {
    return this.keyed.get(type) ?? [];
  }

  /** The latest version of a workflow (as of the last refresh), disabled or not. */
  latestOf(id: string): RunnableWorkflow | undefined {
    return this.latest.find((w) => w.id === id);
  }

  /** Enabled workflows with an event trigger on `type`, in id order. */
  triggeredBy(type: string): readonly RunnableWorkflow[] {
    return this.byEvent.get(type) ?? [];
  }

  all(): readonly RunnableWorkflow[] {
    return this.latest;
  }

  /** A given version (a run keeps the one it started with). */
  async get(db: Db, id: string, version: number): Promise<RunnableWorkflow | undefined> {
    const known = this.versions.get(`${id}@${version}`);
    if (known) return known;
    const w = await this.source.get(db, id, version);
    return w ? this.compiled(w.definition, w.version) : undefined;
  }

  private compiled(definition: WorkflowDefinition, version: number): RunnableWorkflow {
    const key = `${definition.id}@${version}`;
    let c = this.versions.get(key);
    if (!c) {
      c = new RunnableWorkflow(definition, version, this.compiler);
      this.versions.set(key, c);
    }
    return c;
  }
}
