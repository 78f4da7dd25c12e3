/**
 * Learn: what Pitwall's loop achieved, computed from its own log — funnel and conversion, uplift
 * of workflows against their holdouts (with intervals), manual work saved, customer experience,
 * the impact ledger and the maturity scorecard (docs/learn.md).
 *
 * Words:
 * - **rollup**: a table the consumer group `learn` folds the log into (daily funnel counts, orders,
 *   survey answers); reports read rollups, never the raw log.
 * - **unit**: the canonical customer (identity graph) a workflow's run was for.
 * - **treated / holdout**: customers whose first run of the workflow in the range acted (or was
 *   meant to) / was held out ("would have acted").
 * - **window**: how long after the run's start an order counts as its outcome (default 7 days).
 */
export { LEARN_GROUP, type LearnConsumerOptions, startLearnConsumer } from './consumer.ts';
export { type ExperienceReport, experienceReport, type Scores } from './experience.ts';
export { foldLearn, progress as learnProgress } from './fold.ts';
export { FUNNEL_DIMENSIONS, type FunnelDimension, type FunnelFilter, type FunnelReport, funnelReport } from './funnel.ts';
export { type ImpactReport, impactReport, type LedgerLine } from './impact.ts';
export { type MaturityReport, maturityReport } from './maturity.ts';
export { overviewReport } from './overview.ts';
export { type DayRange, dayRange, oneOf, optionalText, positiveNumber, queryInvalid } from './range.ts';
export { type LearnRebuild, rebuildLearn } from './rebuild.ts';
export { bootstrapMeanDifference, type Difference, type Interval, newcombe, wilson } from './stats.ts';
export { UPLIFT_DEFAULTS, type UpliftOptions, type UpliftReport, upliftReport, type WorkflowUplift } from './uplift.ts';
export { toWire } from './wire.ts';
export { type MinutesDefaults, minutesDefaultsOf, type WorkSavedReport, workSavedReport } from './work.ts';
