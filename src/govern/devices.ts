/** Device credentials for the embedded MQTT broker: username = device id, password shown once. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import { hashSecret } from './keys.ts';

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export async function createDevice(db: Kysely<Database>, clock: Clock, id: string): Promise<{ id: string; password: string }> {
  if (!DEVICE_ID_PATTERN.test(id)) {
    throw new AppError(
      'PW_DEVICE_ID_INVALID',
      `device id "${id}" must be 1-128 letters, digits, ".", "_", ":" or "-" (and no MQTT wildcards)`,
    );
  }
  const password = randomBytes(24).toString('base64url');
  const existing = await db.selectFrom('devices').select('id').where('id', '=', id).executeTakeFirst();
  if (existing) {
    await db
      .updateTable('devices')
      .set({ secret_hash: hashSecret(password), revoked_ms: null })
      .where('id', '=', id)
      .execute();
  } else {
    await db
      .insertInto('devices')
      .values({ id, secret_hash: hashSecret(password), created_ms: clock.now(), revoked_ms: null })
      .execute();
  }
  return { id, password };
}

export async function revokeDevice(db: Kysely<Database>, clock: Clock, id: string): Promise<boolean> {
  const r = await db
    .updateTable('devices')
    .set({ revoked_ms: clock.now() })
    .where('id', '=', id)
    .where('revoked_ms', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function listDevices(db: Kysely<Database>): Promise<{ id: string; createdAt: number; revokedAt: number | null }[]> {
  const rows = await db.selectFrom('devices').select(['id', 'created_ms', 'revoked_ms']).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, createdAt: Number(r.created_ms), revokedAt: r.revoked_ms === null ? null : Number(r.revoked_ms) }));
}

export async function checkDevicePassword(db: Kysely<Database>, id: string, password: string): Promise<boolean> {
  const r = await db.selectFrom('devices').select(['secret_hash', 'revoked_ms']).where('id', '=', id).executeTakeFirst();
  if (!r || r.revoked_ms !== null) return false;
  const a = Buffer.from(r.secret_hash, 'hex');
  const b = Buffer.from(hashSecret(password), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
