/**
 * The `sensor.sustained` / `sensor.cleared` detector, on the sensor-rules projection and durable timers.
 *
 * - `onEvents(batch)`: for each rule key a non-history reading touched (and each key named by a
 *   folded `sensor.sustained`), once the batch is folded:
 *   - a key that owes a `sensor.cleared` → appends it (id from the `sensor.sustained` it ends);
 *   - `pending` → makes sure `sensor.sustained:<rule>|<device>|<n>` is due at the episode's start
 *     + `for_minutes` (a new episode replaces the timer); otherwise cancels it.
 *   History-mode readings start no timers and emit nothing.
 * - `fire(timer)`: re-reads the key; still `pending` in the same episode and held for the
 *   duration by the clock → appends `sensor.sustained` with id `deterministicId(key, episode)`,
 *   so at most one per episode whatever the retries. It fires even if readings stopped: the last
 *   known value was bad (`device.silent` reports the silence). An owed `sensor.cleared` is
 *   appended first, so a key's events alternate sustained → cleared in the log.
 * - The configured rules are published to table `sensor_rules` when the module starts (and
 *   retried before a batch if that failed), so `GET /v1/sensor-rules` shows what this process runs.
 */
import { deterministicId, isoTime } from '../../core/index.ts';
import {
  type ConditionRule,
  type DecideContext,
  type Detector,
  dataOf,
  derivedEvent,
  emit,
  type Json,
  type Severity,
  writeTransaction,
} from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import {
  derivedKey,
  getRuleState,
  getRuleStates,
  RULES_DETECTOR,
  RULES_SOURCE,
  type RuleKey,
  type RuleKeyState,
  ruleHits,
  ruleKeyString,
} from './rules.ts';
import { ruleDefinition, type SensorRule } from './settings.ts';

export const SUSTAINED_TIMER_PREFIX = 'sensor.sustained:';

export function sustainedTimerKey(k: RuleKey): string {
  return `${SUSTAINED_TIMER_PREFIX}${ruleKeyString(k)}`;
}

const conditionKey = (e: CloudEvent): string | undefined => {
  const k = derivedKey(e);
  return k ? ruleKeyString(k) : undefined;
};

const SEVERITIES: readonly string[] = ['info', 'warning', 'critical'];

export const SUSTAINED_CONDITIONS: readonly ConditionRule[] = [
  {
    type: 'sensor.sustained',
    action: 'raise',
    kind: 'sensor.sustained',
    key: conditionKey,
    severity: (e) => {
      const s = dataOf(e).severity;
      return typeof s === 'string' && SEVERITIES.includes(s) ? (s as Severity) : 'warning';
    },
    summary: (e) => {
      const d = dataOf(e);
      return `${String(d.rule)}: ${String(d.n)} ${String(d.direction)} ${String(d.threshold)} for ${Math.round(Number(d.duration_s) / 60)} min`;
    },
  },
  { type: 'sensor.cleared', action: 'clear', kind: 'sensor.sustained', key: conditionKey },
];

