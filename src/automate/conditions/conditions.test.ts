import { describe, expect, it } from 'vitest';
import { SchemaRegistry } from '../../events/index.ts';
import type { Cart } from '../../state/index.ts';
import { compileCondition, compileExpression } from './compile.ts';
import { fromCel } from './convert.ts';
import { ConditionEnvironment } from './environment.ts';
import type { VehicleFacts } from './state-shapes.ts';
import { compileTemplates } from './templates.ts';

const env = new ConditionEnvironment(new SchemaRegistry());
const NOW = Date.parse('2026-01-05T09:00:00Z');

const cart: Cart = {
  cartId: 'cart_1',
  customer: 'cus_1',
  status: 'abandoned',
  lines: { 'BRK-PAD-F-4471': { quantity: 2, price: 64.9 }, 'BAT-AGM-70AH': { quantity: 1, price: 189 } },
  value: 318.8,
  currency: 'EUR',
  checkoutStep: 2,
  lastActivityMs: NOW - 45 * 60_000,
  lastEventId: 'e1',
  updatedSeq: 7,
  orderId: undefined,
  abandonedAtMs: NOW - 10 * 60_000,
};

const abandoned = {
  specversion: '1.0',
  id: 'evt_1',
  source: 'pitwall:detector/carts',
  type: 'cart.abandoned',
  time: '2026-01-05T08:50:00Z',
  data: { cart_id: 'cart_1', idle_minutes: 45, value: 318.8, currency: 'EUR' },
};

const scope = env.scope({ event: 'cart.abandoned', run: true, state: true });

function problem(expr: string, expect: 'bool' | 'string' | 'key' | 'any' = 'bool') {
  const r = scope.compile(expr, expect);
  if (r.ok) throw new Error(`expected a problem for ${expr}`);
  return r.problem;
}

