/**
 * The state an expression can read, loaded lazily: only the variables a workflow's expressions
 * name are loaded, once per run step, inside the run's transaction (so what a condition saw is
 * what the step acted on). What each variable is about comes from the event:
 *
 * | variable | loaded by | key |
 * |---|---|---|
 * | customer | getCustomer | the run's customer |
 * | cart | getCart | data(.properties).cart_id, else the order's cart, else the customer's open cart |
 * | shipment | getShipment | data.shipment_id, else the subject of a `shipment.*` event |
 * | product | getProduct (catalogue) | data.sku, data.part, or properties.sku |
 * | stock | availability | the same SKU, summed over its warehouses |
 * | vehicle | getVehicle | data.vin, else the customer's first vehicle |
 * | device | getDeviceState | the `deviceid` attribute, else data.device_id |
 * | quality | sourceQuality | the event's quality source (device id, else source) |
 *
 * Values are the state functions' own (camelCase) objects; the CEL layer (src/automate/conditions)
 * converts them to the declared types. A variable with nothing to load is `null` (absent), and
 * its name is reported as missing so a trace can say "no cart for this event".
 */
import type { Kysely } from 'kysely';
import { getProduct } from '../../catalog/index.ts';
import type { Db } from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { qualitySourceOf, sourceQuality } from '../../quality/index.ts';
import { availability, getCart, getCustomer, getDeviceState, getShipment, getVehicle, resolveCartId } from '../../state/index.ts';
import type { Database } from '../../store/index.ts';

export const STATE_VARIABLES = ['customer', 'cart', 'shipment', 'product', 'stock', 'vehicle', 'device', 'quality'] as const;
export type StateVariable = (typeof STATE_VARIABLES)[number];

const STRING_LITERAL = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g;
const IDENT = /(?<![\w.])([A-Za-z_]\w*)\b/g;

/** The state variables an expression names (a superset is harmless: it only loads more). */
export function stateVariablesOf(expr: string): StateVariable[] {
  const found = new Set<StateVariable>();
  for (const m of expr.replace(STRING_LITERAL, '""').matchAll(IDENT))
    if ((STATE_VARIABLES as readonly string[]).includes(m[1] as string)) found.add(m[1] as StateVariable);
  return [...found];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function fieldsOf(e: CloudEvent): Obj {
  const d = isObj(e.data) ? e.data : {};
  return isObj(d.properties) ? { ...d.properties, ...d } : d;
}

export class StateView {
  private readonly cache = new Map<StateVariable, Promise<unknown>>();
  readonly missing = new Set<StateVariable>();
  /** Latest first: a variable the latest event does not name is looked up from the earlier ones (a correlation's other event). */
  private readonly events: readonly (CloudEvent | undefined)[];

  constructor(
    private readonly db: Db,
    event: CloudEvent | readonly CloudEvent[] | undefined,
    private readonly customerId: string | undefined,
  ) {
    const list = event === undefined ? [] : Array.isArray(event) ? [...(event as readonly CloudEvent[])].reverse() : [event as CloudEvent];
    this.events = list.length > 0 ? list : [undefined];
  }

  /** The activation for `vars`, merged into `base` (which holds `event` and `run`). */
  async activation(vars: Iterable<StateVariable>, base: Obj): Promise<Obj> {
    const out: Obj = { ...base };
    for (const v of vars) out[v] = await this.get(v);
    return out;
  }

  get(v: StateVariable): Promise<unknown> {
    let p = this.cache.get(v);
    if (!p) {
      p = this.load(v).then((x) => {
        if (x === undefined) this.missing.add(v);
        return x ?? null;
      });
      this.cache.set(v, p);
    }
    return p;
  }

  private async load(v: StateVariable): Promise<unknown> {
    for (const e of this.events) {
      const found = await this.loadFor(v, e);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private async loadFor(v: StateVariable, e: CloudEvent | undefined): Promise<unknown> {
    const f = e ? fieldsOf(e) : {};
    const db = this.db;
    const sku = text(f.sku) ?? text(f.part);
    switch (v) {
      case 'customer':
        return this.customerId === undefined ? undefined : getCustomer(db, this.customerId);
      case 'cart': {
        const id = text(f.cart_id) ?? (e ? await resolveCartId(db, e) : undefined);
        return id === undefined ? undefined : getCart(db as Kysely<Database>, id);
      }
      case 'shipment': {
        const id = text(f.shipment_id) ?? (e?.type.startsWith('shipment.') ? text(e.subject) : undefined);
        return id === undefined ? undefined : getShipment(db, id);
      }
      case 'product':
        return sku === undefined ? undefined : getProduct(db as Kysely<Database>, sku);
      case 'stock': {
        if (sku === undefined) return undefined;
        const a = (await availability(db, [sku])).get(sku);
        return a && a.warehouses.length > 0 ? a : undefined;
      }
      case 'vehicle': {
        const vin = text(f.vin);
        if (vin !== undefined) return getVehicle(db, vin);
        const first = this.customerId === undefined ? undefined : (await getCustomer(db, this.customerId))?.vehicles[0]?.vin;
        return first === undefined ? undefined : getVehicle(db, first);
      }
      case 'device': {
        const id = text(e?.deviceid) ?? text(f.device_id);
        return id === undefined ? undefined : getDeviceState(db, id);
      }
      case 'quality':
        return e === undefined ? undefined : sourceQuality(db as Kysely<Database>, qualitySourceOf(e));
    }
  }
}
