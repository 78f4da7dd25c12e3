/** Table shapes as Kysely sees them. Times are epoch milliseconds; JSON is stored as text. */
import type { ColumnType, Generated } from 'kysely';
import type { ActTables } from './tables/act.ts';
import type { AssetTables } from './tables/assets.ts';
import type { CatalogTables } from './tables/catalog.ts';
import type { DashboardTables } from './tables/dashboard.ts';
import type { DecideFixTables } from './tables/decide-fixes.ts';
import type { DeviceStateTables } from './tables/devices.ts';
import type { IdentityTables } from './tables/identity.ts';
import type { LearnTables } from './tables/learn.ts';
import type { PolicyTables } from './tables/policy.ts';
import type { QualityTables } from './tables/quality.ts';
import type { RunTables } from './tables/runs.ts';
import type { ShipmentTables } from './tables/shipments.ts';
import type { StorefrontTables } from './tables/storefront.ts';
import type { TriggerTables } from './tables/triggers.ts';
import type { WorkflowTables } from './tables/workflows.ts';

export type Int64 = ColumnType<number, number | bigint, number | bigint>;

export interface EventsTable {
  seq: Int64;
  id: string;
  source: string;
  type: string;
  subject: string | null;
  time_ms: Int64;
  received_ms: Int64;
  history: number;
  body: string;
}

export interface DedupeTable {
  source: string;
  id: string;
  seq: Int64;
}

export interface ConsumerPositionsTable {
  group_name: string;
  position: Int64;
  updated_ms: Int64;
}

export interface QuarantineTable {
  id: string;
  received_ms: Int64;
  channel: string;
  source: string | null;
  type: string | null;
  code: string;
  reason: string;
  pointer: string | null;
  payload: string;
  context: string;
  status: string;
  replayed_seq: Int64 | null;
  updated_ms: Int64;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: string;
  origins: string | null;
  created_ms: Int64;
  revoked_ms: Int64 | null;
  /** The store a publishable key serves (migration 0020). */
  store: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface DevicesTable {
  id: string;
  secret_hash: string;
  created_ms: Int64;
  revoked_ms: Int64 | null;
}

export interface EventTypesTable {
  type: string;
  version: number;
  schema: string;
  description: string;
  created_ms: Int64;
}

/** Durable timers (src/detect): `due_ms` identifies the firing, `ready_ms` is when it may next be claimed. */
export interface TimersTable {
  key: string;
  due_ms: Int64;
  ready_ms: Int64;
  payload: string;
  attempts: number;
  lease_token: string | null;
  last_error: string | null;
  updated_ms: Int64;
}

/** The carts projection (src/state); `lines` is JSON `{ sku: { quantity, price } }`. */
export interface CartsTable {
  cart_id: string;
  customer: string | null;
  status: string;
  lines: string;
  value: number;
  currency: string | null;
  checkout_step: number | null;
  last_activity_ms: Int64;
  last_event_id: string | null;
  updated_seq: Int64;
  order_id: string | null;
  abandoned_at_ms: Int64 | null;
}

/** A condition (src/detect/conditions.ts): a detector firing with a lifecycle; `details` is JSON. */
export interface ConditionsTable {
  id: string;
  kind: string;
  key: string;
  status: string;
  severity: string;
  summary: string;
  details: string;
  raised_ms: Int64;
  raised_event_id: string;
  last_raised_ms: Int64;
  raise_count: number;
  acknowledged_ms: Int64 | null;
  acknowledged_by: string | null;
  note: string | null;
  cleared_ms: Int64 | null;
  cleared_event_id: string | null;
  updated_seq: Int64;
}

/** Every table; modules from 0005 on keep their table shapes in `tables/<module>.ts`. */
export interface Database
  extends ActTables,
    CatalogTables,
    IdentityTables,
    ShipmentTables,
    AssetTables,
    DeviceStateTables,
    QualityTables,
    PolicyTables,
    RunTables,
    TriggerTables,
    WorkflowTables,
    DecideFixTables,
    StorefrontTables,
    LearnTables,
    DashboardTables {
  events: EventsTable;
  dedupe: DedupeTable;
  consumer_positions: ConsumerPositionsTable;
  quarantine: QuarantineTable;
  api_keys: ApiKeysTable;
  devices: DevicesTable;
  event_types: EventTypesTable;
  timers: TimersTable;
  carts: CartsTable;
  conditions: ConditionsTable;
}

export type { Generated };
