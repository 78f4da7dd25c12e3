/**
 * Customers: the canonical profile for any identifier, and the customer list.
 * `:id` is a user or anonymous id, or `email:<address>`, `email_sha256:<hex>`, `vin:<VIN>`,
 * `device:<id>`, `serial:<serial>`, `order:<id>`, `id:<id>` (see src/state/identity).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/index.ts';
import { type Customer, type CustomerSummary, getCustomer, listCustomers, parseIdentifier } from '../../state/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function summaryWire(c: CustomerSummary) {
  return {
    customer_id: c.customerId,
    user_ids: c.userIds,
    anonymous_ids: c.anonymousIds,
    first_seen: iso(c.firstSeen),
    last_seen: iso(c.lastSeen),
  };
}

function wire(c: Customer) {
  return {
    customer_id: c.customerId,
    user_ids: c.userIds,
    anonymous_ids: c.anonymousIds,
    email_hashes: c.emailHashes,
    traits: c.traits,
    vehicles: c.vehicles.map((v) => ({
      vin: v.vin,
      devices: v.devices,
      parts: v.parts.map((p) => ({ sku: orNull(p.sku), serial: p.serial })),
      first_linked_at: iso(v.firstLinkedAt),
      last_linked_at: iso(v.lastLinkedAt),
    })),
    devices: c.devices.map((x) => ({
      device_id: x.deviceId,
      kind: orNull(x.kind),
      vin: orNull(x.vin),
      part_sku: orNull(x.partSku),
      part_serial: orNull(x.partSerial),
      firmware: orNull(x.firmware),
      registered_at: iso(x.registeredAt),
    })),
    parts: c.parts.map((p) => ({
      sku: orNull(p.sku),
      serial: p.serial,
      vin: orNull(p.vin),
      device_id: orNull(p.deviceId),
      linked_at: iso(p.linkedAt),
    })),
    orders: c.orders.map((o) => ({ order_id: o.orderId, at: iso(o.at), total: orNull(o.total), currency: orNull(o.currency) })),
    consent: Object.fromEntries(Object.entries(c.consent).map(([purpose, s]) => [purpose, { granted: s.granted, at: iso(s.at) }])),
    first_seen: iso(c.firstSeen),
    last_seen: iso(c.lastSeen),
  };
}

/** Opaque cursor: base64url of the last customer id of the page. */
const encodeCursor = (customerId: string) => Buffer.from(customerId).toString('base64url');

export function customersRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/customers/:id', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { id } = req.params as { id: string };
    const parsed = parseIdentifier(id);
    if (parsed === undefined)
      throw new AppError(
        'PW_CUSTOMER_IDENTIFIER_INVALID',
        'the identifier is empty or malformed (a VIN has 17 characters without I, O, Q; email_sha256 takes 64 hex digits)',
        { pointer: '/id' },
      );
    const customer = await getCustomer(d.store.db, id);
    // The identifier is not echoed: it may be an email address.
    if (!customer)
      throw new AppError('PW_CUSTOMER_NOT_FOUND', `no customer has that ${parsed.kind === 'id' ? 'user or anonymous id' : parsed.kind}`, {
        status: 404,
      });
    return wire(customer);
  });

  app.get('/v1/customers', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
    const after = q.cursor ? Buffer.from(q.cursor, 'base64url').toString('utf8') : undefined;
    if (after === '') throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
    const customers = await listCustomers(d.store.db, { after, limit });
    const last = customers[customers.length - 1];
    return {
      customers: customers.map(summaryWire),
      next_cursor: customers.length === limit && last ? encodeCursor(last.customerId) : null,
    };
  });
}
