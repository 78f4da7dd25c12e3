/** Migration 0005_catalog: the catalogue and reference data (src/catalog): SKUs, fitment, warehouses, carriers, lanes. */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0005_catalog(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('products')
        .addColumn('sku', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('category', 'text')
        .addColumn('category_key', 'text')
        .addColumn('price', 'double precision', (c) => c.notNull())
        .addColumn('currency', 'text')
        .addColumn('unit_cost', 'double precision')
        .addColumn('weight_kg', 'double precision')
        .addColumn('hazardous', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('temperature_sensitive', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('search', 'text', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
        .execute();
      // Category filter + keyset pagination by SKU.
      await db.schema.createIndex('products_category').on('products').columns(['category_key', 'sku']).execute();

      // A product's fitment is replaced as a whole; deleting the product removes it.
      await db.schema
        .createTable('fitments')
        .addColumn('sku', 'text', (c) => c.notNull().references('products.sku').onDelete('cascade'))
        .addColumn('make', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('make_key', 'text', (c) => c.notNull())
        .addColumn('model_key', 'text', (c) => c.notNull())
        .addColumn('year_from', 'integer', (c) => c.notNull())
        .addColumn('year_to', 'integer')
        .addColumn('engine', 'text')
        .addColumn('engine_key', 'text')
        .execute();
      // "Parts for this vehicle" and "this SKU's fitment".
      await db.schema.createIndex('fitments_vehicle').on('fitments').columns(['make_key', 'model_key', 'year_from']).execute();
      await db.schema.createIndex('fitments_sku').on('fitments').columns(['sku']).execute();

      await db.schema
        .createTable('warehouses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('region', 'text')
        .addColumn('country', 'text')
        .addColumn('lat', 'double precision')
        .addColumn('lon', 'double precision')
        .addColumn('timezone', 'text')
        .addColumn('cutoff_time', 'text')
        .addColumn('handling_hours', 'double precision')
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('carriers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('tracking_url', 'text')
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
        .execute();

      // No foreign key to carriers: imports check the carrier exists, and deleting a carrier deletes its lanes.
      await db.schema
        .createTable('lanes')
        .addColumn('carrier_id', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('transit_hours_p50', 'double precision')
        .addColumn('transit_hours_p90', 'double precision')
        .addColumn('cost', 'double precision')
        .addColumn('currency', 'text')
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('created_ms', int64(dialect), (c) => c.notNull())
        .addColumn('updated_ms', int64(dialect), (c) => c.notNull())
        .addPrimaryKeyConstraint('lanes_pk', ['carrier_id', 'origin', 'destination'])
        .execute();
      // "Which carriers serve origin → destination".
      await db.schema.createIndex('lanes_route').on('lanes').columns(['origin', 'destination']).execute();
    },
  };
}
