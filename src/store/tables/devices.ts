/** Table shapes for device state and sensor rules (src/state/devices). Times are epoch ms; JSON is stored as text. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the module's tables
export interface DeviceStateTables {}
