/** Migration 0011_devices: device state and sensor rules (src/state/devices). */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

export function m0011_devices(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>) {
      // Tables come with the module.
    },
  };
}
