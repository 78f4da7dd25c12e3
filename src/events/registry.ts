/**
 * The schema registry: validates an event's envelope and its `data` against the
 * catalogue (built-in types plus types registered through the API).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import { BUILT_IN_TYPES, GENERIC_TRACK } from './catalogue/index.ts';
import type { EventTypeDefinition } from './catalogue-types.ts';
import { type CloudEvent, CORE_ATTRIBUTES, EVENT_TYPE_PATTERN, EXTENSION_NAME_PATTERN, PITWALL_EXTENSIONS } from './envelope.ts';
import { pointerToken } from './json.ts';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

export interface Problem {
  code: string;
  message: string;
  /** JSON pointer into the event. */
  pointer?: string;
}

interface Entry {
  def: EventTypeDefinition;
  /** Compiled once per type (and version). */
  validate: ValidateFunction;
  builtIn: boolean;
  /** `dataschema` filled into events of this type. */
  uri: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const CORE = new Set<string>(CORE_ATTRIBUTES);
const OPTIONAL_STRINGS = ['subject', 'datacontenttype', 'dataschema'] as const;
const KNOWN_EXTENSIONS = new Set<string>(PITWALL_EXTENSIONS);

export function schemaUri(type: string, version: number): string {
  return `urn:pitwall:schema:${type}:${version}`;
}

export class SchemaRegistry {
  private readonly ajv = new Ajv({ allErrors: false, strict: false, allowUnionTypes: true });
  private readonly types = new Map<string, Entry>();
  private readonly registeredListeners = new Set<(def: EventTypeDefinition) => void>();
  private readonly genericTrack: Entry;
  /** Events of a batch often share a time: the last one known valid skips re-checking. */
  private lastValidTime: string | undefined;

  constructor(builtIns: readonly EventTypeDefinition[] = BUILT_IN_TYPES) {
    addFormats(this.ajv);
    for (const def of builtIns) this.add(def, true);
    this.genericTrack = { def: GENERIC_TRACK, validate: this.ajv.compile(GENERIC_TRACK.data), builtIn: true, uri: '' };
  }

  private add(def: EventTypeDefinition, builtIn: boolean): void {
    const current = this.types.get(def.type);
    if (current && current.def.version > def.version) return;
    this.types.set(def.type, { def, validate: this.ajv.compile(def.data), builtIn, uri: schemaUri(def.type, def.version) });
  }

  /** Loads registered custom types from the store. */
  async load(db: Kysely<Database>): Promise<this> {
    const rows = await db.selectFrom('event_types').selectAll().orderBy('version').execute();
    for (const r of rows) {
      if (this.types.get(r.type)?.def.version === r.version) continue;
      this.add({ type: r.type, version: r.version, description: r.description, data: JSON.parse(r.schema), example: undefined }, false);
    }
    return this;
  }

  /** Registers a new type, or a new version of a custom type, and persists it. */
  async register(
    db: Kysely<Database>,
    clock: Clock,
    input: { type: string; description: string; schema: unknown },
  ): Promise<EventTypeDefinition> {
    if (!EVENT_TYPE_PATTERN.test(input.type)) {
      throw new AppError('PW_TYPE_NAME_INVALID', `type "${input.type}" must be lowercase and dotted, like "warehouse.door_opened"`, {
        pointer: '/type',
      });
    }
    await this.load(db);
    const current = this.types.get(input.type);
    if (current?.builtIn)
      throw new AppError('PW_TYPE_BUILT_IN', `"${input.type}" is a built-in type and cannot be redefined`, {
        status: 409,
        pointer: '/type',
      });
    if (typeof input.schema !== 'object' || input.schema === null || Array.isArray(input.schema)) {
      throw new AppError('PW_TYPE_SCHEMA_INVALID', 'schema must be a JSON Schema object', { pointer: '/schema' });
    }
    try {
      this.ajv.compile(input.schema as object);
    } catch (e) {
      throw new AppError('PW_TYPE_SCHEMA_INVALID', `schema does not compile: ${(e as Error).message}`, { pointer: '/schema' });
    }
    const version = (current?.def.version ?? 0) + 1;
    await db
      .insertInto('event_types')
      .values({ type: input.type, version, schema: JSON.stringify(input.schema), description: input.description, created_ms: clock.now() })
      .execute();
    const def: EventTypeDefinition = {
      type: input.type,
      version,
      description: input.description,
      data: input.schema as EventTypeDefinition['data'],
      example: undefined,
    };
    this.add(def, false);
    for (const l of this.registeredListeners) l(def);
    return def;
  }

  /** Calls `listener` after each `register` (another thread's registry must `load` again). */
  onRegistered(listener: (def: EventTypeDefinition) => void): () => void {
    this.registeredListeners.add(listener);
    return () => this.registeredListeners.delete(listener);
  }

