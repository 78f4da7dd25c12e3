/**
 * `correlated` in a correlation workflow's expressions: the two paired events by their trigger
 * entries (YAML order), whatever order they arrived in. A run keeps its events oldest first;
 * when both entries name the same event type, `first` is the older.
 */
import type { CloudEvent } from '../../events/index.ts';
import type { WorkflowDefinition } from './types.ts';

export interface Correlated {
  first: CloudEvent;
  second: CloudEvent;
}

export function correlatedOf(def: WorkflowDefinition, events: readonly CloudEvent[]): Correlated | undefined {
  const t = def.trigger;
  if (t.kind !== 'correlation' || events.length !== 2) return undefined;
  const [a, b] = events as [CloudEvent, CloudEvent];
  if (t.events[0].event === t.events[1].event) return { first: a, second: b };
  return a.type === t.events[0].event ? { first: a, second: b } : { first: b, second: a };
}

/** `{ correlated }` for an activation, or nothing. */
export function correlatedActivation(def: WorkflowDefinition, events: readonly CloudEvent[]): { correlated?: Correlated } {
  const c = correlatedOf(def, events);
  return c ? { correlated: c } : {};
}
