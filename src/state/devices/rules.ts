/**
 * The sensor-rules projection: per configured rule × device × reading name, the rule's
 * **episode** state in `sensor_rule_state`.
 *
 * Words: an **episode** starts with a reading beyond the threshold (strictly above `above`, or
 * strictly below `below`) and lasts while every later reading stays beyond the **clear level**
 * (hysteresis: `clear_below` ≤ `above`, `clear_above` ≥ `below`; by default the threshold
 * itself). A reading at or past the clear level ends it. Phases: `idle` → `pending` (episode
 * open, not yet held for `for_minutes`) → `sustained` (the detector's `sensor.sustained` was
 * folded) → `idle`.
 *
 * Rules:
 * - **Readings**: numeric `sensor.reading` (`v`, else `s`) and numeric `vehicle.signal` values;
 *   the key is (rule, `deviceid` or '', full name `n` / VSS path).
 * - **Out of order**: a reading older (by event time) than the latest reading the key has
 *   evaluated is ignored for the rule (it still counts in the device's signal summary). On equal
 *   times the later in the log is evaluated. Episodes are sequences, so arrival order matters
 *   only for readings that are late by event time, and those are dropped.
 * - **Derived events**: `sensor.sustained` moves a `pending` key to `sustained` only if it names
 *   the key's open episode (`episode_id`); otherwise the episode ended before the event was
 *   folded (a clearing reading raced the timer), so the key owes a `sensor.cleared` at once.
 *   A reading that clears a `sustained` key also owes one (`clear_owed_for`, `cleared_by`).
 *   Folding the `sensor.cleared` that names it settles the debt. The detector emits what is owed.
 * - **Duplicates**: the log dedupes resends; `updated_seq` per key skips replays.
 * - History-mode readings build episodes like any other; only the detector treats them apart.
 * - Rules come from the configuration: a changed threshold applies from the next reading; keys
 *   of rules no longer configured are left as they are and ignored.
 */
import type { Selectable } from 'kysely';
import { type Db, dataOf, detectorSource, eventTimeMs, type Projection } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { Database } from '../../store/index.ts';
import { messageDevice, readingOf } from './readings.ts';
import { ruleMatches, type SensorRule } from './settings.ts';

export const RULES_DETECTOR = 'sensor-rules';
export const RULES_SOURCE = detectorSource(RULES_DETECTOR);

export type RulePhase = 'idle' | 'pending' | 'sustained';

export interface RuleKey {
  rule: string;
  /** '' when the reading named no device. */
  deviceId: string;
  n: string;
}

export interface RuleKeyState extends RuleKey {
  unit: string | undefined;
  store: string | undefined;
  phase: RulePhase;
  /** The reading that opened the current episode, and its event time. */
  episodeId: string | undefined;
  startedMs: number | undefined;
  /** The latest reading evaluated. */
  lastMs: number;
  lastValue: number;
  lastEventId: string;
  sustainedEventId: string | undefined;
  sustainedMs: number | undefined;
  clearOwedFor: string | undefined;
  clearedBy: string | undefined;
  clearedMs: number | undefined;
  updatedSeq: number;
}

/** A numeric reading as a rule sees it. */
export interface RuleReading {
  id: string;
  atMs: number;
  value: number;
}

type Row = Selectable<Database['sensor_rule_state']>;
const CHUNK = 400;

/** The condition key of a rule key: `rule|device|n` (`|` appears in none of them). */
export function ruleKeyString(k: RuleKey): string {
  return `${k.rule}|${k.deviceId}|${k.n}`;
}

/** The rule keys a reading event touches, with the numeric reading. */
export function ruleHits(rules: readonly SensorRule[], e: CloudEvent): { key: RuleKey; rule: SensorRule; reading: RuleReading }[] {
  if (e.type !== 'sensor.reading' && e.type !== 'vehicle.signal') return [];
  const r = readingOf(e);
  if (!r || r.value === undefined) return [];
  const deviceId = messageDevice(e) ?? '';
  const store = typeof e.store === 'string' ? e.store : undefined;
  const reading = { id: e.id, atMs: eventTimeMs(e), value: r.value };
  return rules
    .filter((rule) => ruleMatches(rule, r.signal, r.unit, deviceId, store))
    .map((rule) => ({ key: { rule: rule.name, deviceId, n: r.signal }, rule, reading }));
}

function isRulesEvent(e: CloudEvent): boolean {
  return (e.type === 'sensor.sustained' || e.type === 'sensor.cleared') && e.source === RULES_SOURCE;
}

