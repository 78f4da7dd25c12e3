/**
 * Who a run is for. The workflow's `customer` expression when it has one; else the event's
 * `userid` / `anonymousid`; else, for events about a thing rather than a person (derived events
 * carry no user id), the owner of that thing: the cart's customer (`cart_id`), the shipment's
 * order (`shipment_id` → `order:<id>`), the device's (`device_id` / `deviceid`) or vehicle's
 * (`vin`) registered owner. The identifier is then resolved to the canonical customer id.
 */
import type { Kysely } from 'kysely';
import type { Db } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { customerOfDevice, customerOfVin, getCart, getShipment, parseIdentifier, resolveCustomerId } from '../../state/index.ts';
import type { Database } from '../../store/index.ts';

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The identifier of the customer an event is about (not yet resolved), or undefined. */
export async function customerIdentifierOf(db: Db, e: CloudEvent | undefined): Promise<string | undefined> {
  if (!e) return undefined;
  const own = text(e.userid) ?? text(e.anonymousid);
  if (own !== undefined) return own;
  const d = e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data) ? (e.data as Record<string, unknown>) : {};
  const cartId = text(d.cart_id);
  if (cartId !== undefined) {
    const owner = (await getCart(db as Kysely<Database>, cartId))?.customer;
    if (owner !== undefined) return owner;
  }
  const shipmentId = text(d.shipment_id);
  if (shipmentId !== undefined) {
    const order = (await getShipment(db, shipmentId))?.orderId;
    if (order !== undefined) return `order:${order}`;
  }
  const device = text(e.deviceid) ?? text(d.device_id);
  if (device !== undefined) {
    const owner = await customerOfDevice(db, device);
    if (owner !== undefined) return owner;
  }
  const vin = text(d.vin);
  return vin === undefined ? undefined : ((await customerOfVin(db, vin)) ?? undefined);
}

/** The canonical customer an identifier names; a bare id not (yet) in the identity graph stands for itself. */
export async function canonicalCustomer(db: Db, identifier: string | undefined): Promise<string | undefined> {
  if (identifier === undefined) return undefined;
  const resolved = await resolveCustomerId(db, identifier);
  if (resolved !== undefined) return resolved;
  return parseIdentifier(identifier)?.kind === 'id' ? identifier : undefined;
}
