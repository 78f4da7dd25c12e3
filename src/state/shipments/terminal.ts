/**
 * When a shipment is done: delivered, or a terminal carrier status (`returned`). Its conditions
 * (`shipment.delayed`, `shipment.condition_breach`) are cleared then, terminally: a raise folded
 * afterwards — a detector that read the shipment before the fold — opens nothing.
 */
import { dataOf } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';

/** Carrier statuses after which a shipment moves no more (the catalogue has no `cancelled` yet). */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['returned', 'cancelled']);

/** The event types that can end a shipment, for `ConditionRule.type`. */
export const TERMINAL_TYPES = ['shipment.delivered', 'shipment.status'] as const;

/** The shipment an event ends, if it ends one. */
export function endedShipment(e: CloudEvent): string | undefined {
  const d = dataOf(e);
  if (typeof d.shipment_id !== 'string' || d.shipment_id === '') return undefined;
  if (e.type === 'shipment.delivered') return d.shipment_id;
  if (e.type === 'shipment.status' && typeof d.status === 'string' && TERMINAL_STATUSES.has(d.status)) return d.shipment_id;
  return undefined;
}
