/**
 * Device state and sensor rules (src/state/devices): `GET /v1/devices`, `GET /v1/devices/:id/state`,
 * `GET /v1/sensor-rules`. Read-only views of the devices module's tables (docs/decide/devices.md).
 *
 * The queries are here rather than calls to `getDeviceState` / `listDevices` / `activeSustained`
 * because src/state/index.ts does not re-export the devices module yet; they read the same tables.
 */
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { AppError } from '../../core/index.ts';
import type { Database } from '../../store/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

type DeviceRow = Selectable<Database['device_state']>;
type SignalRow = Selectable<Database['device_signals']>;
type RuleStateRow = Selectable<Database['sensor_rule_state']>;

const iso = (ms: number | bigint | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());
const num = (v: number | bigint | null): number | null => (v === null ? null : Number(v));

function wireDevice(r: DeviceRow) {
  return {
    device_id: r.device_id,
    kind: r.kind,
    store: r.store,
    firmware: r.firmware,
    registered_at: iso(r.registered_ms),
    first_seen_at: iso(r.first_seen_ms),
    last_seen_at: iso(r.last_seen_ms),
    last_event_id: r.last_event_id,
    last_contact_at: iso(r.last_contact_ms),
    last_received_at: iso(r.last_received_ms),
    message_count: r.message_count,
    battery: {
      percent: num(r.battery_pct),
      percent_at: iso(r.battery_pct_ms),
      voltage: num(r.battery_v),
      voltage_at: iso(r.battery_v_ms),
    },
    silent: Number(r.silent) === 1,
    silent_since: iso(r.silent_since_ms),
    silent_at: iso(r.silent_at_ms),
    position: Number(r.updated_seq),
  };
}

function wireSignal(s: SignalRow) {
  return {
    signal: s.signal,
    unit: s.unit,
    last_value: num(s.last_value),
    last_text: s.last_text,
    last_at: iso(s.last_ms),
    count: s.count,
    min: num(s.min),
    max: num(s.max),
    mean: s.num_count > 0 ? Number(s.sum) / s.num_count : null,
  };
}

function wireSustained(r: RuleStateRow) {
  return {
    device_id: r.device_id === '' ? null : r.device_id,
    n: r.n,
    unit: r.unit,
    store: r.store,
    value: Number(r.last_value),
    value_at: iso(r.last_ms),
    since: iso(r.started_ms),
    sustained_at: iso(r.sustained_ms),
    sustained_event_id: r.sustained_event_id,
  };
}

function limitParam(v: string | undefined): number {
  if (v === undefined || v === '') return 100;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
  return n;
}

function silentParam(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new AppError('PW_QUERY_INVALID', 'silent must be true or false', { pointer: '/silent' });
}

function decodeCursor(c: string): string {
  const id = Buffer.from(c, 'base64url').toString('utf8');
  if (!id.startsWith('d:') || id.length < 3)
    throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
  return id.slice(2);
}
const encodeCursor = (deviceId: string) => Buffer.from(`d:${deviceId}`).toString('base64url');

export function deviceStateRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/devices', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = limitParam(q.limit);
    const silent = silentParam(q.silent);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    let query = d.store.db.selectFrom('device_state').selectAll();
    if (silent !== undefined) query = query.where('silent', '=', silent ? 1 : 0);
    if (q.kind) query = query.where('kind', '=', q.kind);
    if (q.store) query = query.where('store', '=', q.store);
    if (after !== undefined) query = query.where('device_id', '>', after);
    const rows = await query.orderBy('device_id').limit(limit).execute();
    const last = rows[rows.length - 1];
    return { devices: rows.map(wireDevice), next_cursor: rows.length === limit && last ? encodeCursor(last.device_id) : null };
  });

  app.get('/v1/devices/:id/state', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const row = await d.store.db.selectFrom('device_state').selectAll().where('device_id', '=', id).executeTakeFirst();
    if (!row)
      throw new AppError('PW_DEVICE_STATE_NOT_FOUND', `no state for device "${id}" (a device appears once an event naming it is folded)`, {
        status: 404,
      });
    const signals = await d.store.db.selectFrom('device_signals').selectAll().where('device_id', '=', id).orderBy('signal').execute();
    return { ...wireDevice(row), signals: signals.map(wireSignal) };
  });

  app.get('/v1/sensor-rules', async (req) => {
    await requireScope(d.keys, req, 'read');
    const db = d.store.db;
    const rules = await db.selectFrom('sensor_rules').selectAll().orderBy('position').execute();
    const sustained = await db
      .selectFrom('sensor_rule_state')
      .selectAll()
      .where('phase', '=', 'sustained')
      .orderBy('rule')
      .orderBy('device_id')
      .orderBy('n')
      .execute();
    const pending = await db
      .selectFrom('sensor_rule_state')
      .select(['rule', (eb) => eb.fn.countAll<number | string>().as('keys')])
      .where('phase', '=', 'pending')
      .groupBy('rule')
      .execute();
    const pendingBy = new Map(pending.map((p) => [p.rule, Number(p.keys)]));
    return {
      rules: rules.map((r) => ({
        ...(JSON.parse(r.definition) as Record<string, unknown>),
        published_at: iso(r.published_ms),
        pending: pendingBy.get(r.name) ?? 0,
        sustained: sustained.filter((s) => s.rule === r.name).map(wireSustained),
      })),
    };
  });
}
