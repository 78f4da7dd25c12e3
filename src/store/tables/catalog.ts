/** Table shapes for the catalogue and reference data (src/catalog): SKUs, fitment, warehouses, carriers, lanes. Times are epoch ms; JSON is stored as text. */
import type { Int64 } from '../schema.ts';

/** One SKU. Booleans are 0/1; `attributes` is a JSON object; `*_key` columns hold match keys (src/catalog/keys.ts). */
export interface ProductsTable {
  sku: string;
  name: string;
  category: string | null;
  /** Lower-cased category, for case-insensitive filtering. */
  category_key: string | null;
  price: number;
  currency: string | null;
  unit_cost: number | null;
  weight_kg: number | null;
  hazardous: number;
  temperature_sensitive: number;
  attributes: string;
  /** Lower-cased `sku + "\n" + name`, for `q` search on both dialects alike. */
  search: string;
  created_ms: Int64;
  updated_ms: Int64;
}

/** Which vehicles a SKU fits: one row per (make, model, year range, engine?) entry; `year_to` null is open-ended. */
export interface FitmentsTable {
  sku: string;
  make: string;
  model: string;
  make_key: string;
  model_key: string;
  year_from: number;
  year_to: number | null;
  engine: string | null;
  engine_key: string | null;
}

export interface WarehousesTable {
  id: string;
  name: string;
  region: string | null;
  country: string | null;
  lat: number | null;
  lon: number | null;
  timezone: string | null;
  /** Local "HH:MM" after which orders ship the next working day. */
  cutoff_time: string | null;
  handling_hours: number | null;
  attributes: string;
  created_ms: Int64;
  updated_ms: Int64;
}

export interface CarriersTable {
  id: string;
  name: string;
  /** A URL with `{tracking_number}` in it. */
  tracking_url: string | null;
  attributes: string;
  created_ms: Int64;
  updated_ms: Int64;
}

/** A carrier's route from an origin (warehouse or region) to a destination region, with transit-time priors. */
export interface LanesTable {
  carrier_id: string;
  origin: string;
  destination: string;
  transit_hours_p50: number | null;
  transit_hours_p90: number | null;
  cost: number | null;
  currency: string | null;
  attributes: string;
  created_ms: Int64;
  updated_ms: Int64;
}

export interface CatalogTables {
  products: ProductsTable;
  fitments: FitmentsTable;
  warehouses: WarehousesTable;
  carriers: CarriersTable;
  lanes: LanesTable;
}
