/**
 * Quality: per-source data-quality monitors, a 0–100 score, degraded/recovered transitions and
 * the `isTrusted` gate workflows check before acting on a source's data. Pure; no I/O.
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
export { isSourceTrusted, type SourceQuality, sourceQuality } from './gate.ts';
export { createQualityModule } from './module.ts';
export { type Observation, type QualityFlag, QualityMonitor, type QualityScore, type QualityTransition } from './monitor.ts';
