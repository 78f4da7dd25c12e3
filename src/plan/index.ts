/**
 * Plan: Monte Carlo cash flow and margin driven by IoT risk (issue 8). The front door of the
 * domain; see types.ts for its words and docs/plan.md for the model.
 */

export { BAND_BLOCK, type BandParts, kthOfSorted, mergeBands, shareBounds, sortShare } from './bands.ts';
export { type Comparison, compareScenarios, type Difference, standardWhatIfs, type TornadoBar, tornado } from './compare.ts';
export { type CompiledModel, compile } from './compile.ts';
export { defaultScenario } from './defaults.ts';
export {
  type DemandEstimate,
  type Estimated,
  estimateDemand,
  estimateHazard,
  estimateLanes,
  estimateMean,
  estimatePromisePenalty,
  estimateRate,
  type FunnelCell,
  type LaneEstimate,
  type LaneObservation,
  t975,
} from './estimate.ts';
export {
  type CategoryDemandEstimate,
  type CategoryHistory,
  categoryHistory,
  categoryIdFor,
  type DamageEstimate,
  estimateCategoryDemand,
  estimateDamageRates,
  estimateReturnRates,
  type ReturnEstimate,
  withEstimatedCategories,
  withEstimatedDamage,
  withEstimatedReturns,
} from './estimate-categories.ts';
export {
  estimatePromiseFunnel,
  type PromiseEstimate,
  type PromiseFunnelOptions,
  promiseFunnelCells,
  withEstimatedPromisePenalty,
} from './estimate-funnel.ts';
export { laneObservations, type OrderHistory, orderHistory, withEstimatedDemand, withEstimatedLanes } from './estimate-store.ts';
export {
  estimateWarehouseHazards,
  type WarehouseEstimate,
  warehouseOf,
  withEstimatedWarehouses,
} from './estimate-warehouses.ts';
export { allocateOutputs, type PathOutputs, runPaths } from './kernel.ts';
export {
  RECOMMENDATION_APPLIED,
  type Recommendation,
  type RecommendationSet,
  recommend,
  recommendationAppliedEvent,
} from './recommend.ts';
export { countQuantile, hashSeed, invNorm } from './rng.ts';
export { parseScenario, parseScenarioText, validateScenario } from './scenario.ts';
export {
  type ParameterRow,
  parameterTable,
  type RunOptions,
  runScenario,
  type SimulationResult,
  simulate,
  simulateWithOutputs,
} from './simulate.ts';
export { type Band, type Estimate, meanSd, quantilesInPlace, type RiskSummary, summarise } from './summary.ts';
export { LIMITS, type Param, type Scenario, type Shock } from './types.ts';
export { workerFile } from './workers.ts';
