/**
 * The declared CEL environment. One `ConditionEnvironment` per event-type catalogue: a frozen
 * base (state and run types, functions) and, per expression context, a **scope** that declares
 * `event` with the type of the event the expression sees. Expressions are type-checked against
 * their scope when a workflow is validated, so a misspelt field (`cart.vlaue`) or a type
 * mismatch (`cart.value > "50"`) is a validation problem, not a 3 a.m. run-time error.
 */
import { Environment } from '@marcbachmann/cel-js';
import { type CompiledExpression, type CompileProblem, compileIn, type ExpectedType } from './compile.ts';
import { type Ctors, ctorFor, emptyObject, Meter, toCel } from './convert.ts';
import { ANY_EVENT, type EventTypeLookup, eventShape, resolveEventType } from './event-shapes.ts';
import { celTypeName, type ObjectShape, objectShapesIn, type Shape, TIMESTAMP } from './shapes.ts';
import { RUN, type RunFacts, STATE_VARIABLE_NAMES, STATE_VARIABLES, type StateVariable } from './state-shapes.ts';

/** Budgets for parsing and evaluating one expression. */
export interface ConditionLimits {
  /** List / map element reads per evaluation (default 100,000). */
  operations: number;
  /** Wall time per evaluation, checked while it runs; needs `elapsed`. Off by default: it makes results machine-dependent (backtests). */
  timeMs?: number;
  /** A monotonic millisecond counter for `timeMs` (e.g. `performance.now`). */
  elapsed?: () => number;
  /** Syntax-tree nodes per expression (default 500). */
  maxAstNodes: number;
  /** Nesting depth of calls, selections and literals (default 32). */
  maxDepth: number;
  /** Nested comprehension macros (`all`, `exists`, `map`, `filter`, …), default 2. */
  maxComprehensionNesting: number;
}

export const DEFAULT_LIMITS: ConditionLimits = { operations: 100_000, maxAstNodes: 500, maxDepth: 32, maxComprehensionNesting: 2 };

/** What an expression sees; see docs/act/workflows.md#expressions. */
export interface ScopeSpec {
  /** The type of `event`: an event type name, `any` (data is dyn), or absent (no `event`). */
  event?: string;
  /** Declares `correlated.first` / `correlated.second`, typed by these event types. */
  correlated?: readonly [string, string];
  /** Declares `run`. */
  run?: boolean;
  /** Declares the state variables (customer, cart, shipment, …). */
  state?: boolean;
}

/** The values an expression is evaluated over: Pitwall's own types, converted on first use. */
export interface Activation {
  /** The time of the evaluation (epoch ms, from the runner's clock): `now` in expressions. */
  nowMs?: number;
  event?: unknown;
  correlated?: { first: unknown; second: unknown };
  run?: RunFacts;
  customer?: unknown;
  cart?: unknown;
  shipment?: unknown;
  product?: unknown;
  stock?: unknown;
  vehicle?: unknown;
  device?: unknown;
  quality?: unknown;
}

export class UnknownEventType extends Error {}

/** A context with its declared variables; compiles expressions against them. */
export class ConditionScope {
  /** The declared variable names. */
  readonly variables: readonly string[];
  private readonly shapes: ReadonlyMap<string, Shape>;
  private readonly prepared = new WeakMap<object, Record<string, unknown>>();
  readonly meter: Meter;

  constructor(
    readonly cel: Environment,
    shapes: Map<string, Shape>,
    private readonly ctors: Ctors,
    readonly limits: ConditionLimits,
  ) {
    this.shapes = shapes;
    this.variables = [...shapes.keys()];
    this.meter = new Meter(limits.operations, limits.timeMs, limits.elapsed);
  }

  /** The declared shape of a variable. */
  shapeOf(name: string): Shape | undefined {
    return this.shapes.get(name);
  }

  /** Parses and type-checks `expr`; `expect` is the result type required. */
  compile(
    expr: string,
    expect: ExpectedType = 'any',
  ): { ok: true; expression: CompiledExpression } | { ok: false; problem: CompileProblem } {
    return compileIn(this, expr, expect);
  }

  /**
   * The CEL context for an activation: each variable converted on first read and kept for the
   * activation object's lifetime (so several expressions over one activation convert once).
   * A declared state variable with no value is an empty object; `now` comes from `nowMs`.
   */
  context(a: Activation): Record<string, unknown> {
    const cached = this.prepared.get(a);
    if (cached) return cached;
    const ctx: Record<string, unknown> = {};
    for (const [name, shape] of this.shapes) {
      let done = false;
      let value: unknown;
      Object.defineProperty(ctx, name, {
        enumerable: true,
        get: () => {
          if (!done) {
            value = this.convert(name, shape, a);
            done = true;
          }
          return value;
        },
      });
    }
    this.prepared.set(a, ctx);
    return ctx;
  }

