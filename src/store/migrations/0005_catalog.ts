/** Migration 0005_catalog: the catalogue and reference data (src/catalog): SKUs, fitment, warehouses, carriers, lanes. */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

export function m0005_catalog(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>) {
      // Tables come with the module.
    },
  };
}
