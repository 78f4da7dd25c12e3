/**
 * The YAML surface → `WorkflowDefinition`, with a problem (and its pointer) for every field that is
 * missing, unknown or of the wrong kind. Expressions, event types and action parameters are
 * checked afterwards (validate.ts), against the environment and the executors.
 */
import { EVENT_TYPE_PATTERN } from '../../events/index.ts';
import { suggest } from '../conditions/compile.ts';
import { isTimeZone, parseCron, parseDuration } from './durations.ts';
import { joinPointer, type PendingProblem } from './source.ts';
import type { FlowControl, KeyedTriggerEvent, Step, Trigger, WorkflowDefinition } from './types.ts';

export const WORKFLOW_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const STEP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const MAX_STEP_DEPTH = 8;
const MAX_STEPS = 200;
const MAX_HOLDOUT = 50;
const TOP_KEYS = [
  'schemaVersion',
  'id',
  'name',
  'description',
  'enabled',
  'holdout',
  'onPolicyBlock',
  'customer',
  'trigger',
  'conditions',
  'steps',
  'cancelOn',
  'flow',
  'minutesSaved',
];

type Obj = Record<string, unknown>;
type Path = readonly (string | number)[];
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const kindOf = (v: unknown) =>
  v === undefined ? 'nothing' : v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;

class Reader {
  readonly problems: PendingProblem[] = [];
  steps = 0;

  add(path: Path, message: string, extra: Partial<PendingProblem> = {}): void {
    this.problems.push({ pointer: joinPointer(path), message, code: 'PW_WORKFLOW_SCHEMA', ...extra });
  }

  /** A mapping with only `known` keys (an unknown key is reported at the key, with a suggestion). */
  object(v: unknown, path: Path, known: readonly string[], what: string): Obj | undefined {
    if (!isObj(v)) {
      this.add(path, `${what} must be a mapping, not ${kindOf(v)}`);
      return undefined;
    }
    for (const k of Object.keys(v))
      if (!known.includes(k))
        this.add([...path, k], `unknown field "${k}" in ${what}${suggest(k, known)}; known: ${known.join(', ')}`, { atKey: true });
    return v;
  }

