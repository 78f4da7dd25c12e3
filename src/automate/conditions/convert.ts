/**
 * Converting Pitwall values into what CEL evaluates, and back. Integers become BigInt for `int`
 * fields, epoch milliseconds and RFC 3339 strings become `Date`s for timestamps, objects become
 * instances of the registered type's class (so field access is type-checked), and every list and
 * map is wrapped so that reading its elements counts against the evaluation's operation budget.
 * A value that does not fit its declared type is passed through unchanged: reading it is then a
 * run-time error (a non-match with its reason), never a wrong answer.
 */
import { Duration } from '@marcbachmann/cel-js/evaluator';
import type { ObjectShape, Shape } from './shapes.ts';

/** Thrown from inside an evaluation when its budget is spent; the evaluator turns it into a non-match. */
export class BudgetExceeded extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Counts operations (list / map element reads) of one evaluation. Expressions have no loops of
 * their own, so element reads bound the work; a time budget is checked every 256 operations.
 */
export class Meter {
  ops = 0;
  exceeded: string | undefined;
  private error: BudgetExceeded | undefined;
  private deadline = Number.POSITIVE_INFINITY;
  constructor(
    private readonly maxOps: number,
    private readonly timeMs: number | undefined,
    private readonly elapsed: (() => number) | undefined,
  ) {}

  /** Counting runs from `start` to `stop`: reading a result afterwards (`fromCel`) is free. */
  private running = false;

  start(): void {
    this.running = true;
    this.ops = 0;
    this.exceeded = undefined;
    this.error = undefined;
    this.deadline = this.timeMs !== undefined && this.elapsed ? this.elapsed() + this.timeMs : Number.POSITIVE_INFINITY;
  }

  stop(): void {
    this.running = false;
  }

  tick(n = 1): void {
    if (!this.running) return;
    this.ops += n;
    if (this.error) throw this.error;
    if (this.ops > this.maxOps) this.exceeded = `operation budget of ${this.maxOps} exceeded`;
    else if ((this.ops & 255) === 0 && this.elapsed && this.elapsed() > this.deadline)
      this.exceeded = `time budget of ${this.timeMs} ms exceeded`;
    if (this.exceeded) {
      // One error per spent evaluation: every later read throws it again, cheaply.
      this.error = new BudgetExceeded(this.exceeded);
      throw this.error;
    }
  }
}

/** Instance classes per object type: CEL finds a value's type by its constructor. */
export type Ctors = Map<string, new () => object>;

export function ctorFor(ctors: Ctors, name: string): new () => object {
  let C = ctors.get(name);
  if (!C) {
    // A named class per type (its name shows in debugging output).
    C = { [name]: class {} }[name] as new () => object;
    ctors.set(name, C);
  }
  return C;
}

const isIndex = (p: string | symbol) => typeof p === 'string' && p.length > 0 && p.charCodeAt(0) >= 48 && p.charCodeAt(0) <= 57;

/**
 * A list whose elements are converted on first read (and kept): an expression that reads two
 * elements of a long list converts two. Each element read is one operation.
 */
function lazyList(items: readonly unknown[], convert: (v: unknown) => unknown, meter: Meter): unknown[] {
  const done: unknown[] = new Array(items.length);
  const seen = new Uint8Array(items.length);
  return new Proxy(done, {
    get(target, p, receiver) {
      if (isIndex(p)) {
        meter.tick();
        const i = Number(p);
        if (i < items.length && seen[i] === 0) {
          seen[i] = 1;
          target[i] = convert(items[i]);
        }
        return target[i];
      }
      return Reflect.get(target, p, receiver);
    },
  });
}

