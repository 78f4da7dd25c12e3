/** Table shapes for customers and the identity graph (src/state/identity). Times are epoch ms; JSON is stored as text. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the module's tables
export interface IdentityTables {}
