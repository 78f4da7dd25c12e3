/** Table shapes for stock and vehicles / connected parts (src/state/assets). Times are epoch ms; JSON is stored as text. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the module's tables
export interface AssetTables {}
