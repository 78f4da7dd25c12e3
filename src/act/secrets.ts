/**
 * Named secrets (webhook signing keys, …) in the store, referenced by name from workflow YAML
 * and never written in it. Several versions of one name coexist during a rotation: `get`
 * returns the current value first, then up to two older ones, and a webhook is signed with
 * each so a receiver holding either verifies it.
 *
 * Values are stored as given, in plain text: the store is the trust boundary (as it is for the
 * event log itself). Encryption at rest with an operator key is left out (docs/act/outbox.md).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError, type Clock } from '../core/index.ts';
import { writeTransaction } from '../detect/index.ts';
import type { Database, Dialect } from '../store/index.ts';
import type { SecretStore } from './types.ts';

/** Older versions kept by `set(…, { keepPrevious: true })`. */
export const KEPT_PREVIOUS = 2;
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const MAX_VALUE = 4096;

export function checkSecretName(name: string): void {
  if (!SECRET_NAME.test(name))
    throw new AppError(
      'PW_SECRET_NAME_INVALID',
      `a secret name is 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      {
        pointer: '/name',
      },
    );
}

/** A fresh Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export class SqlSecretStore implements SecretStore {
  constructor(
    private readonly store: { db: Kysely<Database>; dialect: Dialect },
    private readonly clock: Clock,
  ) {}

  async get(name: string): Promise<string[] | undefined> {
    const rows = await this.store.db.selectFrom('secrets').select('value').where('name', '=', name).orderBy('version', 'desc').execute();
    return rows.length === 0 ? undefined : rows.map((r) => r.value);
  }

  async set(name: string, value: string, opts: { keepPrevious?: boolean } = {}): Promise<void> {
    checkSecretName(name);
    if (typeof value !== 'string' || value === '' || value.length > MAX_VALUE || /[\r\n\0]/.test(value))
      throw new AppError('PW_SECRET_VALUE_INVALID', `a secret value is 1–${MAX_VALUE} characters on one line`, { pointer: '/value' });
    const now = this.clock.now();
    await writeTransaction(this.store, async (tx) => {
      const top = await tx
        .selectFrom('secrets')
        .select((eb) => eb.fn.max('version').as('v'))
        .where('name', '=', name)
        .executeTakeFirst();
      const version = Number(top?.v ?? 0) + 1;
      await tx.insertInto('secrets').values({ name, version, value, created_ms: now }).execute();
      const keepFrom = opts.keepPrevious ? version - KEPT_PREVIOUS : version;
      await tx.deleteFrom('secrets').where('name', '=', name).where('version', '<', keepFrom).execute();
    });
  }

  async list(): Promise<{ name: string; versions: number; createdAtMs: number }[]> {
    const rows = await this.store.db
      .selectFrom('secrets')
      .select(['name', (eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.max('created_ms').as('created')])
      .groupBy('name')
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ name: r.name, versions: Number(r.n), createdAtMs: Number(r.created) }));
  }

  async delete(name: string): Promise<boolean> {
    const r = await this.store.db.deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
