/** Migration 0023: Learn's daily funnel rollup, orders, survey answers, segments and progress (src/learn). */
import { type Kysely, type Migration, sql } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0023_learn(dialect: Dialect): Migration {
  const withoutRowid = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    dialect === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t;
  const real = dialect === 'postgres' ? 'double precision' : 'real';
  return {
    async up(db: Kysely<unknown>) {
      await withoutRowid(
        db.schema
          .createTable('learn_funnel_daily')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('store', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('device', 'text', (c) => c.notNull())
          .addColumn('segment', 'text', (c) => c.notNull())
          .addColumn('views', int64(dialect), (c) => c.notNull().defaultTo(0))
          .addColumn('adds', int64(dialect), (c) => c.notNull().defaultTo(0))
          .addColumn('checkouts', int64(dialect), (c) => c.notNull().defaultTo(0))
          .addColumn('orders', int64(dialect), (c) => c.notNull().defaultTo(0))
          .addColumn('abandoned', int64(dialect), (c) => c.notNull().defaultTo(0))
          .addColumn('revenue', real, (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('learn_funnel_daily_pk', ['day', 'store', 'category', 'device', 'segment']),
      ).execute();
      await withoutRowid(
        db.schema
          .createTable('learn_orders')
          .addColumn('order_id', 'text', (c) => c.primaryKey())
          .addColumn('customer_ref', 'text')
          .addColumn('time_ms', int64(dialect), (c) => c.notNull())
          .addColumn('store', 'text', (c) => c.notNull())
          .addColumn('revenue', real, (c) => c.notNull())
          .addColumn('lines', 'text', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('learn_orders_customer').on('learn_orders').columns(['customer_ref', 'time_ms']).execute();
      await withoutRowid(
        db.schema
          .createTable('learn_surveys')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('survey_id', 'text', (c) => c.notNull())
          .addColumn('customer_ref', 'text')
          .addColumn('placement', 'text', (c) => c.notNull())
          .addColumn('time_ms', int64(dialect), (c) => c.notNull())
          .addColumn('csat', real)
          .addColumn('nps', real)
          .addColumn('reason', 'text')
          .addColumn('delayed', 'integer'),
      ).execute();
      await db.schema.createIndex('learn_surveys_time').on('learn_surveys').columns(['time_ms']).execute();
      await db.schema.createIndex('learn_surveys_customer').on('learn_surveys').columns(['customer_ref', 'time_ms']).execute();
      await withoutRowid(
        db.schema
          .createTable('learn_segments')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('segment', 'text', (c) => c.notNull()),
      ).execute();
      await withoutRowid(
        db.schema
          .createTable('learn_progress')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('seq', int64(dialect), (c) => c.notNull()),
      ).execute();
    },
  };
}
