/**
 * Holdouts: each workflow may keep a share of customers out of its actions, so the Learn
 * stage can measure uplift against them.
 *
 * Terminology:
 * - **holdout percent**: the workflow's share kept out (0–50 in a definition).
 * - **bucket**: 0–9999 from SHA-256(`workflowId:customerId`) of the canonical customer id.
 * - **assignment**: a customer's group, `holdout` (bucket < percent × 100) or `treatment`,
 *   stored at their first trigger (table `holdout_assignments`) and never recomputed. A run
 *   for a holdout customer is recorded as "would have acted" and does nothing.
 * - **inherited assignment**: after an anonymous shopper identifies, their canonical id has
 *   no row of its own; it takes the earliest row of any of their ids, so the group never flips.
 */
export { assignHoldout, getHoldoutAssignment, groupOf, type HoldoutAssignment, type HoldoutGroup, holdoutBucket } from './assign.ts';