/** The key a derived `sensor.sustained` / `sensor.cleared` names (`rule`, `device_id`, `n`). */
export function derivedKey(e: CloudEvent): RuleKey | undefined {
  if (!isRulesEvent(e)) return undefined;
  const d = dataOf(e);
  if (typeof d.rule !== 'string' || typeof d.n !== 'string') return undefined;
  return { rule: d.rule, deviceId: typeof d.device_id === 'string' ? d.device_id : '', n: d.n };
}

/** Whether `v` starts an episode / ends one under `rule`. */
export function beyond(rule: SensorRule, v: number): boolean {
  return rule.direction === 'above' ? v > rule.threshold : v < rule.threshold;
}
export function clears(rule: SensorRule, v: number): boolean {
  return rule.direction === 'above' ? v <= rule.clearLevel : v >= rule.clearLevel;
}

/** One reading applied to a key (pure); the state unchanged when the reading is late. */
export function stepReading(
  before: RuleKeyState | undefined,
  key: RuleKey,
  rule: SensorRule,
  r: RuleReading,
  extra: { unit: string | undefined; store: string | undefined },
): RuleKeyState {
  if (before && r.atMs < before.lastMs) return before;
  const s: RuleKeyState = before
    ? { ...before }
    : {
        ...key,
        unit: extra.unit,
        store: extra.store,
        phase: 'idle',
        episodeId: undefined,
        startedMs: undefined,
        lastMs: r.atMs,
        lastValue: r.value,
        lastEventId: r.id,
        sustainedEventId: undefined,
        sustainedMs: undefined,
        clearOwedFor: undefined,
        clearedBy: undefined,
        clearedMs: undefined,
        updatedSeq: 0,
      };
  s.lastMs = r.atMs;
  s.lastValue = r.value;
  s.lastEventId = r.id;
  s.unit = extra.unit ?? s.unit;
  s.store = extra.store ?? s.store;
  if (s.phase === 'idle') {
    if (beyond(rule, r.value)) {
      s.phase = 'pending';
      s.episodeId = r.id;
      s.startedMs = r.atMs;
    }
  } else if (clears(rule, r.value)) {
    if (s.phase === 'sustained') owe(s, s.sustainedEventId, r.id, r.atMs);
    s.phase = 'idle';
    s.episodeId = undefined;
    s.startedMs = undefined;
    s.sustainedEventId = undefined;
    s.sustainedMs = undefined;
  }
  return s;
}

function owe(s: RuleKeyState, sustainedId: string | undefined, by: string | undefined, atMs: number): void {
  // At most one debt at a time: the detector settles one before it can fire the next episode.
  if (sustainedId === undefined || s.clearOwedFor !== undefined) return;
  s.clearOwedFor = sustainedId;
  s.clearedBy = by;
  s.clearedMs = atMs;
}

/** A derived `sensor.sustained` / `sensor.cleared` applied to its key (pure). */
export function stepDerived(s: RuleKeyState, e: CloudEvent): RuleKeyState {
  const d = dataOf(e);
  const out: RuleKeyState = { ...s };
  if (e.type === 'sensor.sustained') {
    if (s.phase === 'pending' && s.episodeId !== undefined && d.episode_id === s.episodeId) {
      out.phase = 'sustained';
      out.sustainedEventId = e.id;
      out.sustainedMs = eventTimeMs(e);
    } else if (s.sustainedEventId !== e.id) {
      owe(out, e.id, undefined, eventTimeMs(e));
    }
  } else if (d.sustained_event_id === s.clearOwedFor) {
    out.clearOwedFor = undefined;
    out.clearedBy = undefined;
    out.clearedMs = undefined;
  }
  return out;
}

export function createRulesProjection(rules: readonly SensorRule[]): Projection {
  const byName = new Map(rules.map((r) => [r.name, r]));
  return {
    name: 'sensor-rules',
    tables: ['sensor_rule_state'],
    handles: (e) => isRulesEvent(e) || (rules.length > 0 && (e.type === 'sensor.reading' || e.type === 'vehicle.signal')),
    async apply(db, events) {
      const names = new Set<string>();
      for (const { event } of events) {
        for (const h of ruleHits(rules, event)) names.add(h.key.n);
        const k = derivedKey(event);
        if (k) names.add(k.n);
      }
      if (names.size === 0) return;
      const states = new Map<string, RuleKeyState>();
      for (const chunk of chunksOf([...names])) {
        for (const row of await db.selectFrom('sensor_rule_state').selectAll().where('n', 'in', chunk).execute()) {
          const s = ruleStateFromRow(row);
          states.set(ruleKeyString(s), s);
        }
      }
      const changed = new Set<string>();
      const put = (s: RuleKeyState, seq: number) => {
        const k = ruleKeyString(s);
        states.set(k, { ...s, updatedSeq: seq });
        changed.add(k);
      };
      for (const le of events) {
        const dk = derivedKey(le.event);
        if (dk) {
          const s = states.get(ruleKeyString(dk));
          if (s && le.seq > s.updatedSeq) put(stepDerived(s, le.event), le.seq);
          continue;
        }
        const r = readingOf(le.event);
        for (const h of ruleHits(rules, le.event)) {
          const s = states.get(ruleKeyString(h.key));
          if (s && le.seq <= s.updatedSeq) continue;
          const rule = byName.get(h.key.rule) as SensorRule;
          const store = typeof le.event.store === 'string' ? le.event.store : undefined;
          put(stepReading(s, h.key, rule, h.reading, { unit: r?.unit, store }), le.seq);
        }
      }
      const rows = [...changed].map((k) => ruleStateToRow(states.get(k) as RuleKeyState));
      for (const chunk of chunksOf(rows)) await upsert(db, chunk);
    },
  };
}

