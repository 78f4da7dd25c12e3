/**
 * The `shipment.condition_breach` detector.
 *
 * After a batch, for each (shipment, kind) with a non-history `shipment.condition` in it: when the
 * latest reading breaches (readings.ts: the reading's own `threshold`, else the configured limits)
 * the open breach run is reported once, by a `shipment.condition_breach` whose id is derived from
 * (shipment, kind, the run's first reading) — the projection folds it into `shipment_breaches`, so a
 * run already reported is skipped, and a repeat appends the same id, which the log dedupes.
 *
 * Configured temperature limits apply only to temperature-sensitive goods (`temperature_only_sensitive`,
 * default true): a run judged by configuration is not reported when the shipment lists its lines and
 * the catalogue knows every SKU and none is temperature-sensitive (unknown → reported). A reading
 * with its own `threshold` is always judged by it. Readings of a delivered shipment are not reported.
 * The condition `shipment.condition_breach` (key `<shipment id>:<kind>`) is raised by the event and
 * cleared for good by `shipment.delivered` or a terminal status (`returned`; terminal.ts).
 */

import { getProducts } from '../../catalog/index.ts';
import { deterministicId, isoTime } from '../../core/index.ts';
import { type ConditionRule, type DecideContext, type Detector, dataOf, derivedEvent, detectorSource, emit } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { dataRecord, type Shipment, shipmentIdOf, text } from './fold.ts';
import type { ReadingState } from './readings.ts';
import { fromReadingRow, fromShipmentRow } from './rows.ts';
import { CONDITION_KINDS, type ShipmentSettings } from './settings.ts';
import { endedShipment, TERMINAL_STATUSES, TERMINAL_TYPES } from './terminal.ts';

export const BREACH_SOURCE = detectorSource('shipment-condition');

const shipmentOf = (e: CloudEvent) => (typeof dataOf(e).shipment_id === 'string' ? (dataOf(e).shipment_id as string) : undefined);

export const BREACH_CONDITIONS: readonly ConditionRule[] = [
  {
    type: 'shipment.condition_breach',
    action: 'raise',
    kind: 'shipment.condition_breach',
    key: (e) => {
      const id = shipmentOf(e);
      return id === undefined || typeof dataOf(e).kind !== 'string' ? undefined : `${id}:${dataOf(e).kind as string}`;
    },
    severity: 'critical',
    summary: (e) => `shipment ${String(shipmentOf(e))}: ${String(dataOf(e).kind)} ${String(dataOf(e).value ?? '')} beyond its limit`,
  },
  // One clear per kind and ending event: delivery (or a return) closes every breach condition of
  // the shipment for good (terminal.ts).
  ...TERMINAL_TYPES.flatMap((type) =>
    CONDITION_KINDS.map(
      (kind): ConditionRule => ({
        type,
        action: 'clear',
        terminal: true,
        kind: 'shipment.condition_breach',
        key: (e) => {
          const id = endedShipment(e);
          return id === undefined ? undefined : `${id}:${kind}`;
        },
      }),
    ),
  ),
];

export function breachEventId(shipmentId: string, kind: string, run: { sinceMs: number; eventId: string }): string {
  return deterministicId('pitwall.shipment.condition_breach', shipmentId, kind, run.sinceMs, run.eventId);
}

export function createBreachDetector(ctx: DecideContext, settings: ShipmentSettings): Detector {
  const { store, clock, log } = ctx;
  const db = store.db;

  /** False when configured temperature limits do not apply: every listed SKU is known and none is sensitive. */
  const sensitive = async (s: Shipment | undefined): Promise<boolean> => {
    const lines = s?.lines ?? [];
    if (lines.length === 0) return true;
    const products = await getProducts(
      db,
      lines.map((l) => l.sku),
    );
    if (lines.some((l) => !products.has(l.sku))) return true;
    return lines.some((l) => products.get(l.sku)?.temperatureSensitive === true);
  };

  const check = async (shipmentId: string, kind: string): Promise<CloudEvent | undefined> => {
    const row = await db
      .selectFrom('shipment_conditions')
      .selectAll()
      .where('shipment_id', '=', shipmentId)
      .where('kind', '=', kind)
      .executeTakeFirst();
    if (!row) return undefined;
    const r: ReadingState = fromReadingRow(row);
    const run = r.run;
    if (!run || !r.lastBreaching) return undefined;
    const shipmentRow = await db.selectFrom('shipments').selectAll().where('shipment_id', '=', shipmentId).executeTakeFirst();
    const s = shipmentRow ? fromShipmentRow(shipmentRow) : undefined;
    if (s?.deliveredMs !== undefined || TERMINAL_STATUSES.has(s?.status ?? '')) return undefined;
    const id = breachEventId(shipmentId, kind, run);
    if (await db.selectFrom('shipment_breaches').select('id').where('id', '=', id).executeTakeFirst()) return undefined;
    if (kind === 'temperature' && !run.ownThreshold && settings.temperatureOnlySensitive && !(await sensitive(s))) return undefined;
    const data: Record<string, unknown> = {
      shipment_id: shipmentId,
      kind,
      value: run.value,
      reading_at: isoTime(run.sinceMs),
      ...(r.lastUnit !== undefined ? { unit: r.lastUnit } : {}),
      ...(run.limit.min !== undefined ? { limit_min: run.limit.min } : {}),
      ...(run.limit.max !== undefined ? { limit_max: run.limit.max } : {}),
      ...(run.ownThreshold && run.limit.max !== undefined ? { threshold: run.limit.max } : {}),
    };
    return derivedEvent(clock, {
      type: 'shipment.condition_breach',
      id,
      source: BREACH_SOURCE,
      subject: shipmentId,
      data,
      causedBy: [...new Set([run.eventId, r.lastEventId])],
    });
  };

  return {
    name: 'shipment-condition',
    conditions: BREACH_CONDITIONS,
    async onEvents(batch) {
      const keys = new Map<string, [string, string]>();
      for (const le of batch) {
        if (le.history || le.event.type !== 'shipment.condition') continue;
        const id = shipmentIdOf(le);
        const kind = text(dataRecord(le).kind);
        if (id !== undefined && kind !== undefined) keys.set(`${id}\u0001${kind}`, [id, kind]);
      }
      const out: CloudEvent[] = [];
      for (const [id, kind] of keys.values()) {
        const e = await check(id, kind);
        if (e) out.push(e);
      }
      await emit(log, clock, out);
    },
  };
}
