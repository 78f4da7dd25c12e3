/**
 * Manual work saved: every action the dispatcher completed (outbox `done`) × the minutes a person
 * would have spent on it — the workflow version's `minutesSaved[type]`, else the executor's default.
 */
import { sql } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { DayRange } from './range.ts';

/** Executor defaults by action type (`defaultMinutesSaved`); main.ts builds it from the executors. */
export type MinutesDefaults = ReadonlyMap<string, number>;

/** Reads `defaultMinutesSaved` off whatever executors are registered (types without one count 0). */
export function minutesDefaultsOf(executors: ReadonlyMap<string, unknown> | undefined): MinutesDefaults {
  const out = new Map<string, number>();
  for (const [type, e] of executors ?? []) {
    const m = (e as { defaultMinutesSaved?: unknown }).defaultMinutesSaved;
    if (typeof m === 'number' && Number.isFinite(m)) out.set(type, m);
  }
  return out;
}

export interface WorkSavedRow {
  workflowId: string;
  /** Monday of the ISO week (UTC), `YYYY-MM-DD`. */
  week: string;
  actionType: string;
  actions: number;
  minutesEach: number;
  minutes: number;
}

export interface WorkSavedReport {
  from: string;
  to: string;
  totalActions: number;
  totalMinutes: number;
  byWorkflow: { workflowId: string; actions: number; minutes: number }[];
  byWeek: { week: string; actions: number; minutes: number }[];
  rows: WorkSavedRow[];
}

const DAY_MS = 86_400_000;

export function weekOf(dayNumber: number): string {
  // Day 0 (1970-01-01) was a Thursday: Monday-based weeks start 3 days earlier.
  const monday = dayNumber - ((dayNumber + 3) % 7);
  return new Date(monday * DAY_MS).toISOString().slice(0, 10);
}

export async function workSavedReport(db: Db, range: DayRange, defaults: MinutesDefaults, workflow?: string): Promise<WorkSavedReport> {
  let q = db
    .selectFrom('outbox')
    .select([
      'workflow_id',
      'workflow_version',
      'type',
      sql<number>`finished_ms / ${sql.lit(DAY_MS)}`.as('day'),
      sql<number>`count(*)`.as('n'),
    ])
    .where('status', '=', 'done')
    .where('finished_ms', '>=', range.fromMs)
    .where('finished_ms', '<', range.toMs);
  if (workflow !== undefined) q = q.where('workflow_id', '=', workflow);
  const grouped = await q.groupBy(['workflow_id', 'workflow_version', 'type', sql`finished_ms / ${sql.lit(DAY_MS)}`]).execute();
  const overrides = await minutesOverrides(db, grouped);

  const rows = new Map<string, WorkSavedRow>();
  for (const g of grouped) {
    const minutesEach = overrides.get(`${g.workflow_id}\n${g.workflow_version}`)?.[g.type] ?? defaults.get(g.type) ?? 0;
    const week = weekOf(Math.floor(Number(g.day)));
    const key = `${g.workflow_id}\n${week}\n${g.type}\n${minutesEach}`;
    const row = rows.get(key) ?? { workflowId: g.workflow_id, week, actionType: g.type, actions: 0, minutesEach, minutes: 0 };
    row.actions += Number(g.n);
    row.minutes = row.actions * minutesEach;
    rows.set(key, row);
  }
  const list = [...rows.values()].sort(
    (a, b) => a.workflowId.localeCompare(b.workflowId) || a.week.localeCompare(b.week) || a.actionType.localeCompare(b.actionType),
  );
  const sum = (key: (r: WorkSavedRow) => string) => {
    const m = new Map<string, { actions: number; minutes: number }>();
    for (const r of list) {
      const v = m.get(key(r)) ?? { actions: 0, minutes: 0 };
      v.actions += r.actions;
      v.minutes += r.minutes;
      m.set(key(r), v);
    }
    return [...m].sort(([a], [b]) => a.localeCompare(b));
  };
  return {
    from: range.from,
    to: range.to,
    totalActions: list.reduce((s, r) => s + r.actions, 0),
    totalMinutes: list.reduce((s, r) => s + r.minutes, 0),
    byWorkflow: sum((r) => r.workflowId).map(([workflowId, v]) => ({ workflowId, ...v })),
    byWeek: sum((r) => r.week).map(([week, v]) => ({ week, ...v })),
    rows: list,
  };
}

/** `minutesSaved` of each workflow version the rows name. */
async function minutesOverrides(
  db: Db,
  rows: readonly { workflow_id: string; workflow_version: number }[],
): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  const ids = [...new Set(rows.map((r) => r.workflow_id))];
  if (ids.length === 0) return out;
  const defs = await db.selectFrom('workflows').select(['id', 'version', 'definition']).where('id', 'in', ids).execute();
  for (const d of defs) {
    const m = (JSON.parse(d.definition) as { minutesSaved?: Record<string, number> }).minutesSaved;
    if (m) out.set(`${d.id}\n${d.version}`, m);
  }
  return out;
}
