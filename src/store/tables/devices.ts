/** Table shapes for device state and sensor rules (src/state/devices). Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/** One row per device seen in the log (`device_state`; the `devices` table holds MQTT credentials). */
export interface DeviceStateTable {
  device_id: string;
  kind: string | null;
  kind_ms: Int64 | null;
  registered_ms: Int64 | null;
  firmware: string | null;
  firmware_ms: Int64 | null;
  store: string | null;
  store_ms: Int64 | null;
  battery_pct: number | null;
  battery_pct_ms: Int64 | null;
  battery_v: number | null;
  battery_v_ms: Int64 | null;
  first_seen_ms: Int64 | null;
  last_seen_ms: Int64 | null;
  last_event_id: string | null;
  /** max over messages of min(event time, received time): what the silence timer counts from. */
  last_contact_ms: Int64 | null;
  last_received_ms: Int64 | null;
  message_count: number;
  /** 1 while silent (folded from `device.silent` / `device.back`). */
  silent: number;
  silent_since_ms: Int64 | null;
  silent_at_ms: Int64 | null;
  silent_event_id: string | null;
  /** A newer message that makes a silent device back; `device.back` is owed until folded. */
  back_owed_by: string | null;
  updated_seq: Int64;
}

/** Per device × signal: the latest value and running numeric aggregates. */
export interface DeviceSignalsTable {
  device_id: string;
  signal: string;
  unit: string | null;
  last_value: number | null;
  last_text: string | null;
  last_ms: Int64;
  count: number;
  num_count: number;
  min: number | null;
  max: number | null;
  sum: number;
}

/** Per sensor rule × device × reading name: the rule's episode state. */
export interface SensorRuleStateTable {
  rule: string;
  /** '' when the reading named no device. */
  device_id: string;
  n: string;
  unit: string | null;
  store: string | null;
  phase: string;
  episode_id: string | null;
  started_ms: Int64 | null;
  last_ms: Int64;
  last_value: number;
  last_event_id: string;
  sustained_event_id: string | null;
  sustained_ms: Int64 | null;
  /** The `sensor.sustained` whose `sensor.cleared` is owed (not yet folded). */
  clear_owed_for: string | null;
  cleared_by: string | null;
  cleared_ms: Int64 | null;
  updated_seq: Int64;
}

/** The sensor rules the Decide process runs with (a configuration snapshot, not a projection). */
export interface SensorRulesTable {
  name: string;
  position: number;
  definition: string;
  published_ms: Int64;
}

export interface DeviceStateTables {
  device_state: DeviceStateTable;
  device_signals: DeviceSignalsTable;
  sensor_rule_state: SensorRuleStateTable;
  sensor_rules: SensorRulesTable;
}
