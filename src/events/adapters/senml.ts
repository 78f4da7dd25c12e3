/**
 * SenML (RFC 8428) → canonical CloudEvents. Pure functions, no I/O.
 *
 * `resolveSenml` turns a SenML Pack into resolved Records (RFC 8428 §4.6): base fields applied,
 * names concatenated, times absolute, Records in chronological order. `senmlToEvents` makes one
 * `sensor.reading` event per resolved Record with a deterministic id, so a redelivered pack
 * dedupes on append.
 */
import { AppError, deterministicId } from '../../core/index.ts';
import type { CloudEvent } from '../envelope.ts';
import { isPlainObject, pointerToken as token } from '../json.ts';

/** A resolved SenML Record (RFC 8428 §4.6). `t` is absolute: seconds since the Unix epoch. */
export interface ResolvedRecord {
  n: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: string;
  s?: number;
  t: number;
  ut?: number;
}

export interface SenmlEventOptions {
  /** "Now" for relative times (RFC 8428 §4.5.3), in epoch milliseconds. */
  nowMs: number;
  source: string;
  /** The registered device that sent the pack; becomes `subject` and the `deviceid` extension. */
  deviceId?: string;
  /** A backfill: keeps its timestamps, builds state, starts no timers. */
  history?: boolean;
}

/** The SenML version this code implements (RFC 8428 §4.4: the default `bver`). */
export const SENML_VERSION = 10;

/** RFC 8428 §4.5.3: a (base time + time) below 2^28 is relative to "now". */
const RELATIVE_TIME_LIMIT = 2 ** 28;

/** RFC 8428 §4.5.1: the concatenated name. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:./_-]*$/;

/** RFC 8428 §5: Data Value is base64url (RFC 4648 §5) with padding omitted. */
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/** The largest |seconds| a JavaScript Date (and so an RFC 3339 `time`) can represent. */
const MAX_EPOCH_SECONDS = 8.64e12;

const BASE_FIELDS = new Set(['bn', 'bt', 'bu', 'bv', 'bs', 'bver']);
const REGULAR_FIELDS = new Set(['n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut']);
const VALUE_FIELDS = ['v', 'vs', 'vb', 'vd'] as const;

function invalid(message: string, pointer: string): AppError {
  return new AppError('PW_SENML_INVALID', message, { status: 400, pointer });
}

/** Typed, pointer-aware reads of one record's fields. Absent (or `undefined`) → `undefined`. */
class FieldReader {
  constructor(
    private readonly rec: Record<string, unknown>,
    private readonly at: string,
  ) {}

  has(key: string): boolean {
    return Object.hasOwn(this.rec, key) && this.rec[key] !== undefined;
  }

  ptr(key: string): string {
    return `${this.at}/${token(key)}`;
  }

  string(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const value = this.rec[key];
    if (typeof value !== 'string') throw invalid(`SenML field "${key}" must be a string`, this.ptr(key));
    return value;
  }

