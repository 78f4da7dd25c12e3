/** Table shapes for the catalogue and reference data (src/catalog): SKUs, fitment, warehouses, carriers, lanes. Times are epoch ms; JSON is stored as text. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the module's tables
export interface CatalogTables {}
