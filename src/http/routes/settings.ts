/**
 * Settings over HTTP, for the dashboard's Settings page: API keys (list, create — the secret is
 * answered once — and revoke; admin only), the contact policy and holdout defaults as configured
 * (read-only: they live in the config file), and the stores Pitwall has seen (read).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type CapRule, DEFAULT_POLICY_SETTINGS } from '../../automate/index.ts';
import { AppError } from '../../core/index.ts';
import { type ApiKey, createKey, keyById, listKeys, revokeKey, type Scope } from '../../govern/index.ts';
import { dayRange, funnelReport } from '../../learn/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A key as listed: never its hash or secret. `current`: the key the caller is using. */
function keyWire(k: ApiKey, callerId?: string) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_at: new Date(k.createdAt).toISOString(),
    revoked_at: iso(k.revokedAt),
    origins: k.origins ?? null,
    store: k.store ?? null,
    current: k.id === callerId,
  };
}

const CreateKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Array(Type.Union([Type.Literal('ingest'), Type.Literal('read'), Type.Literal('admin'), Type.Literal('publishable')]), {
      minItems: 1,
      maxItems: 4,
    }),
    origins: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20 })),
    // The identity secret's store names (src/storefront/identity.ts): `pitwall storefront identity-secret --store` takes the same.
    store: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$' })),
  },
  { additionalProperties: false },
);

/** `https://shop.example` (no path, query or trailing slash): what browsers send as Origin. */
function checkOrigin(o: string, i: number): string {
  let u: URL | undefined;
  try {
    u = new URL(o);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== o)
    throw new AppError('PW_REQUEST_INVALID', `origins[${i}] must be an origin like https://shop.example (no path or trailing slash)`, {
      pointer: `/origins/${i}`,
    });
  return o;
}

const capsWire = (caps: Partial<Record<string, CapRule[]>>) =>
  Object.fromEntries(Object.entries(caps).map(([scope, rules]) => [scope, (rules ?? []).map((r) => r.text)]));

const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** The workflow holdout's bounds, as src/automate/definitions/parse.ts checks them. */
const HOLDOUT = { default_percent: 0, max_percent: 50 };
const STORE_WINDOW_DAYS = 90;

export function settingsRoutes(app: FastifyInstance, d: HttpDeps): void {
  // Scope before body validation: a read-only key is told 403, whatever it sent.
  const admin = { preValidation: async (req: FastifyRequest) => void (await requireScope(d.keys, req, 'admin')) };

  app.get('/v1/keys', admin, async (req) => {
    const keys = await listKeys(d.store.db);
    // Newest first (listKeys answers oldest first).
    return { keys: keys.reverse().map((k) => keyWire(k, req.apiKey?.id)) };
  });

  app.post('/v1/keys', { ...admin, schema: { body: CreateKeyBody } }, async (req, reply) => {
    const b = req.body as { name: string; scopes: Scope[]; origins?: string[]; store?: string };
    const scopes = [...new Set(b.scopes)];
    const publishable = scopes.includes('publishable');
    if (!publishable && (b.origins !== undefined || b.store !== undefined))
      throw new AppError('PW_KEY_SCOPE_INVALID', 'origins and store are for publishable keys only', {
        pointer: b.origins !== undefined ? '/origins' : '/store',
      });
    const origins = b.origins?.map(checkOrigin);
    const { key, info } = await createKey(d.store.db, d.clock, {
      name: b.name.trim() || b.name,
      scopes,
      ...(origins ? { origins } : {}),
      ...(b.store !== undefined ? { store: b.store } : {}),
    });
    return reply.code(201).send({ ...keyWire(info, req.apiKey?.id), key });
  });

  app.post('/v1/keys/:id/revoke', admin, async (req) => {
    const { id } = req.params as { id: string };
    const existing = await keyById(d.store.db, id);
    if (!existing) throw new AppError('PW_KEY_NOT_FOUND', `no key with id "${id}"`, { status: 404 });
    if (existing.id === req.apiKey?.id)
      throw new AppError('PW_KEY_REVOKE_SELF', 'a key cannot revoke itself: sign in with another admin key, or use `pitwall keys revoke`', {
        status: 409,
      });
    const revoked = existing.revokedAt === null ? await revokeKey(d.store.db, d.clock, existing.id) : existing;
    return keyWire(revoked, req.apiKey?.id);
  });

  app.get('/v1/settings', async (req) => {
    await requireScope(d.keys, req, 'read');
    const p = d.policySettings ?? DEFAULT_POLICY_SETTINGS;
    return {
      contact_policy: {
        timezone: p.defaultTimezone,
        quiet_hours: p.quietHours
          ? { start: hhmm(p.quietHours.startMinute), end: hhmm(p.quietHours.endMinute), channels: p.quietHours.channels }
          : null,
        caps: capsWire(p.caps),
        consent_defaults: p.consentDefaults,
        exempt_purposes: p.exemptPurposes,
        editable: false,
        change_in: 'the config file (pitwall.config.yaml), section automation.policy; restart to apply',
      },
      holdouts: {
        ...HOLDOUT,
        editable: false,
        change_in: "each workflow's YAML (holdout: 10%); the Workflows page shows every workflow's holdout",
      },
    };
  });

  app.get('/v1/stores', async (req) => {
    await requireScope(d.keys, req, 'read');
    const range = dayRange({}, d.clock.now(), STORE_WINDOW_DAYS);
    const funnel = await funnelReport(d.store.db, range, 'store');
    const keys = (await listKeys(d.store.db)).filter((k) => k.store !== undefined && k.revokedAt === null);
    const names = new Set([...funnel.rows.map((r) => r.key), ...keys.map((k) => k.store as string)]);
    const stores = [...names].sort().map((store) => {
      const row = funnel.rows.find((r) => r.key === store);
      const pks = keys.filter((k) => k.store === store);
      return {
        store,
        views: row?.views ?? 0,
        orders: row?.orders ?? 0,
        revenue: row?.revenue ?? 0,
        publishable_keys: pks.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, origins: k.origins ?? [] })),
      };
    });
    return { from: range.from, to: range.to, stores };
  });
}