  string(o: Obj, key: string, path: Path, opts: { required?: boolean; max?: number; what?: string } = {}): string | undefined {
    const v = o[key];
    const what = opts.what ?? key;
    if (v === undefined || v === null) {
      if (opts.required) this.add(path, `${what} is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      this.add([...path, key], `${what} must be a non-empty string, not ${kindOf(v)}`);
      return undefined;
    }
    if (opts.max !== undefined && v.length > opts.max) {
      this.add([...path, key], `${what} is longer than ${opts.max} characters`);
      return undefined;
    }
    return v;
  }

  duration(o: Obj, key: string, path: Path, required: boolean): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.add(path, `${key} is required (a duration like 30m, 2h or 7d)`);
      return undefined;
    }
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (typeof v !== 'string' || ms === undefined || ms <= 0) {
      this.add([...path, key], `${key} must be a duration like 30m, 2h or 7d (units ms, s, m, h, d, w), not ${JSON.stringify(v)}`);
      return undefined;
    }
    return v.trim();
  }

  eventName(o: Obj, key: string, path: Path): string | undefined {
    const v = this.string(o, key, path, { required: true, what: key });
    if (v === undefined) return undefined;
    if (!EVENT_TYPE_PATTERN.test(v)) {
      this.add([...path, key], `"${v}" is not an event type name (lowercase and dotted, like cart.abandoned)`);
      return undefined;
    }
    return v;
  }

  int(o: Obj, key: string, path: Path, min: number, max: number, required: boolean): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.add(path, `${key} is required`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add([...path, key], `${key} must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }
}

function holdoutOf(r: Reader, v: unknown): number {
  if (v === undefined || v === null) return 0;
  const text = typeof v === 'string' ? v.trim().replace(/\s*%$/, '') : undefined;
  const n = typeof v === 'number' ? v : text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > MAX_HOLDOUT || Math.round(n * 100) !== n * 100) {
    r.add(['holdout'], `holdout must be a percentage from 0% to ${MAX_HOLDOUT}% (at most two decimals), like 10%`);
    return 0;
  }
  return n;
}

function keyed(r: Reader, v: unknown, path: Path, what: string): KeyedTriggerEvent | undefined {
  const o = r.object(v, path, ['event', 'filter', 'key'], what);
  if (!o) return undefined;
  const event = r.eventName(o, 'event', path);
  const filter = r.string(o, 'filter', path);
  const key = r.string(o, 'key', path, { required: true, what: `key (a CEL expression the two events are paired on) in ${what}` });
  if (event === undefined || key === undefined) return undefined;
  return { event, key, ...(filter !== undefined ? { filter } : {}) };
}

function triggerOf(r: Reader, v: unknown): Trigger | undefined {
  const path = ['trigger'];
  if (!isObj(v)) {
    r.add(v === undefined ? [] : path, v === undefined ? 'trigger is required' : `trigger must be a mapping, not ${kindOf(v)}`);
    return undefined;
  }
  if ('correlate' in v) {
    const o = r.object(v, path, ['correlate', 'within', 'lookback'], 'a correlation trigger');
    if (!o) return undefined;
    const list = o.correlate;
    if (!Array.isArray(list) || list.length !== 2) {
      r.add([...path, 'correlate'], 'correlate must list exactly two events, each { event, key, filter? }');
      return undefined;
    }
    const a = keyed(r, list[0], [...path, 'correlate', 0], 'the first correlated event');
    const b = keyed(r, list[1], [...path, 'correlate', 1], 'the second correlated event');
    const within = r.duration(o, 'within', path, true);
    const lookback = r.duration(o, 'lookback', path, false);
    if (!a || !b || within === undefined) return undefined;
    return { kind: 'correlation', events: [a, b], within, ...(lookback !== undefined ? { lookback } : {}) };
  }
  if ('first' in v || 'missing' in v) {
    const o = r.object(v, path, ['first', 'missing', 'within'], 'an absence trigger');
    if (!o) return undefined;
    if (o.first === undefined) r.add(path, 'an absence trigger needs first: { event, key } (what happened)');
    if (o.missing === undefined) r.add(path, 'an absence trigger needs missing: { event, key } (what did not follow)');
    const first = o.first === undefined ? undefined : keyed(r, o.first, [...path, 'first'], 'first');
    const missing = o.missing === undefined ? undefined : keyed(r, o.missing, [...path, 'missing'], 'missing');
    const within = r.duration(o, 'within', path, true);
    if (!first || !missing || within === undefined) return undefined;
    return { kind: 'absence', first, missing, within };
  }
  if ('schedule' in v) {
    const o = r.object(v, path, ['schedule', 'timezone'], 'a schedule trigger');
    if (!o) return undefined;
    const cron = r.string(o, 'schedule', path, { required: true, what: 'schedule (a cron expression)' });
    const timezone = r.string(o, 'timezone', path);
    if (cron !== undefined) {
      const spec = parseCron(cron);
      if (typeof spec === 'string') r.add([...path, 'schedule'], `schedule: ${spec}`);
    }
    if (timezone !== undefined && !isTimeZone(timezone))
      r.add([...path, 'timezone'], `"${timezone}" is not an IANA time zone like Europe/Berlin`);
    if (cron === undefined || typeof parseCron(cron) === 'string' || (timezone !== undefined && !isTimeZone(timezone))) return undefined;
    return { kind: 'schedule', cron, ...(timezone !== undefined ? { timezone } : {}) };
  }
  if ('event' in v) {
    const o = r.object(v, path, ['event', 'filter'], 'an event trigger');
    if (!o) return undefined;
    const event = r.eventName(o, 'event', path);
    const filter = r.string(o, 'filter', path);
    if (event === undefined) return undefined;
    return { kind: 'event', event, ...(filter !== undefined ? { filter } : {}) };
  }
  r.add(path, 'trigger needs one of: event (an event type), first + missing (an absence), correlate (two events), schedule (cron)');
  return undefined;
}

function stepsOf(r: Reader, v: unknown, path: Path, depth: number, ids: Set<string>, required: boolean): Step[] | undefined {
  if (v === undefined || v === null) {
    if (required) r.add(path.slice(0, -1), `${String(path[path.length - 1])} is required: a list of steps`);
    return required ? undefined : [];
  }
  if (!Array.isArray(v)) {
    r.add(path, `${String(path[path.length - 1])} must be a list of steps, not ${kindOf(v)}`);
    return undefined;
  }
  if (required && v.length === 0) r.add(path, 'there must be at least one step');
  if (depth > MAX_STEP_DEPTH) {
    r.add(path, `if steps may be nested at most ${MAX_STEP_DEPTH} deep`);
    return undefined;
  }
  // A step with a problem keeps its place (as a placeholder), so the others' pointers stay right.
  return v.map((item, i) => stepOf(r, item, [...path, i], depth, ids) ?? PLACEHOLDER);
}

/** Stands in for a step with a problem in a partial definition. */
const PLACEHOLDER: Step = { kind: 'wait', duration: '1ms' };

function stepOf(r: Reader, v: unknown, path: Path, depth: number, ids: Set<string>): Step | undefined {
  if (++r.steps > MAX_STEPS) {
    if (r.steps === MAX_STEPS + 1) r.add(path, `a workflow has at most ${MAX_STEPS} steps`);
    return undefined;
  }
  if (!isObj(v)) {
    r.add(path, `a step must be a mapping with action, wait or if, not ${kindOf(v)}`);
    return undefined;
  }
  const kinds = ['action', 'wait', 'if'].filter((k) => k in v);
  if (kinds.length !== 1) {
    r.add(
      path,
      kinds.length === 0 ? 'a step needs one of: action, wait, if' : `a step is one of action, wait or if, not ${kinds.join(' and ')}`,
    );
    return undefined;
  }
  const id = idOf(r, v, path, ids);
  const withId = id === undefined ? {} : { id };
  if (kinds[0] === 'action') {
    const o = r.object(v, path, ['id', 'action', 'with', 'purpose'], 'an action step');
    if (!o) return undefined;
    const action = r.string(o, 'action', path, { required: true, max: 100 });
    const purpose = r.string(o, 'purpose', path, { max: 50, what: 'purpose (a consent purpose such as marketing, service)' });
    const params = o.with ?? {};
    if (!isObj(params)) {
      r.add([...path, 'with'], `with must be a mapping of parameters, not ${kindOf(params)}`);
      return undefined;
    }
    const withPurpose = purpose === undefined ? {} : { purpose: purpose.trim().toLowerCase() };
    return action === undefined ? undefined : { kind: 'action', ...withId, action, with: params, ...withPurpose };
  }
  if (kinds[0] === 'wait') {
    const o = r.object(v, path, ['id', 'wait'], 'a wait step');
    const duration = o ? r.duration(o, 'wait', path, true) : undefined;
    return duration === undefined ? undefined : { kind: 'wait', ...withId, duration };
  }
  const o = r.object(v, path, ['id', 'if', 'then', 'else'], 'an if step');
  if (!o) return undefined;
  const condition = r.string(o, 'if', path, { required: true, what: 'if (a CEL condition)' });
  const then = stepsOf(r, o.then, [...path, 'then'], depth + 1, ids, true);
  const otherwise = stepsOf(r, o.else, [...path, 'else'], depth + 1, ids, false);
  // biome-ignore lint/suspicious/noThenProperty: `then` is the if-step's branch (act-design.md); never awaited
  return { kind: 'if', ...withId, condition: condition ?? 'true', then: then ?? [], else: otherwise ?? [] };
}

function idOf(r: Reader, o: Obj, path: Path, ids: Set<string>): string | undefined {
  const id = o.id;
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string' || !STEP_ID.test(id)) {
    r.add([...path, 'id'], 'a step id is 1–64 letters, digits, _ or -');
    return undefined;
  }
  if (ids.has(id)) r.add([...path, 'id'], `step id "${id}" is used twice`);
  ids.add(id);
  return id;
}

