/** What an import needs to know about each kind of record: its fields, key, checks and storage. */
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.ts';
import type { ApiRecord, Spec } from './fields.ts';
import { CODES, type Issue, issue } from './issues.ts';
import { allSkus, chunks, deleteSkus, loadProductRecords, writeProductRecords } from './products.ts';
import {
  existingCarrierIds,
  laneKey,
  loadCarrierRecords,
  loadLaneRecords,
  loadWarehouseRecords,
  writeCarrierRecords,
  writeLaneRecords,
  writeWarehouseRecords,
} from './reference.ts';
import {
  CARRIER_DEFAULTS,
  CARRIER_SPEC,
  checkLane,
  checkWarehouse,
  LANE_DEFAULTS,
  LANE_SPEC,
  PRODUCT_DEFAULTS,
  PRODUCT_SPEC,
  WAREHOUSE_DEFAULTS,
  WAREHOUSE_SPEC,
} from './specs.ts';
import type { RecordKind } from './types.ts';

type Db = Kysely<Database>;

export interface Entity {
  kind: RecordKind;
  /** For messages: "a new SKU", "a new warehouse". */
  noun: string;
  spec: Spec;
  defaults: ApiRecord;
  /** Fields that together identify a record; their values must not contain control characters. */
  keyFields: readonly string[];
  /** Rules across fields of the merged record. */
  check?: (r: ApiRecord) => Issue[];
  /** Problems that need the store, one list per record. */
  refs?: (db: Db, records: readonly ApiRecord[]) => Promise<Issue[][]>;
  /** Stored records (API shape, without read-only fields) by key. */
  load(db: Db, keys: readonly string[]): Promise<Map<string, ApiRecord>>;
  write(db: Db, nowMs: number, records: readonly ApiRecord[]): Promise<void>;
  allKeys(db: Db): Promise<string[]>;
  deleteKeys(db: Db, keys: readonly string[]): Promise<void>;
}

/** The internal key of a record (parts joined by U+0001) and how a report shows it (joined by "/"). */
export function keyOf(e: Entity, r: Record<string, unknown>): { key: string; shown: string } | undefined {
  const parts = e.keyFields.map((f) => r[f]);
  if (!parts.every((p): p is string => typeof p === 'string' && p.trim() !== '')) return undefined;
  const trimmed = parts.map((p) => p.trim());
  return { key: trimmed.join('\u0001'), shown: trimmed.join('/') };
}

const products: Entity = {
  kind: 'products',
  noun: 'SKU',
  spec: PRODUCT_SPEC,
  defaults: PRODUCT_DEFAULTS,
  keyFields: ['sku'],
  load: loadProductRecords,
  write: writeProductRecords,
  allKeys: allSkus,
  deleteKeys: deleteSkus,
};

const warehouses: Entity = {
  kind: 'warehouses',
  noun: 'warehouse',
  spec: WAREHOUSE_SPEC,
  defaults: WAREHOUSE_DEFAULTS,
  keyFields: ['id'],
  check: checkWarehouse,
  load: loadWarehouseRecords,
  write: writeWarehouseRecords,
  allKeys: async (db) => (await db.selectFrom('warehouses').select('id').execute()).map((r) => r.id),
  async deleteKeys(db, keys) {
    for (const part of chunks(keys)) await db.deleteFrom('warehouses').where('id', 'in', part).execute();
  },
};

const carriers: Entity = {
  kind: 'carriers',
  noun: 'carrier',
  spec: CARRIER_SPEC,
  defaults: CARRIER_DEFAULTS,
  keyFields: ['id'],
  load: loadCarrierRecords,
  write: writeCarrierRecords,
  allKeys: async (db) => (await db.selectFrom('carriers').select('id').execute()).map((r) => r.id),
  async deleteKeys(db, keys) {
    for (const part of chunks(keys)) {
      await db.deleteFrom('lanes').where('carrier_id', 'in', part).execute();
      await db.deleteFrom('carriers').where('id', 'in', part).execute();
    }
  },
};

const lanes: Entity = {
  kind: 'lanes',
  noun: 'lane',
  spec: LANE_SPEC,
  defaults: LANE_DEFAULTS,
  keyFields: ['carrier_id', 'origin', 'destination'],
  check: checkLane,
  async refs(db, records) {
    const known = await existingCarrierIds(
      db,
      records.map((r) => r.carrier_id as string),
    );
    return records.map((r) =>
      known.has(r.carrier_id as string)
        ? []
        : [issue(CODES.carrierUnknown, '/carrier_id', `no carrier "${r.carrier_id as string}"; add it with PUT /v1/carriers first`)],
    );
  },
  load: loadLaneRecords,
  write: writeLaneRecords,
  allKeys: async (db) =>
    (await db.selectFrom('lanes').select(['carrier_id', 'origin', 'destination']).execute()).map((r) =>
      laneKey(r.carrier_id, r.origin, r.destination),
    ),
  async deleteKeys(db, keys) {
    for (const k of keys) {
      const [carrierId = '', origin = '', destination = ''] = k.split('\u0001');
      await db
        .deleteFrom('lanes')
        .where('carrier_id', '=', carrierId)
        .where('origin', '=', origin)
        .where('destination', '=', destination)
        .execute();
    }
  },
};

export const ENTITIES: Record<RecordKind, Entity> = { products, warehouses, carriers, lanes };