  number(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const value = this.rec[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw invalid(`SenML field "${key}" must be a finite number`, this.ptr(key));
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const value = this.rec[key];
    if (typeof value !== 'boolean') throw invalid(`SenML field "${key}" must be a boolean`, this.ptr(key));
    return value;
  }
}

/**
 * Resolve a SenML Pack (RFC 8428 §4): apply base name/time/unit/value/sum, turn relative times
 * (below 2^28 after adding the base time) into absolute ones using `nowMs`, check names, versions
 * and values, and return the Records in chronological order (stable for equal times).
 *
 * Accepts a JSON array (a Pack) or a single Record object. Throws `PW_SENML_INVALID` (400) with
 * the RFC 6901 pointer of the offending field in the input.
 *
 * A Record that carries only base fields (e.g. `{"bn":"urn:dev:ow:10e2073a01080063:"}` in
 * RFC 8428 §5.1.7) sets base values for the Records after it and yields no resolved Record.
 */
export function resolveSenml(pack: unknown, nowMs: number): ResolvedRecord[] {
  let records: readonly unknown[];
  let recordPointer: (i: number) => string;
  if (Array.isArray(pack)) {
    if (pack.length === 0) throw invalid('a SenML pack must contain at least one record', '');
    records = pack;
    recordPointer = (i) => `/${i}`;
  } else if (isPlainObject(pack)) {
    records = [pack];
    recordPointer = () => '';
  } else {
    throw invalid('a SenML pack must be a JSON array of records (or a single record object)', '');
  }

  const nowSeconds = nowMs / 1000;
  let baseName = '';
  let baseNamePointer = '';
  let baseTime = 0;
  let baseTimePointer: string | undefined;
  let baseUnit: string | undefined;
  let baseValue: number | undefined;
  let baseSum: number | undefined;
  let version = SENML_VERSION;

  const resolved: ResolvedRecord[] = [];
  records.forEach((raw, i) => {
    const at = recordPointer(i);
    if (!isPlainObject(raw)) throw invalid(`SenML record ${i} must be an object`, at);

    // RFC 8428 §4.4: unknown labels ending in "_" must be understood, so they are an error.
    for (const key of Object.keys(raw)) {
      if (key.endsWith('_') && !BASE_FIELDS.has(key) && !REGULAR_FIELDS.has(key)) {
        throw invalid(`SenML record ${i} has must-understand field "${key}", which is not supported`, `${at}/${token(key)}`);
      }
    }

    const f = new FieldReader(raw, at);

    // Version: a positive integer, not newer than ours, the same for every Record of the Pack.
    const bver = f.number('bver');
    if (bver !== undefined) {
      if (!Number.isInteger(bver) || bver < 1) throw invalid('SenML field "bver" must be a positive integer', f.ptr('bver'));
      if (bver > SENML_VERSION) {
        throw invalid(`SenML version ${bver} is newer than the supported version ${SENML_VERSION}`, f.ptr('bver'));
      }
      if (i > 0 && bver !== version) {
        throw invalid(`SenML version changes within the pack (${version} → ${bver})`, f.ptr('bver'));
      }
      version = bver;
    }

    // Base fields apply to this Record and every Record after it until overridden.
    const bn = f.string('bn');
    if (bn !== undefined) {
      baseName = bn;
      baseNamePointer = f.ptr('bn');
    }
    const bt = f.number('bt');
    if (bt !== undefined) {
      baseTime = bt;
      baseTimePointer = f.ptr('bt');
    }
    const bu = f.string('bu');
    if (bu !== undefined) baseUnit = bu;
    const bv = f.number('bv');
    if (bv !== undefined) baseValue = bv;
    const bs = f.number('bs');
    if (bs !== undefined) baseSum = bs;

    // Regular fields: type-check every one that is present, even on records we skip.
    const n = f.string('n');
    const u = f.string('u');
    const v = f.number('v');
    const vs = f.string('vs');
    const vb = f.boolean('vb');
    const vd = f.string('vd');
    const s = f.number('s');
    const t = f.number('t');
    const ut = f.number('ut');
    if (vd !== undefined && (!BASE64URL_PATTERN.test(vd) || vd.length % 4 === 1)) {
      throw invalid('SenML field "vd" must be base64url without padding', f.ptr('vd'));
    }
    if (ut !== undefined && ut < 0) throw invalid('SenML field "ut" must not be negative', f.ptr('ut'));

    const valueFields = VALUE_FIELDS.filter((key) => f.has(key));
    const second = valueFields[1];
    if (second !== undefined) {
      throw invalid(`SenML record ${i} has more than one value field (${valueFields.join(', ')})`, f.ptr(second));
    }

    // A record with base fields and no regular field only sets base values (RFC 8428 §5.1.7).
    const present = Object.keys(raw).filter((key) => f.has(key));
    if (present.some((key) => BASE_FIELDS.has(key)) && !present.some((key) => REGULAR_FIELDS.has(key))) return;

    // Name: base name + name, non-empty, restricted charset.
    const name = baseName + (n ?? '');
    if (name === '') throw invalid(`SenML record ${i} has no name: neither "n" nor a base name "bn"`, f.ptr('n'));
    if (!NAME_PATTERN.test(name)) {
      throw invalid(
        `SenML name "${name}" must start with a letter or digit and contain only letters, digits and - : . / _`,
        // blame the base name when it is itself invalid, else this record's name
        baseName !== '' && !NAME_PATTERN.test(baseName) ? baseNamePointer : f.ptr('n'),
      );
    }

    // Value: base value + value; a record with a string/boolean/data value has no numeric value.
    let value: number | undefined;
    if (v !== undefined) value = (baseValue ?? 0) + v;
    else if (valueFields.length === 0 && baseValue !== undefined) value = baseValue;
    // Sum: base sum + sum, when either is present.
    const sum = s !== undefined || baseSum !== undefined ? (baseSum ?? 0) + (s ?? 0) : undefined;
    if (value === undefined && valueFields.length === 0 && sum === undefined) {
      throw invalid(`SenML record ${i} has no value ("v", "vs", "vb" or "vd") and no sum ("s")`, f.ptr('v'));
    }
    if (value !== undefined && !Number.isFinite(value)) throw invalid('SenML value overflows (bv + v)', f.ptr('v'));
    if (sum !== undefined && !Number.isFinite(sum)) throw invalid('SenML sum overflows (bs + s)', f.ptr('s'));

    // Time: base time + time; below 2^28 it is relative to now (0 or absent = "now").
    let time = baseTime + (t ?? 0);
    if (time < RELATIVE_TIME_LIMIT) time = nowSeconds + time;
    if (!Number.isFinite(time) || Math.abs(time) > MAX_EPOCH_SECONDS) {
      throw invalid(`SenML record ${i} has a time out of range`, t !== undefined ? f.ptr('t') : (baseTimePointer ?? f.ptr('t')));
    }

    const record: ResolvedRecord = { n: name, t: time };
    const unit = u ?? baseUnit;
    if (unit !== undefined && unit !== '') record.u = unit;
    if (value !== undefined) record.v = value;
    if (vs !== undefined) record.vs = vs;
    if (vb !== undefined) record.vb = vb;
    if (vd !== undefined) record.vd = vd;
    if (sum !== undefined) record.s = sum;
    if (ut !== undefined) record.ut = ut;
    resolved.push(record);
  });

  // RFC 8428 §4.6: resolved Records are in chronological order. Array#sort is stable.
  return resolved.sort((a, b) => a.t - b.t);
}

/** The value part of a reading's deterministic id: the one value, plus the sum when there is one. */
export function senmlValueKey(record: ResolvedRecord): string {
  const value = record.v ?? record.vs ?? record.vb ?? record.vd;
  const parts: string[] = [];
  if (value !== undefined) parts.push(String(value));
  if (record.s !== undefined) parts.push(`s=${record.s}`);
  return parts.join(';');
}

/**
 * One `sensor.reading` CloudEvent per resolved Record. The id is
 * `deterministicId(deviceId ?? '', n, t, senmlValueKey(record))`, so a redelivered pack gives
 * the same ids (packs with relative times depend on `nowMs`, as their meaning does).
 */
export function senmlToEvents(pack: unknown, opts: SenmlEventOptions): CloudEvent[] {
  const deviceId = opts.deviceId === '' ? undefined : opts.deviceId;
  return resolveSenml(pack, opts.nowMs).map((record) => {
    const event: CloudEvent = {
      specversion: '1.0',
      id: deterministicId(deviceId ?? '', record.n, record.t, senmlValueKey(record)),
      source: opts.source,
      type: 'sensor.reading',
      time: new Date(Math.round(record.t * 1000)).toISOString(), // nearest ms: t is float seconds
      subject: deviceId ?? record.n,
      datacontenttype: 'application/json',
      data: record,
    };
    if (deviceId !== undefined) event.deviceid = deviceId;
    if (opts.history) event.pitwallhistory = true;
    return event;
  });
}
