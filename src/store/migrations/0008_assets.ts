/** Migration 0008_assets: stock and vehicles / connected parts (src/state/assets). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0008_assets(dialect: Dialect): Migration {
  const i64 = int64(dialect);
  const dbl = 'double precision';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('stock_levels')
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('warehouse', 'text', (c) => c.notNull())
        .addColumn('category', 'text')
        .addColumn('on_hand', dbl)
        .addColumn('reading_ms', i64)
        .addColumn('reserved', dbl, (c) => c.notNull())
        .addColumn('available', dbl)
        .addColumn('daily_depletion', dbl)
        .addColumn('depletion_basis', 'text')
        .addColumn('days_of_cover', dbl)
        .addColumn('first_ms', i64, (c) => c.notNull())
        .addColumn('latest_ms', i64, (c) => c.notNull())
        .addColumn('low_raised', 'integer', (c) => c.notNull())
        .addColumn('low_cleared', 'integer', (c) => c.notNull())
        .addColumn('low_since_ms', i64)
        .addColumn('updated_seq', i64, (c) => c.notNull())
        .addPrimaryKeyConstraint('stock_levels_pk', ['sku', 'warehouse'])
        .execute();
      // `?warehouse=` lists.
      await db.schema.createIndex('stock_levels_warehouse').on('stock_levels').columns(['warehouse', 'sku']).execute();

      await db.schema
        .createTable('stock_sensors')
        .addColumn('sensor', 'text', (c) => c.primaryKey())
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('warehouse', 'text', (c) => c.notNull())
        .addColumn('quantity', dbl, (c) => c.notNull())
        .addColumn('time_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('stock_sensors_item').on('stock_sensors').columns(['sku', 'warehouse']).execute();

      await db.schema
        .createTable('stock_readings')
        .addColumn('sensor', 'text', (c) => c.notNull())
        .addColumn('bucket_ms', i64, (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('warehouse', 'text', (c) => c.notNull())
        .addColumn('quantity', dbl, (c) => c.notNull())
        .addColumn('time_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('stock_readings_pk', ['sensor', 'bucket_ms'])
        .execute();
      await db.schema.createIndex('stock_readings_item').on('stock_readings').columns(['sku', 'warehouse', 'bucket_ms']).execute();

      await db.schema
        .createTable('stock_order_lines')
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('warehouse', 'text', (c) => c.notNull())
        .addColumn('quantity', dbl, (c) => c.notNull())
        .addColumn('shipped', dbl, (c) => c.notNull())
        .addColumn('category', 'text')
        .addColumn('time_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('stock_order_lines_pk', ['order_id', 'sku'])
        .execute();
      await db.schema.createIndex('stock_order_lines_item').on('stock_order_lines').columns(['sku', 'warehouse', 'time_ms']).execute();

      await db.schema
        .createTable('stock_picks')
        .addColumn('shipment_id', 'text', (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('warehouse', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('quantity', dbl, (c) => c.notNull())
        .addColumn('time_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('stock_picks_pk', ['shipment_id', 'sku'])
        .execute();
      await db.schema.createIndex('stock_picks_item').on('stock_picks').columns(['sku', 'warehouse', 'time_ms']).execute();
      await db.schema.createIndex('stock_picks_order').on('stock_picks').columns(['order_id', 'sku']).execute();

      await db.schema
        .createTable('vehicles')
        .addColumn('vehicle_id', 'text', (c) => c.primaryKey())
        .addColumn('vin', 'text')
        .addColumn('customer_id', 'text')
        .addColumn('customer_ms', i64)
        .addColumn('first_ms', i64, (c) => c.notNull())
        .addColumn('last_ms', i64, (c) => c.notNull())
        .addColumn('updated_seq', i64, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('vehicles_customer').on('vehicles').columns(['customer_id']).execute();

      await db.schema
        .createTable('vehicle_devices')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('vehicle_id', 'text')
        .addColumn('kind', 'text')
        .addColumn('customer_id', 'text')
        .addColumn('part_sku', 'text')
        .addColumn('part_serial', 'text')
        .addColumn('firmware', 'text')
        .addColumn('registered_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('vehicle_devices_vehicle').on('vehicle_devices').columns(['vehicle_id']).execute();

      await db.schema
        .createTable('vehicle_signals')
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('signal', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('unit', 'text')
        .addColumn('time_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text')
        .addPrimaryKeyConstraint('vehicle_signals_pk', ['vehicle_id', 'signal'])
        .execute();

      await db.schema
        .createTable('vehicle_points')
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('signal', 'text', (c) => c.notNull())
        .addColumn('bucket_ms', i64, (c) => c.notNull())
        .addColumn('value', dbl, (c) => c.notNull())
        .addColumn('time_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('vehicle_points_pk', ['vehicle_id', 'signal', 'bucket_ms'])
        .execute();

      await db.schema
        .createTable('vehicle_parts')
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('part_type', 'text', (c) => c.notNull())
        .addColumn('part_sku', 'text')
        .addColumn('part_serial', 'text')
        .addColumn('device_id', 'text')
        .addColumn('installed_ms', i64, (c) => c.notNull())
        .addColumn('registered_ms', i64, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('vehicle_parts_pk', ['vehicle_id', 'part_type'])
        .execute();

      await db.schema
        .createTable('vehicle_service')
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('signal', 'text', (c) => c.notNull())
        .addColumn('part_type', 'text', (c) => c.notNull())
        .addColumn('measure', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('threshold', dbl, (c) => c.notNull())
        .addColumn('clear_level', dbl, (c) => c.notNull())
        .addColumn('limit_level', dbl)
        .addColumn('baseline_ms', i64)
        .addColumn('baseline_value', dbl)
        .addColumn('due_raised', 'integer', (c) => c.notNull())
        .addColumn('due_cleared', 'integer', (c) => c.notNull())
        .addColumn('due_since_ms', i64)
        .addColumn('updated_seq', i64, (c) => c.notNull())
        .addPrimaryKeyConstraint('vehicle_service_pk', ['vehicle_id', 'signal'])
        .execute();
    },
  };
}
