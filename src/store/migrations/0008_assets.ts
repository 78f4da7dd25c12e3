/** Migration 0008_assets: stock and vehicles / connected parts (src/state/assets). */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

export function m0008_assets(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>) {
      // Tables come with the module.
    },
  };
}
