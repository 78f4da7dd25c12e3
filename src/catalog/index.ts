/**
 * Catalogue and reference data: SKUs with fitment, warehouses, carriers, lanes — in tables,
 * not in the event log (docs/adr/0007). Other domains read through the functions below;
 * imports (HTTP `PUT /v1/catalog`, `PUT /v1/warehouses|carriers|lanes`, `pitwall catalog
 * import`) go through `importRecords`. Formats and rules: docs/catalog.md.
 */
export { csvField, type Delimiter, detectDelimiter, parseCsv, toCsv } from './csv.ts';
export { type FitmentEntry, formatFitmentCell, parseFitmentCell } from './fitment.ts';
export { importRecords, jsonSource, MAX_REPORTED_ERRORS } from './import.ts';
export { engineKey, makeKey, modelKey } from './keys.ts';
export {
  deleteProduct,
  type FitmentQuery,
  findFitment,
  fitmentToApi,
  fitsVehicle,
  getFitment,
  getProduct,
  getProducts,
  listProducts,
  marginOf,
  type ProductQuery,
  productToApi,
} from './products.ts';
export {
  carrierToApi,
  deleteCarrier,
  deleteLane,
  deleteWarehouse,
  getCarrier,
  getLane,
  getWarehouse,
  type LaneQuery,
  laneToApi,
  listCarriers,
  listLanes,
  listWarehouses,
  warehouseToApi,
} from './reference.ts';
export type {
  Carrier,
  Fitment,
  ImportOptions,
  ImportResult,
  ImportSource,
  Lane,
  Product,
  ProductWithFitment,
  RecordKind,
  RowError,
  Vehicle,
  Warehouse,
} from './types.ts';
