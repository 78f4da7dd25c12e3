export type { ResolvedRecord, SenmlEventOptions } from './senml.ts';
export { resolveSenml, senmlToEvents } from './senml.ts';
export type { ShipmentEventName, ShipmentEventOptions } from './shipment.ts';
export { SHIPMENT_EVENTS, shipmentToEvents } from './shipment.ts';
export type { TelemetryEventOptions } from './telemetry.ts';
export { telemetryToEvents } from './telemetry.ts';
