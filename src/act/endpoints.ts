/** Webhook endpoints that answered 410 Gone: nothing is sent to them again until re-enabled. */
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.ts';

export interface DisabledEndpoint {
  url: string;
  disabledAtMs: number;
  reason: string;
}

export async function isEndpointDisabled(db: Kysely<Database>, url: string): Promise<DisabledEndpoint | undefined> {
  const r = await db.selectFrom('webhook_endpoints').selectAll().where('url', '=', url).executeTakeFirst();
  return r === undefined ? undefined : { url: r.url, disabledAtMs: Number(r.disabled_ms), reason: r.reason };
}

export async function disableEndpoint(db: Kysely<Database>, url: string, atMs: number, reason: string): Promise<void> {
  await db
    .insertInto('webhook_endpoints')
    .values({ url, disabled_ms: atMs, reason })
    .onConflict((oc) => oc.column('url').doNothing())
    .execute();
}

/** Sends go to it again; false when it was not disabled. Dead-lettered actions still need a replay. */
export async function enableEndpoint(db: Kysely<Database>, url: string): Promise<boolean> {
  const r = await db.deleteFrom('webhook_endpoints').where('url', '=', url).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function listDisabledEndpoints(db: Kysely<Database>): Promise<DisabledEndpoint[]> {
  const rows = await db.selectFrom('webhook_endpoints').selectAll().orderBy('disabled_ms', 'desc').execute();
  return rows.map((r) => ({ url: r.url, disabledAtMs: Number(r.disabled_ms), reason: r.reason }));
}