function flowOf(r: Reader, v: unknown): FlowControl | undefined {
  if (v === undefined || v === null) return undefined;
  const path = ['flow'];
  const o = r.object(v, path, ['debounce', 'throttle', 'concurrency', 'idempotency'], 'flow');
  if (!o) return undefined;
  const out: FlowControl = {};
  const part = (name: 'debounce' | 'throttle' | 'concurrency', known: string[]) =>
    o[name] === undefined ? undefined : r.object(o[name], [...path, name], known, `flow.${name}`);
  const d = part('debounce', ['key', 'period']);
  if (d) {
    const key = r.string(d, 'key', [...path, 'debounce'], { required: true });
    const period = r.duration(d, 'period', [...path, 'debounce'], true);
    if (key !== undefined && period !== undefined) out.debounce = { key, period };
  }
  const t = part('throttle', ['key', 'limit', 'period']);
  if (t) {
    const key = r.string(t, 'key', [...path, 'throttle'], { required: true });
    const limit = r.int(t, 'limit', [...path, 'throttle'], 1, 1_000_000, true);
    const period = r.duration(t, 'period', [...path, 'throttle'], true);
    if (key !== undefined && limit !== undefined && period !== undefined) out.throttle = { key, limit, period };
  }
  const c = part('concurrency', ['key', 'limit']);
  if (c) {
    const key = r.string(c, 'key', [...path, 'concurrency'], { required: true });
    const limit = r.int(c, 'limit', [...path, 'concurrency'], 1, 1_000_000, true);
    if (key !== undefined && limit !== undefined) out.concurrency = { key, limit };
  }
  const idem = r.string(o, 'idempotency', path);
  if (idem !== undefined) out.idempotency = idem;
  return out;
}

/**
 * Reads the surface form: `definition` when there are no problems; otherwise, when the trigger and
 * the steps could be read, a `partial` one (problem parts stand in as placeholders) whose
 * expressions can still be checked.
 */
