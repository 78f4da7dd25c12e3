/**
 * Schedule (cron) triggers: one timer `automate:schedule:<workflow>` per enabled schedule
 * workflow, due at the next cron time in the workflow's time zone and moved to the one after
 * each firing. The run key is the firing's due time, so a firing handled twice is one run.
 *
 * Missed firings (the runner was down over several slots) fire **once**: the timer still holds
 * the first missed slot, which is the run's key; the next one is the first slot after now.
 * `sync` keeps the timers in line with the workflows: a new or edited schedule workflow gets its
 * timer (re)computed from now, a disabled one (or one no longer on a schedule) loses it.
 */
import { isoTime } from '../../core/index.ts';
import type { ClaimedTimer } from '../../detect/index.ts';
import { nextCronTime, parseCron } from '../definitions/durations.ts';
import { AUTOMATE_TIMER_PREFIX } from './engine.ts';
import type { LifecycleDeps } from './lifecycle.ts';
import type { Submit } from './sequences.ts';
import type { RunnableWorkflow } from './workflows.ts';

export function scheduleTimerKey(workflowId: string): string {
  return `${AUTOMATE_TIMER_PREFIX}schedule:${workflowId}`;
}

/** The next firing of a schedule workflow strictly after `afterMs`, or undefined (not a schedule / never). */
export function nextFiring(wf: RunnableWorkflow, afterMs: number): number | undefined {
  const t = wf.definition.trigger;
  if (t.kind !== 'schedule' || !wf.definition.enabled) return undefined;
  const spec = parseCron(t.cron);
  return typeof spec === 'string' ? undefined : nextCronTime(spec, afterMs, t.timezone ?? 'UTC');
}

export class Schedules {
  /** `<version>` of each workflow whose timer is known to be in line (re-checked after a restart). */
  private readonly synced = new Map<string, number>();

  constructor(private readonly deps: LifecycleDeps) {}

  /** Schedules, moves or cancels the timers of workflows whose latest version changed. */
  async sync(workflows: readonly RunnableWorkflow[]): Promise<void> {
    for (const wf of workflows) {
      if (this.synced.get(wf.id) === wf.version) continue;
      const key = scheduleTimerKey(wf.id);
      const existing = await this.deps.timers.get(key);
      const next = nextFiring(wf, this.deps.clock.now());
      if (next === undefined) {
        if (existing) await this.deps.timers.cancel(key);
      } else if ((existing?.payload as { version?: unknown } | undefined)?.version !== wf.version) {
        await this.deps.timers.schedule(key, next, { workflowId: wf.id, version: wf.version });
      }
      this.synced.set(wf.id, wf.version);
    }
  }

  /** The schedule timer fired: one run keyed by the slot, then the timer moves to the next slot after now. */
  async fire(timer: ClaimedTimer, latest: (id: string) => RunnableWorkflow | undefined, submit: Submit): Promise<void> {
    const p = timer.payload as { workflowId?: unknown } | null;
    if (typeof p?.workflowId !== 'string') return;
    const wf = latest(p.workflowId);
    const now = this.deps.clock.now();
    const next = wf ? nextFiring(wf, Math.max(now, timer.dueAt)) : undefined;
    if (!wf || next === undefined) return; // disabled or no longer a schedule: the timer completes, nothing runs
    await submit({ workflow: wf, kind: 'schedule', key: [isoTime(timer.dueAt)], events: [] });
    // Replacing the timer voids this claim, so completing the firing leaves the next one in place.
    await this.deps.timers.schedule(scheduleTimerKey(wf.id), next, { workflowId: wf.id, version: wf.version });
    this.synced.set(wf.id, wf.version);
  }
}