/** A string-keyed map (plain object or Map) whose values are converted on first read; listing its keys costs one operation per key. */
function lazyMap(raw: object, convert: (v: unknown) => unknown, meter: Meter): Record<string, unknown> {
  const read = (k: string): unknown =>
    raw instanceof Map ? raw.get(k) : Object.hasOwn(raw, k) ? (raw as Record<string, unknown>)[k] : undefined;
  const present = (k: string) => {
    const v = read(k);
    return v !== undefined && v !== null;
  };
  const done = new Map<string, unknown>();
  const value = (k: string) => {
    if (!done.has(k)) done.set(k, present(k) ? convert(read(k)) : undefined);
    return done.get(k);
  };
  let keys: string[] | undefined;
  return new Proxy(Object.create(null) as Record<string, unknown>, {
    get(_t, p) {
      if (typeof p !== 'string') return undefined;
      meter.tick();
      return value(p);
    },
    has: (_t, p) => typeof p === 'string' && present(p),
    ownKeys() {
      keys ??= (raw instanceof Map ? [...raw.keys()].filter((k): k is string => typeof k === 'string') : Object.keys(raw)).filter(present);
      meter.tick(keys.length);
      return [...keys];
    },
    getOwnPropertyDescriptor(_t, p) {
      if (typeof p !== 'string' || !present(p)) return undefined;
      return { value: value(p), writable: true, enumerable: true, configurable: true };
    },
  });
}

function toDate(v: unknown): unknown {
  if (v instanceof Date) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v);
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? v : new Date(ms);
  }
  return v;
}

const isMapLike = (v: unknown): v is object => v instanceof Map || (typeof v === 'object' && v !== null && !Array.isArray(v));

/** A JSON-ish value as `dyn`: numbers stay doubles, lists and maps are metered. */
function convertDyn(v: unknown, meter: Meter, depth: number): unknown {
  if (v === undefined || depth > 32) return undefined;
  const inner = (x: unknown) => convertDyn(x, meter, depth + 1);
  if (Array.isArray(v)) return lazyList(v, inner, meter);
  if (v instanceof Date || v instanceof Uint8Array) return v;
  return isMapLike(v) ? lazyMap(v, inner, meter) : v;
}

/** Converts `v` to the CEL value of `shape`; undefined (and null) mean "absent". */
export function toCel(shape: Shape, v: unknown, ctors: Ctors, meter: Meter, depth = 0): unknown {
  if (v === undefined || v === null) return undefined;
  switch (shape.kind) {
    case 'scalar':
      switch (shape.type) {
        case 'int':
          return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
        case 'double':
          return typeof v === 'bigint' ? Number(v) : v;
        case 'timestamp':
          return toDate(v);
        case 'duration':
          return typeof v === 'number' && Number.isFinite(v) ? Duration.fromMilliseconds(v) : v;
        case 'dyn':
          return convertDyn(v, meter, depth);
        default:
          return v;
      }
    case 'list':
      if (!Array.isArray(v)) return v;
      return lazyList(
        v.filter((x) => x !== undefined && x !== null),
        (x) => toCel(shape.of, x, ctors, meter, depth + 1),
        meter,
      );
    case 'map':
      return isMapLike(v) ? lazyMap(v, (x) => toCel(shape.of, x, ctors, meter, depth + 1), meter) : v;
    case 'object':
      return toObject(shape, v, ctors, meter, depth);
  }
}

function toObject(shape: ObjectShape, v: unknown, ctors: Ctors, meter: Meter, depth: number): unknown {
  if (typeof v !== 'object' || Array.isArray(v) || depth > 32) return v;
  const C = ctorFor(ctors, shape.name);
  if (v instanceof C) return v;
  const out = new C() as Record<string, unknown>;
  for (const [k, f] of Object.entries(shape.fields)) {
    let raw: unknown;
    try {
      raw = f.get ? f.get(v) : (v as Record<string, unknown>)[k];
    } catch {
      continue; // a source value missing what the mapping reads: the field is absent
    }
    const c = toCel(f.shape, raw, ctors, meter, depth + 1);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** An empty value of an object type: every field absent (`has(cart.cart_id)` is false). */
export function emptyObject(shape: ObjectShape, ctors: Ctors): object {
  return new (ctorFor(ctors, shape.name))();
}

/**
 * A CEL result as JSON: int → number (string beyond 2^53), timestamp → RFC 3339, duration →
 * milliseconds, bytes → base64, maps and objects → plain objects.
 */
export function fromCel(v: unknown, depth = 0): unknown {
  if (depth > 32) return null;
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v !== 'object') return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Duration) return v.valueOf();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map((x) => fromCel(x, depth + 1));
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), fromCel(x, depth + 1)]));
  if (typeof (v as { valueOf?: unknown }).valueOf === 'function' && typeof v.valueOf() !== 'object') return v.valueOf();
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = fromCel(x, depth + 1);
  return out;
}
