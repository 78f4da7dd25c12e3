/**
 * A keyed trigger entry (`{ event, key, filter? }` of an absence or a correlation) evaluated
 * for one event: its filter, then its key — a string or a list of strings; two events pair when
 * their keys share an element.
 */
import type { Db } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import type { KeyedTriggerEvent } from '../definitions/types.ts';
import { StateView } from './state.ts';
import type { RunnableWorkflow } from './workflows.ts';

export type KeyResult =
  | { ok: true; keys: string[] }
  | { ok: false; expression: string; error: string }
  /** The filter is false: the event does not count. */
  | undefined;

export async function keysOf(
  db: Db,
  wf: RunnableWorkflow,
  entry: KeyedTriggerEvent,
  event: CloudEvent,
  customerId: string | undefined,
  nowMs: number,
): Promise<KeyResult> {
  const state = new StateView(db, event, customerId);
  const base = { nowMs, event, run: null };
  if (entry.filter !== undefined) {
    const f = wf.condition(entry.filter, entry.event);
    const r = f.evaluate(await state.activation(f.vars, base));
    if (!r.ok) return { ok: false, expression: entry.filter, error: r.error };
    if (r.value !== true) return undefined;
  }
  const k = wf.value(entry.key, entry.event);
  const r = k.evaluate(await state.activation(k.vars, base));
  if (!r.ok) return { ok: false, expression: entry.key, error: r.error };
  const values = typeof r.value === 'string' ? [r.value] : Array.isArray(r.value) ? r.value : undefined;
  if (!values?.every((v) => typeof v === 'string'))
    return { ok: false, expression: entry.key, error: 'the key is not a string or a list of strings' };
  return { ok: true, keys: [...new Set(values as string[])].filter((v) => v !== '') };
}
