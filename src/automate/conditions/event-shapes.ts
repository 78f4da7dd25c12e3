/**
 * The CEL type of an event: the CloudEvents envelope with its `data` typed from the event type's
 * JSON Schema in the catalogue (src/events). Fields a schema names are declared with their type;
 * extra fields a sender adds are not (reading one is a validation error — that is the point:
 * a misspelt field is caught before the workflow runs).
 *
 * Mapping: string → string (date-times stay strings: `timestamp(event.data.promised_at)`),
 * number → double, integer → int, boolean → bool, array → list, object with properties → an
 * object type, object with only `patternProperties` / `additionalProperties` (or none) → map,
 * unions of one scalar type → that type, anything else (mixed unions, `$ref`, `allOf`) → dyn.
 */
import type { EventTypeDefinition } from '../../events/index.ts';
import { BOOL, DOUBLE, DYN, type FieldSpec, INT, listOf, mapOf, type ObjectShape, type Shape, STRING, TIMESTAMP } from './shapes.ts';

/** Where the environment finds event types: the schema registry (`SchemaRegistry.get`) or a test's map. */
export interface EventTypeLookup {
  get(type: string): EventTypeDefinition | undefined;
  /** Every type (for "did you mean …?"). */
  list?(): readonly { type: string }[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** CEL words that cannot be field names (cel-js `RESERVED`, plus the literals). */
const RESERVED = new Set([
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
  'in',
  'true',
  'false',
  'null',
  '__proto__',
  'prototype',
]);
const MAX_DEPTH = 16;

type Schema = Record<string, unknown>;
const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

function scalarOfValue(v: unknown): Shape {
  if (typeof v === 'string') return STRING;
  if (typeof v === 'boolean') return BOOL;
  if (typeof v === 'number') return DOUBLE;
  return DYN;
}

/** One shape for a union: the common scalar, else dyn. */
function unionOf(shapes: Shape[]): Shape {
  const first = shapes[0];
  if (!first) return DYN;
  if (first.kind === 'scalar' && shapes.every((s) => s.kind === 'scalar' && s.type === first.type)) return first;
  return DYN;
}

/** The shape of a JSON Schema; `name` names the object types it declares. */
export function shapeOfSchema(schema: unknown, name: string, depth = 0): Shape {
  if (!isObj(schema) || depth > MAX_DEPTH) return DYN;
  if (schema.const !== undefined) return scalarOfValue(schema.const);
  if (Array.isArray(schema.enum)) return unionOf(schema.enum.filter((v) => v !== null).map(scalarOfValue));
  let type = schema.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    if (nonNull.length !== 1) return DYN;
    type = nonNull[0];
  }
  if (type === undefined) {
    const alternatives = (Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined) as
      | unknown[]
      | undefined;
    if (alternatives) {
      const typed = alternatives.filter((a) => !(isObj(a) && a.type === 'null'));
      return unionOf(typed.map((a, i) => shapeOfSchema(a, `${name}.Alt${i}`, depth + 1)));
    }
    if (isObj(schema.properties)) type = 'object';
    else return DYN;
  }
  switch (type) {
    case 'string':
      return STRING;
    case 'number':
      return DOUBLE;
    case 'integer':
      return INT;
    case 'boolean':
      return BOOL;
    case 'array':
      return listOf(isObj(schema.items) ? shapeOfSchema(schema.items, `${name}.Item`, depth + 1) : DYN);
    case 'object':
      return objectOfSchema(schema, name, depth);
    default:
      return DYN;
  }
}

function objectOfSchema(schema: Schema, name: string, depth: number): Shape {
  const props = isObj(schema.properties) ? Object.keys(schema.properties) : [];
  if (props.length === 0 || props.some((k) => !IDENT.test(k) || RESERVED.has(k))) {
    const patterns = isObj(schema.patternProperties) ? Object.values(schema.patternProperties) : [];
    const values = [...patterns, ...(isObj(schema.additionalProperties) ? [schema.additionalProperties] : [])];
    if (props.length === 0 && values.length === 1) return mapOf(shapeOfSchema(values[0], `${name}.Value`, depth + 1));
    return mapOf(DYN);
  }
  const fields: Record<string, FieldSpec> = {};
  const properties = schema.properties as Schema;
  for (const k of props) fields[k] = { shape: shapeOfSchema(properties[k], `${name}.${k}`, depth + 1) };
  return { kind: 'object', name, fields };
}

/** `cart.abandoned` → `pitwall.events.cart_abandoned`. */
export function eventTypeName(type: string): string {
  return `pitwall.events.${type.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

const str = (k: string): FieldSpec => ({ shape: STRING, get: (e) => (e as Record<string, unknown>)[k] });

/** The envelope with `data` of the given shape. */
export function envelopeShape(name: string, data: Shape): ObjectShape {
  return {
    kind: 'object',
    name,
    fields: {
      id: str('id'),
      source: str('source'),
      type: str('type'),
      time: { shape: TIMESTAMP, get: (e) => (e as Record<string, unknown>).time },
      subject: str('subject'),
      userid: str('userid'),
      anonymousid: str('anonymousid'),
      store: str('store'),
      deviceid: str('deviceid'),
      data: { shape: data, get: (e) => (e as Record<string, unknown>).data },
    },
  };
}

/** Any event, when the type is not known statically (the event that completed a correlation): `data` is dyn. */
export const ANY_EVENT: ObjectShape = envelopeShape('pitwall.Event', DYN);

/** The envelope shape of `type`: built-in, registered, or (for unknown `commerce.*` names) the generic track schema. */
export function eventShape(def: EventTypeDefinition): ObjectShape {
  const name = eventTypeName(def.type);
  return envelopeShape(name, shapeOfSchema(def.data, `${name}.Data`));
}

/** The definition the registry would validate `type` against; unknown `commerce.*` names use `commerce.track`. */
export function resolveEventType(types: EventTypeLookup, type: string): EventTypeDefinition | undefined {
  const def = types.get(type);
  if (def) return def;
  if (type.startsWith('commerce.')) {
    const generic = types.get('commerce.track');
    return generic ? { ...generic, type } : undefined;
  }
  return undefined;
}
