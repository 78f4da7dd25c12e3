/**
 * Quality: per-source data-quality monitors fed from the log, a 0–100 score, degraded/recovered
 * transitions and the trust gate workflows check before acting on a source's data.
 * Reference: docs/decide/quality.md.
 */
export { type BoundsTable, DEFAULT_BOUNDS, type NameBound, type Range } from './bounds.ts';
export {
  DEFAULT_QUALITY_CONFIG,
  DEFAULT_WEIGHTS,
  type QualityConfig,
  type QualityFlagKind,
  type QualityOptions,
  type RateFlagKind,
} from './config.ts';
export { transitionId } from './fold.ts';
export { isEventTrusted, isSourceTrusted, listSourceQuality, type SourceQuality, type SourceQualityQuery, sourceQuality } from './gate.ts';
export {
  createQualityModule,
  QUALITY_CONDITIONS,
  QUALITY_DETECTOR,
  QUALITY_SOURCE,
  QUALITY_TIMER_KEY,
  QUALITY_TIMER_PREFIX,
} from './module.ts';
export { type Observation, type QualityFlag, QualityMonitor, type QualityScore, type QualityTransition } from './monitor.ts';
export { isObservedEvent, OBSERVED_TYPES, observationsOf, QUALITY_DEGRADED, QUALITY_RECOVERED, qualitySourceOf } from './observe.ts';
export { DEFAULT_REJECT_SETTLE_MS, parseQualitySettings, type QualitySettings } from './settings.ts';
export type { SignalSnapshot, SourceSnapshot } from './snapshot.ts';