  list(): { type: string; version: number; description: string; standard?: string; derived: boolean; builtIn: boolean; schema: unknown }[] {
    return [...this.types.values()]
      .map((e) => ({
        type: e.def.type,
        version: e.def.version,
        description: e.def.description,
        ...(e.def.standard ? { standard: e.def.standard } : {}),
        derived: e.def.derived === true,
        builtIn: e.builtIn,
        schema: e.def.data,
      }))
      .sort((a, b) => a.type.localeCompare(b.type));
  }

  get(type: string): EventTypeDefinition | undefined {
    return this.types.get(type)?.def;
  }

  /** Checks envelope and data; fills in `dataschema` when absent. Returns a problem or undefined. */
  validate(e: CloudEvent): Problem | undefined {
    if (e.specversion !== '1.0') return { code: 'PW_EVENT_SPECVERSION', message: 'specversion must be "1.0"', pointer: '/specversion' };
    if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > 256 || e.id.includes('\u0000')) {
      return { code: 'PW_EVENT_ENVELOPE', message: 'id must be a non-empty string of at most 256 characters', pointer: '/id' };
    }
    if (typeof e.source !== 'string' || e.source.length === 0 || e.source.length > 512 || e.source.includes('\u0000')) {
      return { code: 'PW_EVENT_ENVELOPE', message: 'source must be a non-empty URI-reference', pointer: '/source' };
    }
    if (typeof e.type !== 'string' || !EVENT_TYPE_PATTERN.test(e.type)) {
      return { code: 'PW_EVENT_ENVELOPE', message: 'type must be lowercase and dotted, like "commerce.order_completed"', pointer: '/type' };
    }
    if (e.time !== this.lastValidTime && (typeof e.time !== 'string' || !RFC3339.test(e.time) || Number.isNaN(Date.parse(e.time)))) {
      return { code: 'PW_EVENT_ENVELOPE', message: 'time must be an RFC 3339 timestamp', pointer: '/time' };
    }
    for (const k of OPTIONAL_STRINGS) {
      if (e[k] !== undefined && (typeof e[k] !== 'string' || (e[k] as string).includes('\u0000')))
        return { code: 'PW_EVENT_ENVELOPE', message: `${k} must be a string without NUL characters`, pointer: `/${k}` };
    }
    for (const k in e) {
      if (CORE.has(k)) continue;
      const v = e[k];
      if (!KNOWN_EXTENSIONS.has(k) && !EXTENSION_NAME_PATTERN.test(k)) {
        return {
          code: 'PW_EVENT_ENVELOPE',
          message: `extension attribute "${k}" must be 1-20 lowercase letters or digits`,
          pointer: `/${pointerToken(k)}`,
        };
      }
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        return { code: 'PW_EVENT_ENVELOPE', message: `extension attribute "${k}" must be a string, number or boolean`, pointer: `/${k}` };
      }
    }
    this.lastValidTime = e.time;
    if (e.pitwallhistory !== undefined && typeof e.pitwallhistory !== 'boolean') {
      return { code: 'PW_EVENT_ENVELOPE', message: 'pitwallhistory must be a boolean', pointer: '/pitwallhistory' };
    }
    let entry = this.types.get(e.type);
    if (!entry && e.type.startsWith('commerce.')) entry = this.genericTrack;
    if (!entry) {
      return {
        code: 'PW_EVENT_UNKNOWN_TYPE',
        message: `no schema is registered for type "${e.type}" (register it with POST /v1/event-types)`,
        pointer: '/type',
      };
    }
    if (entry.def.derived === true) {
      return {
        code: 'PW_EVENT_RESERVED',
        message: `"${e.type}" is produced by Pitwall itself (a detector or the API) and cannot be sent in`,
        pointer: '/type',
      };
    }
    if (!entry.validate(e.data)) {
      const err = entry.validate.errors?.[0];
      return { code: 'PW_EVENT_SCHEMA', message: `data${describe(err)}`, pointer: `/data${pointerOf(err)}` };
    }
    if (e.dataschema === undefined && entry !== this.genericTrack) e.dataschema = entry.uri;
    return undefined;
  }
}

function pointerOf(err: ErrorObject | undefined): string {
  if (!err) return '';
  const missing = err.keyword === 'required' ? (err.params as { missingProperty?: string }).missingProperty : undefined;
  return missing ? `${err.instancePath}/${pointerToken(missing)}` : err.instancePath;
}

function describe(err: ErrorObject | undefined): string {
  if (!err) return ' is invalid';
  return `${err.instancePath} ${err.message ?? 'is invalid'}`;
}
