import { Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';

/** Events the Act stage appends itself (src/act); reserved like the detectors' (cannot be sent in). */
export const ACT_TYPES: EventTypeDefinition[] = [
  {
    type: 'reminder.due',
    version: 1,
    description: 'A reminder scheduled by a workflow (reminder.schedule) is due; workflows trigger on it to deliver it.',
    derived: true,
    data: Type.Object({
      kind: Type.String({ minLength: 1, description: 'what the reminder is about, e.g. battery_service, warranty_expiry' }),
      message: Type.Optional(Type.String()),
      due_at: Type.String({ format: 'date-time' }),
      scheduled_at: Type.String({ format: 'date-time' }),
      run_id: Type.String({ minLength: 1 }),
      workflow_id: Type.String({ minLength: 1 }),
      data: Type.Optional(Type.Object({})),
      caused_by: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'ids of the events that caused this one' })),
    }),
    example: {
      kind: 'battery_service',
      message: 'Your AGM battery is a year older: time for a health check.',
      due_at: '2027-03-01T09:00:00.000Z',
      scheduled_at: '2026-03-01T09:00:00.000Z',
      run_id: '0f8e3a1c5b7d4e2f9a6c8b1d3e5f7a9c',
      workflow_id: 'battery-health',
      data: { vin: 'WVWZZZAUZHW123456', sku: 'BAT-AGM-70AH' },
    },
  },
];
