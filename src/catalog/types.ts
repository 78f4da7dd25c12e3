/**
 * Terms:
 * - **product** — one SKU: name, category, price, unit cost (for margin), weight, handling flags.
 * - **fitment** — which vehicles a SKU fits: entries of make, model, an inclusive year range
 *   (`yearTo` undefined = still current) and optionally an engine (undefined = every engine).
 * - **vehicle** — what a customer drives: make, model, year, maybe engine. Makes, models and
 *   engines are compared by match keys (`keys.ts`), so `ford`/`Ford`, `F-150`/`F150` are one.
 * - **reference data** — warehouses, carriers and lanes (carrier + origin + destination,
 *   with transit-time priors). Kept in tables, not in the event log (docs/adr/0007).
 * - **import** — a batch of records (JSON or CSV) applied as merge patches by key: fields a
 *   record leaves out keep their stored value, `null` (an empty CSV cell) clears one. Valid
 *   records are applied, each bad one is reported with a pointer.
 */

export interface Vehicle {
  make: string;
  model: string;
  year: number;
  engine?: string | undefined;
}

export interface Fitment {
  make: string;
  model: string;
  yearFrom: number;
  /** Inclusive; undefined = open-ended (still in production). */
  yearTo?: number | undefined;
  /** Undefined = fits every engine of the model. */
  engine?: string | undefined;
}

export interface Product {
  sku: string;
  name: string;
  category?: string | undefined;
  price: number;
  /** ISO 4217, upper case; undefined = the shop's currency. */
  currency?: string | undefined;
  unitCost?: number | undefined;
  weightKg?: number | undefined;
  hazardous: boolean;
  temperatureSensitive: boolean;
  attributes: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface ProductWithFitment extends Product {
  fitment: Fitment[];
}

export interface Warehouse {
  id: string;
  name: string;
  region?: string | undefined;
  /** ISO 3166-1 alpha-2, upper case. */
  country?: string | undefined;
  lat?: number | undefined;
  lon?: number | undefined;
  /** IANA time zone, e.g. Europe/Berlin. */
  timezone?: string | undefined;
  /** Local "HH:MM" order cut-off for same-day dispatch. */
  cutoffTime?: string | undefined;
  /** Typical pick-and-pack time. */
  handlingHours?: number | undefined;
  attributes: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface Carrier {
  id: string;
  name: string;
  /** Tracking page URL with `{tracking_number}` in it. */
  trackingUrl?: string | undefined;
  attributes: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface Lane {
  carrierId: string;
  /** A warehouse id or region code, as in `shipment.created`. */
  origin: string;
  destination: string;
  /** Prior median transit time, until shipments teach a better one. */
  transitHoursP50?: number | undefined;
  transitHoursP90?: number | undefined;
  cost?: number | undefined;
  currency?: string | undefined;
  attributes: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** What an import writes to. */
export type RecordKind = 'products' | 'warehouses' | 'carriers' | 'lanes';

/** One problem with one record of an import. */
export interface RowError {
  /** JSON: the index in the array (as in `pointer`). CSV: the record number, header = 1 (a spreadsheet's row). */
  row: number;
  /** CSV only: the file line the record starts on. */
  line?: number;
  /** The record's key when it could be read (SKU, warehouse/carrier id, `carrier/origin/destination`). */
  key?: string;
  sku?: string;
  code: string;
  /** RFC 6901. JSON: into the document (`/products/3/price`). CSV: into the record (`/price`, `/fitment/1`). */
  pointer: string;
  message: string;
}

export interface ImportResult {
  kind: RecordKind;
  /** Records read from the input. */
  received: number;
  /** Records applied (created + updated); with `dryRun`, those that would be. */
  upserted: number;
  created: number;
  updated: number;
  /** Records not applied (each has at least one entry in `errors`). */
  rejected: number;
  /** Replace mode: stored records not in the input that were (or would be) deleted. */
  deleted: number;
  /** Replace mode with rejected rows deletes nothing; this says so. */
  replaceSkipped: boolean;
  dryRun: boolean;
  errors: RowError[];
  /** More errors than `MAX_REPORTED_ERRORS` were found; the rest are counted in `rejected` only. */
  errorsTruncated: boolean;
}

export interface ImportOptions {
  /** `merge` (default) upserts; `replace` also deletes stored records the input does not name. */
  mode?: 'merge' | 'replace';
  /** Validate and count, write nothing. */
  dryRun?: boolean;
}

/** Input to an import: a parsed JSON array (with the pointer of that array) or CSV text. */
export type ImportSource = { format: 'json'; items: unknown[]; base: string } | { format: 'csv'; text: string };
