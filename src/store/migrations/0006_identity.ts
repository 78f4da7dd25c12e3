/** Migration 0006_identity: customers and the identity graph (src/state/identity). */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

export function m0006_identity(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>) {
      // Tables come with the module.
    },
  };
}