  private convert(name: string, shape: Shape, a: Activation): unknown {
    if (name === 'now') return a.nowMs === undefined ? undefined : new Date(a.nowMs);
    if (name === 'correlated') {
      if (!a.correlated || shape.kind !== 'object') return undefined;
      return toCel(shape, a.correlated, this.ctors, this.meter);
    }
    const raw = (a as unknown as Record<string, unknown>)[name];
    const v = toCel(shape, raw, this.ctors, this.meter);
    if (v === undefined && shape.kind === 'object' && (STATE_VARIABLE_NAMES as string[]).includes(name))
      return emptyObject(shape, this.ctors);
    return v;
  }
}

/** The environment for one event-type catalogue. Scopes are cached by what they declare. */
export class ConditionEnvironment {
  readonly limits: ConditionLimits;
  private readonly base: Environment;
  private readonly ctors: Ctors = new Map();
  private readonly scopes = new Map<string, ConditionScope>();
  private readonly events = new Map<string, ObjectShape>();

  constructor(
    private readonly eventTypes: EventTypeLookup,
    limits: Partial<ConditionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const base = new Environment({
      limits: { maxAstNodes: this.limits.maxAstNodes, maxDepth: this.limits.maxDepth, maxListElements: 100, maxMapEntries: 100 },
    });
    const registered = new Set<string>();
    for (const s of [...Object.values(STATE_VARIABLES), RUN, ANY_EVENT]) this.registerShape(base, s, registered);
    base.registerFunction('fromEpochMs(int): google.protobuf.Timestamp', (ms: bigint) => new Date(Number(ms)), {
      description: 'The timestamp of a number of milliseconds since the Unix epoch',
    });
    this.base = base;
  }

  /** True when `type` is a known event type (built-in, registered, or a `commerce.*` track name). */
  hasEventType(type: string): boolean {
    return resolveEventType(this.eventTypes, type) !== undefined;
  }

  /** The names of the known event types. */
  eventTypeNames(): string[] {
    return this.eventTypes.list?.().map((t) => t.type) ?? [];
  }

  /** The envelope shape of an event type; throws `UnknownEventType`. */
  eventShape(type: string): ObjectShape {
    if (type === 'any') return ANY_EVENT;
    const def = resolveEventType(this.eventTypes, type);
    if (!def) throw new UnknownEventType(`unknown event type "${type}"`);
    const key = `${def.type}@${def.version}`;
    let s = this.events.get(key);
    if (!s) {
      s = eventShape(def);
      this.events.set(key, s);
    }
    return s;
  }

  /** The scope for a context; throws `UnknownEventType` when it names an unknown event type. */
  scope(spec: ScopeSpec): ConditionScope {
    const version = (t: string | undefined) =>
      t === undefined || t === 'any' ? t : `${t}@${resolveEventType(this.eventTypes, t)?.version}`;
    const key = JSON.stringify([version(spec.event), spec.correlated?.map(version), spec.run === true, spec.state === true]);
    const hit = this.scopes.get(key);
    if (hit) return hit;
    const shapes = new Map<string, Shape>();
    if (spec.event !== undefined) shapes.set('event', this.eventShape(spec.event));
    if (spec.correlated) {
      const [a, b] = spec.correlated;
      shapes.set('correlated', {
        kind: 'object',
        name: `pitwall.Correlated.${this.eventShape(a).name.replace(/\./g, '_')}.${this.eventShape(b).name.replace(/\./g, '_')}`,
        fields: { first: { shape: this.eventShape(a) }, second: { shape: this.eventShape(b) } },
      });
    }
    if (spec.run) shapes.set('run', RUN);
    if (spec.state) for (const n of STATE_VARIABLE_NAMES) shapes.set(n, STATE_VARIABLES[n as StateVariable]);
    shapes.set('now', TIMESTAMP);

    const cel = this.base.clone();
    const registered = new Set<string>(
      [...Object.values(STATE_VARIABLES), RUN, ANY_EVENT].flatMap((s) => objectShapesIn(s).map((o) => o.name)),
    );
    for (const [name, shape] of shapes) {
      this.registerShape(cel, shape, registered);
      cel.registerVariable(name, celTypeName(shape));
    }
    const scope = new ConditionScope(cel, shapes, this.ctors, this.limits);
    this.scopes.set(key, scope);
    return scope;
  }

  private registerShape(env: Environment, shape: Shape, registered: Set<string>): void {
    for (const o of objectShapesIn(shape)) {
      if (registered.has(o.name)) continue;
      registered.add(o.name);
      const fields: Record<string, string> = {};
      for (const [k, f] of Object.entries(o.fields)) fields[k] = celTypeName(f.shape);
      env.registerType(o.name, { ctor: ctorFor(this.ctors, o.name), fields });
    }
  }
}
