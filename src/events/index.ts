export { fromBinary, modeOf, normalise } from './adapters/cloudevents-http.ts';
export { resolveSenml, senmlToEvents, shipmentToEvents, telemetryToEvents } from './adapters/index.ts';
export { type SegmentCall, segmentToEvent } from './adapters/segment.ts';
export { BUILT_IN_TYPES } from './catalogue/index.ts';
export type { EventTypeDefinition } from './catalogue-types.ts';
export { type CloudEvent, EVENT_TYPE_PATTERN, snakeCase } from './envelope.ts';
export { type Problem, SchemaRegistry, schemaUri } from './registry.ts';
