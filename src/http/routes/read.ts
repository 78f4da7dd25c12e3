/** Inspection: the log, the quarantine, the type catalogue. */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/index.ts';
import { createDevice } from '../../govern/index.ts';
import { listQuarantine } from '../../ingest/index.ts';
import { getCart } from '../../state/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

function intParam(v: unknown, name: string, def: number, max: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new AppError('PW_QUERY_INVALID', `${name} must be an integer from 1 to ${max}`, { pointer: `/${name}` });
  return n;
}

function timeParam(v: unknown, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = Date.parse(String(v));
  if (Number.isNaN(ms)) throw new AppError('PW_QUERY_INVALID', `${name} must be an ISO 8601 timestamp`, { pointer: `/${name}` });
  return ms;
}

/** Opaque cursors: base64url of "<order>:<seq>". */
export function encodeCursor(order: 'asc' | 'desc', seq: number): string {
  return Buffer.from(`${order}:${seq}`).toString('base64url');
}
function decodeCursor(c: string): { order: 'asc' | 'desc'; seq: number } {
  const m = /^(asc|desc):(\d+)$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
  return { order: m[1] as 'asc' | 'desc', seq: Number(m[2]) };
}

export function readRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/events', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = intParam(q.limit, 'limit', 100, 1000);
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (q.order !== undefined && q.order !== 'asc' && q.order !== 'desc')
      throw new AppError('PW_QUERY_INVALID', 'order must be asc or desc', { pointer: '/order' });
    const order = cursor?.order ?? (q.order as 'asc' | 'desc' | undefined) ?? 'asc';
    const events = await d.log.query({
      type: q.type,
      subject: q.subject,
      source: q.source,
      timeFrom: timeParam(q.since, 'since'),
      timeTo: timeParam(q.until, 'until'),
      afterSeq: cursor?.seq,
      order,
      limit,
    });
    const last = events[events.length - 1];
    return {
      events: events.map((e) => ({ seq: e.seq, received_at: new Date(e.receivedAt).toISOString(), history: e.history, event: e.event })),
      next_cursor: events.length === limit && last ? encodeCursor(order, last.seq) : null,
    };
  });

  app.get('/v1/carts/:id', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const cart = await getCart(d.store, id);
    if (!cart) throw new AppError('PW_CART_NOT_FOUND', `no cart "${id}" (carts appear once their first event is folded)`, { status: 404 });
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      cart_id: cart.cartId,
      customer: cart.customer ?? null,
      status: cart.status,
      lines: cart.lines,
      value: cart.value,
      currency: cart.currency ?? null,
      checkout_step: cart.checkoutStep ?? null,
      last_activity_at: iso(cart.lastActivityMs),
      order_id: cart.orderId ?? null,
      abandoned_at: iso(cart.abandonedAtMs),
      position: cart.updatedSeq,
    };
  });

  app.get('/v1/quarantine', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = intParam(q.limit, 'limit', 100, 1000);
    if (q.status !== undefined && q.status !== 'pending' && q.status !== 'replayed')
      throw new AppError('PW_QUERY_INVALID', 'status must be pending or replayed', { pointer: '/status' });
    const items = await listQuarantine(d.store.db, {
      status: q.status as 'pending' | 'replayed' | undefined,
      code: q.code,
      after: q.cursor,
      limit,
    });
    const last = items[items.length - 1];
    return {
      items: items.map((i) => ({ ...i, received_at: new Date(i.receivedAt).toISOString() })),
      next_cursor: items.length === limit && last ? last.id : null,
    };
  });

  app.post('/v1/quarantine/:id/replay', async (req) => {
    await requireScope(d.keys, req, 'admin');
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as { payload?: unknown };
    return d.ingestor.replay(id, body.payload);
  });

  app.get('/v1/event-types', async (req) => {
    await requireScope(d.keys, req, 'read');
    return { types: d.registry.list() };
  });

  app.post('/v1/event-types', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const b = (req.body ?? {}) as { type?: unknown; description?: unknown; schema?: unknown };
    if (typeof b.type !== 'string') throw new AppError('PW_REQUEST_INVALID', 'type is required', { pointer: '/type' });
    const def = await d.registry.register(d.store.db, d.clock, {
      type: b.type,
      description: typeof b.description === 'string' ? b.description : '',
      schema: b.schema,
    });
    return reply.code(201).send({ type: def.type, version: def.version, description: def.description, schema: def.data });
  });

  app.post('/v1/devices', async (req, reply) => {
    await requireScope(d.keys, req, 'admin');
    const b = (req.body ?? {}) as { id?: unknown };
    if (typeof b.id !== 'string') throw new AppError('PW_REQUEST_INVALID', 'id is required', { pointer: '/id' });
    const created = await createDevice(d.store.db, d.clock, b.id);
    return reply.code(201).send({ id: created.id, mqtt_username: created.id, mqtt_password: created.password });
  });
}
