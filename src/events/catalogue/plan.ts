import { Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';

/** Events the Plan stage appends (src/plan); reserved like the detectors' (cannot be sent in). */
const Change = Type.Object({ from: Type.Number({ minimum: 0 }), to: Type.Number({ minimum: 0 }) });

export const PLAN_TYPES: EventTypeDefinition[] = [
  {
    type: 'plan.recommendation_applied',
    version: 1,
    description: 'A risk-plan recommendation (marketing spend / discount for a category) was applied; workflows act on it.',
    derived: true,
    data: Type.Object({
      recommendation_id: Type.String({ minLength: 1 }),
      scenario: Type.String({ minLength: 1 }),
      category: Type.String({ minLength: 1 }),
      marketing_per_day: Change,
      discount: Change,
      expected_effect: Type.Number({ description: 'expected change of contribution over the horizon' }),
      liquidity_at_risk: Type.Number({ minimum: 0, maximum: 1, description: 'P(cash < floor) with the change' }),
      by: Type.String({ minLength: 1, description: 'the API key id (or a name) that applied it' }),
      caused_by: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'ids of the events that caused this one' })),
    }),
    example: {
      recommendation_id: '7c1e9a0b2d4f4e6a8b0c2d4e6f8a0b1c',
      scenario: 'default',
      category: 'tyres',
      marketing_per_day: { from: 340, to: 255 },
      discount: { from: 0.05, to: 0 },
      expected_effect: 6120.5,
      liquidity_at_risk: 0.031,
      by: 'key_01JH8Z',
    },
  },
];
