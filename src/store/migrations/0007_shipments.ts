/** Migration 0007_shipments: shipments, transit times, carrier-lane reliability (src/state/shipments). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0007_shipments(dialect: Dialect): Migration {
  const big = int64(dialect);
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('shipments')
        .addColumn('shipment_id', 'text', (c) => c.primaryKey())
        .addColumn('carrier', 'text')
        .addColumn('origin', 'text')
        .addColumn('destination', 'text')
        .addColumn('promised_ms', big)
        .addColumn('order_id', 'text')
        .addColumn('tracking_number', 'text')
        .addColumn('service', 'text')
        .addColumn('lines', 'text')
        .addColumn('created_ms', big)
        .addColumn('booking_ms', big)
        .addColumn('booking_event_id', 'text')
        .addColumn('statuses', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_ms', big)
        .addColumn('status_event_id', 'text')
        .addColumn('status_reason', 'text')
        .addColumn('status_location', 'text')
        .addColumn('picked_up_ms', big)
        .addColumn('out_for_delivery_ms', big)
        .addColumn('exception_since_ms', big)
        .addColumn('delivered_ms', big)
        .addColumn('delivered_event_id', 'text')
        .addColumn('on_time', 'integer')
        .addColumn('transit_ms', big)
        .addColumn('last_mile_ms', big)
        .addColumn('positions_count', 'integer', (c) => c.notNull())
        .addColumn('last_position_ms', big)
        .addColumn('last_lat', 'double precision')
        .addColumn('last_lon', 'double precision')
        .addColumn('last_speed_kmh', 'double precision')
        .addColumn('last_position_event_id', 'text')
        .addColumn('last_position_source', 'text')
        .addColumn('stationary_since_ms', big)
        .addColumn('stationary_fixes', 'integer', (c) => c.notNull())
        .addColumn('delayed', 'integer', (c) => c.notNull())
        .addColumn('delay_reasons', 'text', (c) => c.notNull())
        .addColumn('delay_episodes', 'text', (c) => c.notNull())
        .addColumn('first_delayed_ms', big)
        .addColumn('updated_seq', big, (c) => c.notNull())
        .execute();
      // Lane statistics: the last N delivered shipments of a carrier × lane.
      await db.schema.createIndex('shipments_lane').on('shipments').columns(['carrier', 'origin', 'destination', 'delivered_ms']).execute();
      // List filters, in id order for keyset pagination.
      await db.schema.createIndex('shipments_status').on('shipments').columns(['status', 'shipment_id']).execute();
      await db.schema.createIndex('shipments_delayed').on('shipments').columns(['delayed', 'shipment_id']).execute();

      await db.schema
        .createTable('shipment_positions')
        .addColumn('shipment_id', 'text', (c) => c.notNull())
        .addColumn('time_ms', big, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('lat', 'double precision', (c) => c.notNull())
        .addColumn('lon', 'double precision', (c) => c.notNull())
        .addColumn('speed_kmh', 'double precision')
        .addPrimaryKeyConstraint('shipment_positions_pk', ['shipment_id', 'time_ms', 'event_id'])
        .execute();
      // The stationary run: one source's fixes, newest first.
      await db.schema
        .createIndex('shipment_positions_source')
        .on('shipment_positions')
        .columns(['shipment_id', 'source', 'time_ms'])
        .execute();

      await db.schema
        .createTable('shipment_conditions')
        .addColumn('shipment_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('readings', 'integer', (c) => c.notNull())
        .addColumn('breaching_readings', 'integer', (c) => c.notNull())
        .addColumn('min_value', 'double precision')
        .addColumn('max_value', 'double precision')
        .addColumn('last_ms', big, (c) => c.notNull())
        .addColumn('last_value', 'double precision', (c) => c.notNull())
        .addColumn('last_unit', 'text')
        .addColumn('last_event_id', 'text', (c) => c.notNull())
        .addColumn('last_breaching', 'integer', (c) => c.notNull())
        .addColumn('run_since_ms', big)
        .addColumn('run_last_ms', big)
        .addColumn('run_event_id', 'text')
        .addColumn('run_value', 'double precision')
        .addColumn('run_limit_min', 'double precision')
        .addColumn('run_limit_max', 'double precision')
        .addColumn('run_own_threshold', 'integer')
        .addColumn('updated_seq', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('shipment_conditions_pk', ['shipment_id', 'kind'])
        .execute();

      await db.schema
        .createTable('shipment_breaches')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('shipment_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision')
        .addColumn('unit', 'text')
        .addColumn('limit_min', 'double precision')
        .addColumn('limit_max', 'double precision')
        .addColumn('reading_ms', big)
        .addColumn('reading_event_id', 'text')
        .addColumn('raised_ms', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('shipment_breaches_shipment').on('shipment_breaches').columns(['shipment_id', 'raised_ms']).execute();

      await db.schema
        .createTable('shipment_lanes')
        .addColumn('carrier', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('delivered_count', 'integer', (c) => c.notNull())
        .addColumn('on_time_count', 'integer', (c) => c.notNull())
        .addColumn('transit_hours', 'text', (c) => c.notNull())
        .addColumn('last_mile_hours', 'text', (c) => c.notNull())
        .addColumn('last_delivered_ms', big)
        .addPrimaryKeyConstraint('shipment_lanes_pk', ['carrier', 'origin', 'destination'])
        .execute();
    },
  };
}
