/**
 * How long fixes stay in `shipment_positions` (docs/decide/shipments.md#retention). The table
 * exists for the stationary run, which reads the newest `POSITION_TAIL` fixes of one source of a
 * shipment; so per (shipment, source) only those are kept — pruned whenever a shipment's fix count
 * crosses a multiple of `PRUNE_EVERY` — and a delivered shipment's fixes are dropped in the batch
 * that folds the delivery (nothing reads them after it). Neither changes what the fold computes, so
 * live state and a rebuild agree.
 */
import type { Db } from '../../detect/index.ts';

/** Fixes kept per shipment and source: exactly what the stationary run scans. */
export const POSITION_TAIL = 2000;
/** A shipment's older fixes are pruned each time its fix count passes a multiple of this. */
export const PRUNE_EVERY = 500;

/** True when going from `before` to `after` fixes passes a prune point. */
export function prunePoint(before: number, after: number): boolean {
  return after > POSITION_TAIL && Math.floor(before / PRUNE_EVERY) !== Math.floor(after / PRUNE_EVERY);
}

/** Keeps the newest `keep` fixes (by time, event id) of each source of `shipmentId`. */
export async function prunePositions(db: Db, shipmentId: string, keep = POSITION_TAIL): Promise<void> {
  const sources = await db.selectFrom('shipment_positions').select('source').distinct().where('shipment_id', '=', shipmentId).execute();
  for (const { source } of sources) {
    const edge = await db
      .selectFrom('shipment_positions')
      .select(['time_ms', 'event_id'])
      .where('shipment_id', '=', shipmentId)
      .where('source', '=', source)
      .orderBy('time_ms', 'desc')
      .orderBy('event_id', 'desc')
      .offset(keep - 1)
      .limit(1)
      .executeTakeFirst();
    if (!edge) continue;
    await db
      .deleteFrom('shipment_positions')
      .where('shipment_id', '=', shipmentId)
      .where('source', '=', source)
      .where((eb) =>
        eb.or([eb('time_ms', '<', edge.time_ms), eb.and([eb('time_ms', '=', edge.time_ms), eb('event_id', '<', edge.event_id)])]),
      )
      .execute();
  }
}

/** Drops every fix of the given (delivered) shipments. */
export async function dropPositions(db: Db, shipmentIds: readonly string[]): Promise<void> {
  for (let i = 0; i < shipmentIds.length; i += 200)
    await db
      .deleteFrom('shipment_positions')
      .where('shipment_id', 'in', shipmentIds.slice(i, i + 200))
      .execute();
}
