/**
 * Shapes: the types the CEL environment declares, with how to read each field from the value
 * Pitwall holds (a state object, an event). One shape drives both the declaration (what a
 * workflow may write, checked at validation) and the conversion at run time (what CEL sees).
 */

export type Scalar = 'string' | 'int' | 'double' | 'bool' | 'timestamp' | 'duration' | 'bytes' | 'dyn';

export interface ScalarShape {
  readonly kind: 'scalar';
  readonly type: Scalar;
}
export interface ListShape {
  readonly kind: 'list';
  readonly of: Shape;
}
/** A map with string keys. */
export interface MapShape {
  readonly kind: 'map';
  readonly of: Shape;
}
export interface FieldSpec {
  readonly shape: Shape;
  /** Reads the field from the source value (default: the property of the same name). */
  readonly get?: (source: unknown) => unknown;
}
export interface ObjectShape {
  readonly kind: 'object';
  /** The CEL type name, e.g. `pitwall.Cart`. */
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}
export type Shape = ScalarShape | ListShape | MapShape | ObjectShape;

const scalar = (type: Scalar): ScalarShape => Object.freeze({ kind: 'scalar', type });
export const STRING = scalar('string');
export const INT = scalar('int');
export const DOUBLE = scalar('double');
export const BOOL = scalar('bool');
export const TIMESTAMP = scalar('timestamp');
export const DURATION = scalar('duration');
export const BYTES = scalar('bytes');
export const DYN = scalar('dyn');
export const listOf = (of: Shape): ListShape => ({ kind: 'list', of });
export const mapOf = (of: Shape): MapShape => ({ kind: 'map', of });

/** The CEL spelling of a shape's type. */
export function celTypeName(s: Shape): string {
  switch (s.kind) {
    case 'scalar':
      return s.type === 'timestamp' ? 'google.protobuf.Timestamp' : s.type === 'duration' ? 'google.protobuf.Duration' : s.type;
    case 'list':
      return `list<${celTypeName(s.of)}>`;
    case 'map':
      return `map<string, ${celTypeName(s.of)}>`;
    case 'object':
      return s.name;
  }
}

/** Every object shape reachable from `s` (nested first), each once. */
export function objectShapesIn(s: Shape, out: ObjectShape[] = [], seen = new Set<string>()): ObjectShape[] {
  if (s.kind === 'list' || s.kind === 'map') return objectShapesIn(s.of, out, seen);
  if (s.kind !== 'object' || seen.has(s.name)) return out;
  seen.add(s.name);
  for (const f of Object.values(s.fields)) objectShapesIn(f.shape, out, seen);
  out.push(s);
  return out;
}

/**
 * Typed field builders for object shapes read from a TypeScript value: `from` names the
 * source property (or computes the value), so the compiler checks the mapping against the
 * state types it reads.
 */
export interface Field<T> {
  shape: Shape;
  get: (source: T) => unknown;
}

export function objectShape<T>(name: string, fields: Record<string, Field<T>>): ObjectShape {
  const out: Record<string, FieldSpec> = {};
  for (const [k, f] of Object.entries(fields)) out[k] = { shape: f.shape, get: (v) => f.get(v as T) };
  return { kind: 'object', name, fields: out };
}

type Getter<T, V> = keyof T | ((source: T) => V);
function getterOf<T, V>(g: Getter<T, V>): (source: T) => unknown {
  return typeof g === 'function' ? g : (source: T) => source[g];
}

/** Field builders for `objectShape<T>`: each takes a property name of T or a function of T. */
export function fieldsOf<T>() {
  const make =
    (shape: Shape) =>
    <V>(g: Getter<T, V>): Field<T> => ({ shape, get: getterOf(g) });
  return {
    string: make(STRING),
    int: make(INT),
    double: make(DOUBLE),
    bool: make(BOOL),
    dyn: make(DYN),
    /** Epoch milliseconds in the source, a CEL timestamp in the expression. */
    time: make(TIMESTAMP),
    /** Milliseconds in the source, a CEL duration in the expression. */
    duration: make(DURATION),
    of:
      (shape: Shape) =>
      <V>(g: Getter<T, V>): Field<T> => ({ shape, get: getterOf(g) }),
  };
}
