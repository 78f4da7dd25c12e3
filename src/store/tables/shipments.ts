/** Table shapes for shipments, transit times, carrier-lane reliability (src/state/shipments). Times are epoch ms; JSON is stored as text. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the module's tables
export interface ShipmentTables {}
