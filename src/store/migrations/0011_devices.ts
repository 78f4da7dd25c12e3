/** Migration 0011_devices: device state and sensor rules (src/state/devices). */
import type { Kysely, Migration } from 'kysely';
import { type Dialect, int64 } from '../dialect.ts';

export function m0011_devices(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const i64 = int64(dialect);
      await db.schema
        .createTable('device_state')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text')
        .addColumn('kind_ms', i64)
        .addColumn('registered_ms', i64)
        .addColumn('firmware', 'text')
        .addColumn('firmware_ms', i64)
        .addColumn('store', 'text')
        .addColumn('store_ms', i64)
        .addColumn('battery_pct', 'double precision')
        .addColumn('battery_pct_ms', i64)
        .addColumn('battery_v', 'double precision')
        .addColumn('battery_v_ms', i64)
        .addColumn('first_seen_ms', i64)
        .addColumn('last_seen_ms', i64)
        .addColumn('last_event_id', 'text')
        .addColumn('last_contact_ms', i64)
        .addColumn('last_received_ms', i64)
        .addColumn('message_count', 'integer', (c) => c.notNull())
        .addColumn('silent', 'integer', (c) => c.notNull())
        .addColumn('silent_since_ms', i64)
        .addColumn('silent_at_ms', i64)
        .addColumn('silent_event_id', 'text')
        .addColumn('back_owed_by', 'text')
        .addColumn('updated_seq', i64, (c) => c.notNull())
        .execute();
      // "Silent devices" (GET /v1/devices?silent=true, silentDevices) in id order.
      await db.schema.createIndex('device_state_silent').on('device_state').columns(['silent', 'device_id']).execute();

      await db.schema
        .createTable('device_signals')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('signal', 'text', (c) => c.notNull())
        .addColumn('unit', 'text')
        .addColumn('last_value', 'double precision')
        .addColumn('last_text', 'text')
        .addColumn('last_ms', i64, (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('num_count', 'integer', (c) => c.notNull())
        .addColumn('min', 'double precision')
        .addColumn('max', 'double precision')
        .addColumn('sum', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_signals_pk', ['device_id', 'signal'])
        .execute();

      await db.schema
        .createTable('sensor_rule_state')
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('n', 'text', (c) => c.notNull())
        .addColumn('unit', 'text')
        .addColumn('store', 'text')
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('episode_id', 'text')
        .addColumn('started_ms', i64)
        .addColumn('last_ms', i64, (c) => c.notNull())
        .addColumn('last_value', 'double precision', (c) => c.notNull())
        .addColumn('last_event_id', 'text', (c) => c.notNull())
        .addColumn('sustained_event_id', 'text')
        .addColumn('sustained_ms', i64)
        .addColumn('clear_owed_for', 'text')
        .addColumn('cleared_by', 'text')
        .addColumn('cleared_ms', i64)
        .addColumn('updated_seq', i64, (c) => c.notNull())
        .addPrimaryKeyConstraint('sensor_rule_state_pk', ['rule', 'device_id', 'n'])
        .execute();
      // Loads by reading name (a batch's readings), and "what is sustained now".
      await db.schema.createIndex('sensor_rule_state_n').on('sensor_rule_state').columns(['n']).execute();
      await db.schema.createIndex('sensor_rule_state_phase').on('sensor_rule_state').columns(['phase', 'rule']).execute();

      await db.schema
        .createTable('sensor_rules')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('published_ms', i64, (c) => c.notNull())
        .execute();
    },
  };
}