describe('typed CEL environment', () => {
  it('reports a misspelt event field at validation time, with its range and a suggestion', () => {
    const p = problem('event.data.cart_idd == "x"');
    expect(p.message).toContain('has no field "cart_idd"');
    expect(p.message).toContain('did you mean "cart_id"');
    expect('event.data.cart_idd == "x"'.slice(p.start, p.end)).toBe('cart_idd');
  });

  it('reports a misspelt state field and an unknown variable', () => {
    expect(problem('cart.vlaue > 50.0').message).toContain('did you mean "value"');
    const v = problem('carts.value > 50.0');
    expect(v.message).toContain('unknown variable "carts"');
    expect(v.message).toContain('did you mean "cart"');
  });

  it('reports a type mismatch at validation time (cel-js would say "no such overload" only at run time)', () => {
    const p = problem('cart.value > "50"');
    expect(p.message).toContain('no such overload');
    expect(problem('event.data.idle_minutes + 1 > 2.0').message).toContain('no such overload: double + int');
  });

  it('requires the result type of the place the expression sits in', () => {
    expect(problem('cart.value').message).toBe('the expression must be a bool, but it is double');
    expect(problem('cart.value', 'string').message).toContain('must be a string');
    expect(scope.compile('cart.lines.map(sku, sku)', 'key').ok).toBe(true);
  });

  it('reports a syntax error at its position', () => {
    const p = problem('cart.value > 50.0 &&& true');
    expect(p.message).toMatch(/^syntax error/);
    expect('cart.value > 50.0 &&& true'.slice(p.start, p.end)).toBe('&');
  });

  it('limits comprehension nesting', () => {
    expect(scope.compile('cart.lines.all(a, cart.lines.exists(b, a == b))').ok).toBe(true);
    const p = problem('cart.lines.all(a, cart.lines.exists(b, cart.lines.exists(c, a == b && b == c)))');
    expect(p.message).toContain('nested at most 2 deep');
  });

  it('evaluates over state objects converted to the declared types', () => {
    const a = { nowMs: NOW, event: abandoned, cart };
    const ok = (expr: string) => compileCondition(expr, scope).evaluate(a);
    expect(ok('cart.value > 50.0 && cart.status == "abandoned"')).toEqual({ ok: true, value: true });
    expect(ok('cart.value > 500.0')).toEqual({ ok: true, value: false });
    expect(ok('cart.checkout_step >= 2')).toEqual({ ok: true, value: true });
    expect(ok('"BAT-AGM-70AH" in cart.lines && cart.lines["BAT-AGM-70AH"].price > 100.0')).toEqual({ ok: true, value: true });
    expect(ok('now - cart.last_activity_at > duration("30m")')).toEqual({ ok: true, value: true });
    expect(ok('event.data.idle_minutes >= 45.0 && event.time < now')).toEqual({ ok: true, value: true });
  });

  it('turns a run-time error into a non-match with its reason, never a throw', () => {
    const c = compileCondition('cart.order_id == "o1"', scope);
    const r = c.evaluate({ nowMs: NOW, cart });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('order_id');
    expect(compileCondition('has(cart.order_id)', scope).evaluate({ nowMs: NOW, cart })).toEqual({ ok: true, value: false });
  });

  it('gives a state variable with nothing loaded as an empty object', () => {
    const c = compileCondition('has(shipment.shipment_id)', scope);
    expect(c.evaluate({ nowMs: NOW, shipment: null })).toEqual({ ok: true, value: false });
    const r = compileCondition('shipment.delayed', scope).evaluate({ nowMs: NOW });
    expect(r.ok).toBe(false);
  });

  it('stops an evaluation past its operation budget', () => {
    const small = new ConditionEnvironment(new SchemaRegistry(), { operations: 1000 });
    const s = small.scope({ event: 'cart.abandoned', state: true });
    const lines: Cart['lines'] = {};
    for (let i = 0; i < 200; i++) lines[`SKU-${i}`] = { quantity: 1, price: i };
    const c = compileCondition('cart.lines.all(a, cart.lines.all(b, cart.lines[a].price >= 0.0))', s);
    const r = c.evaluate({ nowMs: NOW, cart: { ...cart, lines } });
    expect(r).toEqual({ ok: false, error: 'operation budget of 1000 exceeded' });
    expect(
      compileCondition('cart.lines.exists(a, cart.lines[a].price > 198.0)', s).evaluate({ nowMs: NOW, cart: { ...cart, lines } }),
    ).toEqual({
      ok: true,
      value: true,
    });
  });

  it('does not meter reading a result after its evaluation', () => {
    const small = new ConditionEnvironment(new SchemaRegistry(), { operations: 50 });
    const s = small.scope({ state: true });
    const lines: Cart['lines'] = {};
    for (let i = 0; i < 40; i++) lines[`SKU-${i}`] = { quantity: 1, price: i };
    const r = compileExpression('cart.lines.map(k, k)', s).evaluate({ nowMs: NOW, cart: { ...cart, lines } });
    expect(r.ok).toBe(true);
    if (r.ok) expect((fromCel(r.value) as string[]).length).toBe(40);
  });

  it('converts vehicles, devices and quality from their state objects', () => {
    const vehicle: VehicleFacts = {
      vehicleId: 'WVWZZZAUZHW123456',
      vin: 'WVWZZZAUZHW123456',
      customerId: 'cus_1',
      firstSeenAt: NOW - 86_400_000,
      lastSeenAt: NOW,
      signals: [{ signal: 'Vehicle.LowVoltageBattery.StateOfHealth', value: 64, unit: '%', at: NOW, deviceId: 'dev_1' }],
      devices: [],
      parts: [
        {
          partType: 'battery',
          signal: 'Vehicle.LowVoltageBattery.StateOfHealth',
          partSku: 'BAT-AGM-70AH',
          partSerial: undefined,
          installedAt: undefined,
          measure: 'value',
          direction: 'below',
          threshold: 70,
          clear: 75,
          limit: undefined,
          reading: 64,
          readingAt: NOW,
          value: 64,
          due: true,
          dueSince: NOW - 3_600_000,
          dueEpisodes: 1,
          trend: { points: 4, slopePer30Days: -2.5, slopePer1000Km: null, target: 60, projectedAt: NOW + 86_400_000, projectedKm: null },
        },
      ],
      dueServices: [],
    };
    const s = env.scope({ state: true });
    const ok = (expr: string, a: Record<string, unknown>) => compileCondition(expr, s).evaluate({ nowMs: NOW, ...a });
    expect(
      ok('vehicle.parts.exists(p, p.part_type == "battery" && p.value < 70.0 && p.due_episodes == 1 && p.trend.projected_at > now)', {
        vehicle,
      }),
    ).toEqual({ ok: true, value: true });
    expect(ok('vehicle.signals[0].value == 64.0 && vehicle.parts.all(p, !has(p.trend.slope_per_1000_km))', { vehicle })).toEqual({
      ok: true,
      value: true,
    });
    expect(
      ok('quality.trusted && quality.flags.size() == 0 && quality.score >= 60.0', {
        quality: {
          source: 'dev_1',
          score: 97,
          trusted: true,
          degraded: false,
          flags: [],
          lastReceivedMs: NOW,
          updatedMs: NOW,
          staleAtMs: undefined,
        },
      }),
    ).toEqual({ ok: true, value: true });
  });

  it('lists the declared variables an expression reads', () => {
    const c = compileCondition('cart.value > 1.0 && event.data.cart_id == cart.cart_id && cart.lines.exists(x, x != "")', scope);
    expect([...c.variables].sort()).toEqual(['cart', 'event']);
  });

  it('types events of registered custom types and unknown commerce.* names', async () => {
    const types = new SchemaRegistry();
    (types as unknown as { add: (d: unknown, b: boolean) => void }).add(
      {
        type: 'warehouse.door_opened',
        version: 1,
        description: 'd',
        data: { type: 'object', required: ['door'], properties: { door: { type: 'string' }, seconds: { type: 'integer' } } },
        example: undefined,
      },
      false,
    );
    const e = new ConditionEnvironment(types);
    const s = e.scope({ event: 'warehouse.door_opened' });
    const c = compileCondition('event.data.seconds > 30', s);
    expect(c.evaluate({ event: { type: 'warehouse.door_opened', data: { door: 'd1', seconds: 45 } } })).toEqual({ ok: true, value: true });
    expect(s.compile('event.data.sekonds > 30').ok).toBe(false);
    expect(e.hasEventType('commerce.wishlist_product_added')).toBe(true);
    expect(e.scope({ event: 'commerce.wishlist_product_added' }).compile('event.data.event == "Wishlist Product Added"').ok).toBe(true);
    expect(e.hasEventType('warehouse.door_closed')).toBe(false);
  });

  it('renders templates: a whole template keeps its type, a mixed string becomes text', () => {
    const t = compileTemplates(
      {
        cart: '{{ cart.cart_id }}',
        value: '{{ cart.value }}',
        step: '{{ cart.checkout_step }}',
        text: 'Cart {{ cart.cart_id }} worth {{ cart.value }} {{ cart.currency }}',
        n: 3,
      },
      scope,
    );
    if (!t.ok) throw new Error(JSON.stringify(t.problems));
    expect(t.template.render({ nowMs: NOW, cart })).toEqual({
      ok: true,
      value: { cart: 'cart_1', value: 318.8, step: 2, text: 'Cart cart_1 worth 318.8 EUR', n: 3 },
    });
    const bad = compileTemplates({ a: ['x', 'Hi {{ cart.vlaue }}'] }, scope);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems[0]).toMatchObject({ pointer: '/a/1', start: 11, end: 16 });
    const skipped = compileTemplates({ subject: 'Order {{ order.id }}', vars: { id: '{{ cart.cart_id }}' } }, scope, { skip: ['subject'] });
    expect(skipped.ok).toBe(true);
  });
});
