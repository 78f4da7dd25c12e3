/** Carrier × lane statistics, recomputed from `shipments` (see projection.ts). */
import type { Selectable } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';

const HOUR = 3_600_000;

const hours = (ms: number | bigint | null) => Math.round((Number(ms) / HOUR) * 1000) / 1000;

/** Recomputes one carrier × lane from its delivered shipments (deleted when none is left). */
export async function recomputeLane(db: Db, carrier: string, origin: string, destination: string, window: number): Promise<void> {
  const lane = db
    .selectFrom('shipments')
    .where('carrier', '=', carrier)
    .where('origin', '=', origin)
    .where('destination', '=', destination)
    .where('transit_ms', 'is not', null);
  const agg = await lane
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('on_time').as('ok'), eb.fn.max('delivered_ms').as('last')])
    .executeTakeFirst();
  const n = Number(agg?.n ?? 0);
  if (n === 0) {
    await db
      .deleteFrom('shipment_lanes')
      .where('carrier', '=', carrier)
      .where('origin', '=', origin)
      .where('destination', '=', destination)
      .execute();
    return;
  }
  const transit = await lane.select('transit_ms').orderBy('delivered_ms', 'desc').orderBy('shipment_id', 'desc').limit(window).execute();
  const lastMile = await lane
    .select('last_mile_ms')
    .where('last_mile_ms', 'is not', null)
    .orderBy('delivered_ms', 'desc')
    .orderBy('shipment_id', 'desc')
    .limit(window)
    .execute();
  const row: Selectable<Database['shipment_lanes']> = {
    carrier,
    origin,
    destination,
    delivered_count: n,
    on_time_count: Number(agg?.ok ?? 0),
    transit_hours: JSON.stringify(transit.map((r) => hours(r.transit_ms))),
    last_mile_hours: JSON.stringify(lastMile.map((r) => hours(r.last_mile_ms))),
    last_delivered_ms: agg?.last === null || agg?.last === undefined ? null : Number(agg.last),
  };
  await db
    .insertInto('shipment_lanes')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['carrier', 'origin', 'destination']).doUpdateSet((eb) => ({
        delivered_count: eb.ref('excluded.delivered_count'),
        on_time_count: eb.ref('excluded.on_time_count'),
        transit_hours: eb.ref('excluded.transit_hours'),
        last_mile_hours: eb.ref('excluded.last_mile_hours'),
        last_delivered_ms: eb.ref('excluded.last_delivered_ms'),
      })),
    )
    .execute();
}