export function createSustainedDetector(ctx: DecideContext, rules: readonly SensorRule[]): Detector {
  const { log, store, timers, clock } = ctx;
  const byName = new Map(rules.map((r) => [r.name, r]));

  let publishing: Promise<void> | undefined;
  const published = (): Promise<void> =>
    (publishing ??= publishRules(ctx, rules).catch((e: unknown) => {
      publishing = undefined;
      throw e;
    }));
  published().catch(() => undefined); // retried by the next batch if it failed

  const device = (s: RuleKeyState) => (s.deviceId !== '' ? { device_id: s.deviceId } : {});

  const cleared = (s: RuleKeyState): CloudEvent =>
    derivedEvent(clock, {
      type: 'sensor.cleared',
      id: deterministicId('pitwall.sensor.cleared', s.clearOwedFor),
      source: RULES_SOURCE,
      subject: s.n,
      data: {
        n: s.n,
        rule: s.rule,
        ...device(s),
        sustained_event_id: s.clearOwedFor,
        ...(s.clearedBy !== undefined ? { value: s.lastValue } : {}),
        ...(s.clearedMs !== undefined ? { cleared_at: isoTime(s.clearedMs) } : {}),
      },
      causedBy: [s.clearedBy ?? (s.clearOwedFor as string)],
    });

  const sustained = (s: RuleKeyState, rule: SensorRule, dueMs: number): CloudEvent =>
    derivedEvent(clock, {
      type: 'sensor.sustained',
      id: deterministicId('pitwall.sensor.sustained', ruleKeyString(s), s.episodeId),
      source: RULES_SOURCE,
      subject: s.n,
      timeMs: dueMs,
      data: {
        n: s.n,
        threshold: rule.threshold,
        direction: rule.direction,
        duration_s: rule.forMs / 1000,
        rule: rule.name,
        ...device(s),
        ...(s.unit !== undefined ? { u: s.unit } : {}),
        clear_level: rule.clearLevel,
        value: s.lastValue,
        started_at: isoTime(s.startedMs as number),
        episode_id: s.episodeId,
        severity: rule.severity,
      },
      causedBy: [...new Set([s.episodeId as string, s.lastEventId])],
    });

  const payload = (s: RuleKeyState): Json => ({ rule: s.rule, device_id: s.deviceId, n: s.n, episode: s.episodeId ?? null });

  return {
    name: RULES_DETECTOR,
    timerPrefix: SUSTAINED_TIMER_PREFIX,
    conditions: SUSTAINED_CONDITIONS,

    async onEvents(batch) {
      await published();
      const keys = new Map<string, RuleKey>();
      for (const le of batch) {
        if (le.history) continue;
        for (const h of ruleHits(rules, le.event)) keys.set(ruleKeyString(h.key), h.key);
        const k = le.event.type === 'sensor.sustained' ? derivedKey(le.event) : undefined;
        if (k) keys.set(ruleKeyString(k), k);
      }
      if (keys.size === 0) return;
      const states = await getRuleStates(store.db, [...keys.values()]);
      const out: CloudEvent[] = [];
      for (const [ks, k] of keys) {
        const s = states.get(ks);
        const rule = byName.get(k.rule);
        if (!s || !rule) continue;
        if (s.clearOwedFor !== undefined) out.push(cleared(s));
        const key = sustainedTimerKey(k);
        const timer = await timers.get(key);
        if (s.phase === 'pending' && s.startedMs !== undefined) {
          const due = s.startedMs + rule.forMs;
          const episode = (timer?.payload as { episode?: unknown } | undefined)?.episode;
          if (!timer || timer.dueAt !== due || episode !== s.episodeId) await timers.schedule(key, due, payload(s));
        } else if (timer) {
          await timers.cancel(key);
        }
      }
      await emit(log, clock, out);
    },

    async fire(timer) {
      const p = timer.payload as { rule?: unknown; device_id?: unknown; n?: unknown; episode?: unknown };
      if (typeof p.rule !== 'string' || typeof p.device_id !== 'string' || typeof p.n !== 'string') return;
      const s = await getRuleState(store.db, { rule: p.rule, deviceId: p.device_id, n: p.n });
      const rule = byName.get(p.rule);
      if (!s || !rule) return;
      const out: CloudEvent[] = [];
      if (s.clearOwedFor !== undefined) out.push(cleared(s));
      if (s.phase === 'pending' && s.episodeId === p.episode && s.startedMs !== undefined) {
        const due = s.startedMs + rule.forMs;
        if (clock.now() < due)
          await timers.schedule(timer.key, due, payload(s)); // for_minutes grew since
        else out.push(sustained(s, rule, due));
      }
      await emit(log, clock, out);
    },
  };
}

/** Replaces the `sensor_rules` snapshot with `rules` (upserts, so two processes starting at once do not collide). */
async function publishRules(ctx: DecideContext, rules: readonly SensorRule[]): Promise<void> {
  const now = ctx.clock.now();
  await writeTransaction(ctx.store, async (db) => {
    const names = rules.map((r) => r.name);
    await db
      .deleteFrom('sensor_rules')
      .$if(names.length > 0, (q) => q.where('name', 'not in', names))
      .execute();
    if (rules.length === 0) return;
    await db
      .insertInto('sensor_rules')
      .values(rules.map((r, i) => ({ name: r.name, position: i, definition: JSON.stringify(ruleDefinition(r)), published_ms: now })))
      .onConflict((oc) =>
        oc.column('name').doUpdateSet((eb) => ({
          position: eb.ref('excluded.position'),
          definition: eb.ref('excluded.definition'),
          published_ms: eb.ref('excluded.published_ms'),
        })),
      )
      .execute();
  });
}
