/** Test helper: every row of the identity tables, in key order, so two graphs compare with `toEqual`. */
import type { Db } from '../../detect/index.ts';

export async function snapshot(db: Db) {
  return {
    ids: await db.selectFrom('identity_ids').selectAll().orderBy('id').execute(),
    links: await db.selectFrom('identity_links').selectAll().orderBy('id').orderBy('kind').orderBy('value').execute(),
    traits: await db.selectFrom('identity_traits').selectAll().orderBy('id').orderBy('name').execute(),
    consent: await db.selectFrom('identity_consent').selectAll().orderBy('id').orderBy('purpose').execute(),
  };
}
