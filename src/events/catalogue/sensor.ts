import { Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';

/**
 * RFC 8428 §4.5.1: a SenML name starts with a letter or digit and contains only letters,
 * digits and `- : . / _`.
 */
export const SENML_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9\\-:./_]*$';

/**
 * RFC 8428 §4.5.3: times below 2**28 are relative to "now"; a resolved record only carries
 * absolute times, so anything smaller was not resolved.
 */
export const SENML_MIN_ABSOLUTE_TIME = 2 ** 28;

export const SENSOR_TYPES: EventTypeDefinition[] = [
  {
    type: 'sensor.reading',
    version: 1,
    description: 'One resolved SenML record: a single measurement with its full name and absolute time.',
    standard: 'RFC 8428 (SenML), resolved record',
    data: Type.Object(
      {
        n: Type.String({ minLength: 1, pattern: SENML_NAME_PATTERN, description: 'Resolved name (bn + n)' }),
        u: Type.Optional(Type.String({ description: 'SenML unit, e.g. Cel, V, %RH' })),
        v: Type.Optional(Type.Number()),
        vs: Type.Optional(Type.String()),
        vb: Type.Optional(Type.Boolean()),
        vd: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]*$', description: 'base64url, no padding' })),
        s: Type.Optional(Type.Number()),
        t: Type.Number({ minimum: SENML_MIN_ABSOLUTE_TIME, description: 'Absolute time, seconds since the Unix epoch' }),
        ut: Type.Optional(Type.Number({ minimum: 0 })),
      },
      {
        anyOf: [{ required: ['v'] }, { required: ['vs'] }, { required: ['vb'] }, { required: ['vd'] }, { required: ['s'] }],
      },
    ),
    example: {
      n: 'urn:dev:mac:0024befffe804ff1:coldroom_temp',
      u: 'Cel',
      v: 4.2,
      t: 1767258000,
    },
  },
];
