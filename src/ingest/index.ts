export { defaultDoors, deviceSource, SEGMENT_EVENT_LIMIT } from './doors.ts';
export { DUPLICATE_MINUTE_MS, type DuplicateSeen, recordDuplicates } from './duplicates.ts';
export { type Door, type EventOutcome, type IngestDeps, type IngestItem, Ingestor } from './ingest.ts';
export { type MqttInfo, type MqttIngest, PublishBatcher, routeTopic, startMqtt } from './mqtt.ts';
export {
  type Channel,
  countQuarantine,
  getQuarantined,
  listQuarantine,
  type QuarantineContext,
  type QuarantineEntry,
} from './quarantine.ts';
