/** The workflow shapes the runner reads: Part B's definitions (act-design.md). */
export type { Step, Trigger, WorkflowDefinition } from '../definitions/types.ts';
