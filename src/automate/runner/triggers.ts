/**
 * Trigger matching: each trigger kind turns what it watches into `TriggerMatch`es, and every
 * match goes through flow control (flow.ts) to the same `startRun`. Here: event triggers,
 * matched per logged event. Absence and correlation: sequences.ts; schedules: schedules.ts.
 */
import type { Db } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { TriggerMatch } from './lifecycle.ts';
import { StateView } from './state.ts';
import type { RunnableWorkflow } from './workflows.ts';

/**
 * An event trigger's match for `event`: undefined when the filter is false. A filter that fails
 * at run time still matches, carrying the error, so the run is recorded as skipped with it.
 * The run's identity is the event's `(source, id)`: the log's own dedupe key.
 */
export async function matchEvent(
  db: Db,
  wf: RunnableWorkflow,
  event: CloudEvent,
  customerId: string | undefined,
  nowMs: number,
): Promise<TriggerMatch | undefined> {
  const t = wf.definition.trigger;
  if (t.kind !== 'event' || t.event !== event.type) return undefined;
  const match: TriggerMatch = { workflow: wf, kind: 'event', key: [event.source, event.id], events: [event] };
  if (t.filter === undefined) return match;
  const filter = wf.condition(t.filter);
  const activation = await new StateView(db, event, customerId).activation(filter.vars, { nowMs, event, run: null });
  const r = filter.evaluate(activation);
  if (!r.ok) return { ...match, filterError: { expression: t.filter, error: r.error } };
  return r.value === true ? match : undefined;
}