function chunksOf<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

const opt = (v: number | bigint | null): number | undefined => (v === null ? undefined : Number(v));

export function ruleStateFromRow(r: Row): RuleKeyState {
  return {
    rule: r.rule,
    deviceId: r.device_id,
    n: r.n,
    unit: r.unit ?? undefined,
    store: r.store ?? undefined,
    phase: r.phase as RulePhase,
    episodeId: r.episode_id ?? undefined,
    startedMs: opt(r.started_ms),
    lastMs: Number(r.last_ms),
    lastValue: Number(r.last_value),
    lastEventId: r.last_event_id,
    sustainedEventId: r.sustained_event_id ?? undefined,
    sustainedMs: opt(r.sustained_ms),
    clearOwedFor: r.clear_owed_for ?? undefined,
    clearedBy: r.cleared_by ?? undefined,
    clearedMs: opt(r.cleared_ms),
    updatedSeq: Number(r.updated_seq),
  };
}

function ruleStateToRow(s: RuleKeyState): Row {
  return {
    rule: s.rule,
    device_id: s.deviceId,
    n: s.n,
    unit: s.unit ?? null,
    store: s.store ?? null,
    phase: s.phase,
    episode_id: s.episodeId ?? null,
    started_ms: s.startedMs ?? null,
    last_ms: s.lastMs,
    last_value: s.lastValue,
    last_event_id: s.lastEventId,
    sustained_event_id: s.sustainedEventId ?? null,
    sustained_ms: s.sustainedMs ?? null,
    clear_owed_for: s.clearOwedFor ?? null,
    cleared_by: s.clearedBy ?? null,
    cleared_ms: s.clearedMs ?? null,
    updated_seq: s.updatedSeq,
  };
}

function upsert(db: Db, rows: Row[]): Promise<unknown> {
  return db
    .insertInto('sensor_rule_state')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['rule', 'device_id', 'n']).doUpdateSet((eb) => ({
        unit: eb.ref('excluded.unit'),
        store: eb.ref('excluded.store'),
        phase: eb.ref('excluded.phase'),
        episode_id: eb.ref('excluded.episode_id'),
        started_ms: eb.ref('excluded.started_ms'),
        last_ms: eb.ref('excluded.last_ms'),
        last_value: eb.ref('excluded.last_value'),
        last_event_id: eb.ref('excluded.last_event_id'),
        sustained_event_id: eb.ref('excluded.sustained_event_id'),
        sustained_ms: eb.ref('excluded.sustained_ms'),
        clear_owed_for: eb.ref('excluded.clear_owed_for'),
        cleared_by: eb.ref('excluded.cleared_by'),
        cleared_ms: eb.ref('excluded.cleared_ms'),
        updated_seq: eb.ref('excluded.updated_seq'),
      })),
    )
    .execute();
}

/** Several keys' states, by `ruleKeyString`; keys with no state are absent. */
export async function getRuleStates(db: Db, keys: readonly RuleKey[]): Promise<Map<string, RuleKeyState>> {
  const wanted = new Set(keys.map(ruleKeyString));
  const out = new Map<string, RuleKeyState>();
  for (const chunk of chunksOf([...new Set(keys.map((k) => k.n))])) {
    for (const row of await db.selectFrom('sensor_rule_state').selectAll().where('n', 'in', chunk).execute()) {
      const s = ruleStateFromRow(row);
      const k = ruleKeyString(s);
      if (wanted.has(k)) out.set(k, s);
    }
  }
  return out;
}

/** One key's state. */
export async function getRuleState(db: Db, k: RuleKey): Promise<RuleKeyState | undefined> {
  const row = await db
    .selectFrom('sensor_rule_state')
    .selectAll()
    .where('rule', '=', k.rule)
    .where('device_id', '=', k.deviceId)
    .where('n', '=', k.n)
    .executeTakeFirst();
  return row ? ruleStateFromRow(row) : undefined;
}