export function readDefinition(value: unknown): {
  definition?: WorkflowDefinition;
  partial?: WorkflowDefinition;
  problems: PendingProblem[];
} {
  const r = new Reader();
  const o = r.object(value, [], TOP_KEYS, 'a workflow');
  if (!o) return { problems: r.problems };

  if (o.schemaVersion === undefined) r.add([], 'schemaVersion: 1 is required');
  else if (o.schemaVersion !== 1)
    r.add(['schemaVersion'], `schemaVersion ${JSON.stringify(o.schemaVersion)} is not supported (this Pitwall reads 1)`);
  const id = r.string(o, 'id', [], { required: true });
  if (id !== undefined && !WORKFLOW_ID.test(id))
    r.add(['id'], 'id must be 1–64 lowercase letters, digits and -, starting with a letter or digit');
  const name = r.string(o, 'name', [], { required: true, max: 200 });
  const description = r.string(o, 'description', [], { max: 4000 });
  let enabled = true;
  if (o.enabled !== undefined && o.enabled !== null) {
    if (typeof o.enabled !== 'boolean') r.add(['enabled'], 'enabled must be true or false');
    else enabled = o.enabled;
  }
  const holdoutPercent = holdoutOf(r, o.holdout);
  let onPolicyBlock: 'skip' | 'defer' = 'skip';
  if (o.onPolicyBlock !== undefined && o.onPolicyBlock !== null) {
    if (o.onPolicyBlock !== 'skip' && o.onPolicyBlock !== 'defer') r.add(['onPolicyBlock'], 'onPolicyBlock must be skip or defer');
    else onPolicyBlock = o.onPolicyBlock;
  }
  const customer = r.string(o, 'customer', []);
  const trigger = triggerOf(r, o.trigger);

  const conditions: string[] = [];
  if (o.conditions !== undefined && o.conditions !== null) {
    if (!Array.isArray(o.conditions)) r.add(['conditions'], `conditions must be a list of CEL expressions, not ${kindOf(o.conditions)}`);
    else
      for (const [i, c] of o.conditions.entries()) {
        if (typeof c !== 'string' || c.trim() === '') {
          r.add(['conditions', i], 'a condition must be a CEL expression (a string)');
          conditions.push('true');
        } else conditions.push(c);
      }
  }
  const steps = stepsOf(r, o.steps, ['steps'], 0, new Set(), true);

  let cancelOn: { event: string; match?: string }[] = [];
  if (o.cancelOn !== undefined && o.cancelOn !== null) {
    if (!Array.isArray(o.cancelOn)) r.add(['cancelOn'], 'cancelOn must be a list of { event, match? }');
    else
      for (const [i, c] of o.cancelOn.entries()) {
        const co = r.object(c, ['cancelOn', i], ['event', 'match'], 'a cancelOn entry');
        if (!co) continue;
        const event = r.eventName(co, 'event', ['cancelOn', i]);
        const match = r.string(co, 'match', ['cancelOn', i]);
        if (event !== undefined) cancelOn.push({ event, ...(match !== undefined ? { match } : {}) });
      }
    // Keep indices aligned for the expression checks of a partial definition.
    if (!Array.isArray(o.cancelOn) || cancelOn.length !== o.cancelOn.length) cancelOn = [];
  }
  const flow = flowOf(r, o.flow);

  let minutesSaved: Record<string, number> | undefined;
  if (o.minutesSaved !== undefined && o.minutesSaved !== null) {
    if (!isObj(o.minutesSaved)) r.add(['minutesSaved'], 'minutesSaved must map action types to minutes, like { email.send: 4 }');
    else {
      minutesSaved = {};
      for (const [k, m] of Object.entries(o.minutesSaved)) {
        if (typeof m !== 'number' || !Number.isFinite(m) || m < 0 || m > 1440)
          r.add(['minutesSaved', k], 'minutes saved must be a number from 0 to 1440');
        else minutesSaved[k] = m;
      }
    }
  }

  if (!trigger || !steps) return { problems: r.problems };
  const definition: WorkflowDefinition = {
    schemaVersion: 1,
    id: id ?? 'invalid',
    name: name ?? 'invalid',
    ...(description !== undefined ? { description } : {}),
    enabled,
    holdoutPercent,
    onPolicyBlock,
    ...(customer !== undefined ? { customer } : {}),
    trigger,
    conditions,
    steps,
    cancelOn,
    ...(flow !== undefined ? { flow } : {}),
    ...(minutesSaved !== undefined ? { minutesSaved } : {}),
  };
  return r.problems.length === 0 ? { definition, problems: [] } : { partial: definition, problems: r.problems };
}
