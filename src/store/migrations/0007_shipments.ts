/** Migration 0007_shipments: shipments, transit times, carrier-lane reliability (src/state/shipments). */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

export function m0007_shipments(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>) {
      // Tables come with the module.
    },
  };
}
