/** The demo world on its own: determinism per seed, the shop it builds, its causal switches. */
import { describe, expect, test } from 'vitest';
import { buildShopModel, type Emission, plainStorefront, referenceData, type Storefront, World } from '../src/demo/index.ts';

const START = Date.parse('2026-03-02T06:00:00Z');
const HOUR = 3_600_000;

async function run(seed: number | string, hours: number, storefront: Storefront = plainStorefront, effects = {}) {
  const out: Emission[] = [];
  const world = new World({ seed, startMs: START, effects });
  await world.advance(START + hours * HOUR, { emit: (e) => out.push(e), storefront });
  return { out, world };
}

describe('demo world', () => {
  test('the same seed gives the same events; another seed gives others', async () => {
    const a = await run(7, 24);
    const b = await run(7, 24);
    const c = await run(8, 24);
    expect(a.out.length).toBeGreaterThan(1000);
    expect(JSON.stringify(b.out)).toBe(JSON.stringify(a.out));
    expect(JSON.stringify(c.out)).not.toBe(JSON.stringify(a.out));
  });

  test('advancing in small or large steps gives the same events', async () => {
    const whole = await run('s', 12);
    const out: Emission[] = [];
    const world = new World({ seed: 's', startMs: START });
    for (let h = 1; h <= 12; h++) await world.advance(START + h * HOUR, { emit: (e) => out.push(e), storefront: plainStorefront });
    expect(JSON.stringify(out)).toBe(JSON.stringify(whole.out));
  });

  test('the shop: ~500 SKUs over ten part families, fitment to ~50 models, 3 warehouses, 4 carriers with lanes', () => {
    const m = buildShopModel(1);
    expect(m.skus).toHaveLength(500);
    expect(new Set(m.skus.map((s) => s.sku)).size).toBe(500);
    expect(new Set(m.skus.map((s) => s.kind)).size).toBe(10);
    expect(m.models).toHaveLength(50);
    expect(m.warehouses.map((w) => w.id)).toEqual(['DE-HAM-1', 'DE-MUC-1', 'DE-CGN-1']);
    expect(m.carriers).toHaveLength(4);
    expect(m.lanes).toHaveLength(4 * 3 * 4);
    for (const s of m.skus) {
      expect(s.fits.length).toBeGreaterThan(0);
      expect(s.unitCost).toBeLessThan(s.price);
    }
    const ref = referenceData(m);
    expect(ref.products.some((p) => p.temperature_sensitive)).toBe(true);
    for (const l of ref.lanes) expect(l.transit_hours_p90).toBeGreaterThanOrEqual(l.transit_hours_p50);
  });

  test('a simulated week has orders, shipments, deliveries, vehicle signals, warehouse SenML and the cold-room sensor', async () => {
    const { out, world } = await run(3, 24 * 7);
    const types = new Set(out.flatMap((e) => (e.kind === 'cloudevent' ? [String(e.event.type)] : [])));
    for (const t of ['shipment.created', 'shipment.status', 'shipment.position', 'shipment.delivered', 'device.registered'])
      expect(types).toContain(t);
    // Connected vehicles report VSS telemetry per device: a battery monitor and a brake-wear sensor.
    const telemetry = out.flatMap((e) => (e.kind === 'telemetry' ? [e] : []));
    expect(new Set(telemetry.map((e) => e.device.slice(0, 3)))).toEqual(new Set(['bm-', 'bw-']));
    expect(new Set(telemetry.flatMap((e) => e.signals.map((x) => x.name)))).toContain('Vehicle.LowVoltageBattery.StateOfHealth');
    const events = new Set(out.flatMap((e) => (e.kind === 'segment' ? [String(e.message.event ?? e.message.type)] : [])));
    for (const t of ['identify', 'page', 'Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed'])
      expect(events).toContain(t);
    const names = out.flatMap((e) => (e.kind === 'senml' ? e.pack.map((r) => `${r.bn ?? ''}${r.n}`) : []));
    expect(names).toContain('urn:dev:mac:0024befffe804ff1:coldroom_temp');
    expect(names.some((n) => n.includes(':shelf:DE-HAM-1:'))).toBe(true);
    // Nothing is stamped after the time the world was advanced to (the server's now).
    const end = START + 24 * 7 * HOUR;
    const times = out.map((e) =>
      e.kind === 'segment'
        ? Date.parse(String(e.message.timestamp))
        : e.kind === 'cloudevent'
          ? Date.parse(String(e.event.time))
          : e.kind === 'telemetry'
            ? e.at
            : Number(e.pack[0]?.bt) * 1000,
    );
    expect(Math.max(...times)).toBeLessThanOrEqual(end);
    expect(world.stats.orders).toBeGreaterThan(50);
    expect(world.stats.abandoned).toBeGreaterThan(50);
    expect(world.stats.delivered).toBeGreaterThan(20);
  });

  test('a slower promise lowers conversion, and only while the effect is on', async () => {
    const slow: Storefront = {
      ...plainStorefront,
      decideProduct: async (req) => ({
        products: [{ sku: String((req.skus as string[])[0]), promise: { p90: new Date(START + 30 * 24 * HOUR).toISOString() } }],
      }),
    };
    const base = await run(5, 72);
    const slowOn = await run(5, 72, slow);
    const slowOff = await run(5, 72, slow, { promise: false });
    const rate = (w: World) => w.stats.orders / w.stats.sessions;
    expect(rate(slowOn.world)).toBeLessThan(rate(base.world) * 0.7);
    expect(rate(slowOff.world)).toBeGreaterThan(rate(slowOn.world) * 1.4);
  });

  test('an express offer raises conversion of returning shoppers, and only while the effect is on', async () => {
    const offer: Storefront = { ...plainStorefront, decideCheckout: async () => ({ offers: [{ kind: 'shipping', shipping: 'express' }] }) };
    const none = await run(9, 96);
    const on = await run(9, 96, offer);
    const off = await run(9, 96, offer, { offer: false });
    const rate = (w: World) => w.stats.orders / w.stats.sessions;
    expect(rate(on.world)).toBeGreaterThan(rate(none.world) * 1.15);
    expect(Math.abs(rate(off.world) - rate(none.world))).toBeLessThan(rate(none.world) * 0.1);
  });

  test('survey answers tell the true cause while truthful; at random when not', async () => {
    const answers: string[] = [];
    const sf: Storefront = {
      decideProduct: async () => ({ survey: { id: 'what-stopped-you', token: 't' } }),
      decideCheckout: async () => null,
      answerSurvey: async (_id, body) => void answers.push(String((body.answers as { value: unknown }[])[0]?.value)),
    };
    const slow: Storefront = {
      ...sf,
      decideProduct: async (req) => ({
        products: [{ sku: String((req.skus as string[])[0]), promise: { p90: new Date(START + 20 * 24 * HOUR).toISOString() } }],
        survey: { id: 'what-stopped-you', token: 't' },
      }),
    };
    await run(4, 48, slow);
    const delivery = answers.filter((a) => a === 'delivery_time').length;
    expect(delivery / answers.length).toBeGreaterThan(0.5);
    answers.length = 0;
    await run(4, 48, slow, { truthfulSurveys: false });
    expect(answers.filter((a) => a === 'delivery_time').length / answers.length).toBeLessThan(0.4);
  });

  test('a held-up truck stands still: fixes at speed 0 stay where it stopped', async () => {
    const out: Emission[] = [];
    const world = new World({ seed: 2, startMs: START, trouble: 20 });
    await world.advance(START + 72 * HOUR, { emit: (e) => out.push(e), storefront: plainStorefront });
    const fixes = new Map<string, { lat: number; lon: number; speed: number }[]>();
    for (const e of out)
      if (e.kind === 'cloudevent' && e.event.type === 'shipment.position') {
        const d = e.event.data as { shipment_id: string; lat: number; lon: number; speed_kmh: number };
        fixes.set(d.shipment_id, [...(fixes.get(d.shipment_id) ?? []), { lat: d.lat, lon: d.lon, speed: d.speed_kmh }]);
      }
    let still = 0;
    for (const list of fixes.values())
      for (let i = 1; i < list.length; i++) {
        const [a, b] = [list[i - 1], list[i]];
        if (a && b && b.speed === 0 && a.speed === 0) {
          still++;
          expect([b.lat, b.lon]).toEqual([a.lat, a.lon]);
        }
      }
    expect(world.stats.incidents).toBeGreaterThan(0);
    expect(still).toBeGreaterThan(5);
  });

  test('the delivery-concern focus: shoppers come for held-up parts and leave over delivery time', async () => {
    const answers: string[] = [];
    const sf: Storefront = {
      decideProduct: async () => ({ survey: { id: 'what-stopped-you', token: 't' } }),
      decideCheckout: async () => null,
      answerSurvey: async (_id, body) => void answers.push(String((body.answers as { value: unknown }[])[0]?.value)),
    };
    const out: Emission[] = [];
    const world = new World({ seed: 4, startMs: START, trouble: 10, focus: 'delivery-concern' });
    await world.advance(START + 48 * HOUR, { emit: (e) => out.push(e), storefront: sf });
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.every((a) => a === 'delivery_time')).toBe(true);
    // Most products viewed are on a shipment (the held-up ones), not drawn from the whole catalogue.
    const shipped = new Set(
      out.flatMap((e) =>
        e.kind === 'cloudevent' && e.event.type === 'shipment.created'
          ? (e.event.data as { lines: { sku: string }[] }).lines.map((l) => l.sku)
          : [],
      ),
    );
    const viewed = out.flatMap((e) =>
      e.kind === 'segment' && e.message.event === 'Product Viewed' ? [String((e.message.properties as { sku: string }).sku)] : [],
    );
    const late = viewed.slice(Math.floor(viewed.length / 2));
    expect(late.filter((s) => shipped.has(s)).length / late.length).toBeGreaterThan(0.7);
  });
});
