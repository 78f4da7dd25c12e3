/**
 * The demo shop's reference data, generated from the seed: vehicle models, ~500 SKUs with
 * fitment, 3 warehouses, 4 carriers and their lanes. Plain data in the shapes of Pitwall's
 * import routes (docs/catalog.md), so the world loads it as any shop would.
 */
import { Rng } from './rng.ts';

export interface VehicleModel {
  make: string;
  model: string;
  yearFrom: number;
  yearTo: number;
  engine: string;
}

export interface Sku {
  sku: string;
  name: string;
  category: string;
  /** Which part type it is (brake pads, battery, …): shoppers and wear pick by it. */
  kind: PartKind;
  price: number;
  unitCost: number;
  weightKg: number;
  hazardous: boolean;
  temperatureSensitive: boolean;
  /** Indexes into the model list. */
  fits: number[];
  /** Popularity weight (a few SKUs sell most). */
  weight: number;
  reorderPoint: number;
}

export type PartKind =
  | 'brake_pads'
  | 'brake_rotors'
  | 'battery'
  | 'oil_filter'
  | 'air_filter'
  | 'wipers'
  | 'spark_plugs'
  | 'sensor'
  | 'adhesive'
  | 'fluid';

export interface Warehouse {
  id: string;
  name: string;
  region: string;
  lat: number;
  lon: number;
  /** MAC-style id of its sensor gateway; sensor names are `urn:dev:mac:<mac>:<sensor>`. */
  mac: string;
}

export interface Region {
  id: string;
  lat: number;
  lon: number;
  /** Share of shoppers from there. */
  share: number;
}

export interface Carrier {
  id: string;
  name: string;
  /** Transit-time multiplier (a cheap carrier is slower). */
  pace: number;
  express: boolean;
}

export interface Lane {
  carrier: string;
  origin: string;
  destination: string;
  p50Hours: number;
  p90Hours: number;
  cost: number;
}

export interface ShopModel {
  models: VehicleModel[];
  skus: Sku[];
  warehouses: Warehouse[];
  regions: Region[];
  carriers: Carrier[];
  lanes: Lane[];
}

const MAKES: [string, string[], string[]][] = [
  ['Volkswagen', ['Golf', 'Passat', 'Polo', 'Tiguan', 'Touran', 'T-Roc'], ['1.5 TSI', '2.0 TDI', '1.0 TSI']],
  ['BMW', ['3 Series', '5 Series', 'X1', 'X3', '1 Series'], ['2.0L I4', '3.0L I6']],
  ['Mercedes-Benz', ['C-Class', 'E-Class', 'A-Class', 'GLC', 'Sprinter'], ['2.0L I4', '2.1L CDI']],
  ['Audi', ['A3', 'A4', 'A6', 'Q3', 'Q5'], ['2.0 TFSI', '2.0 TDI']],
  ['Opel', ['Astra', 'Corsa', 'Insignia', 'Mokka'], ['1.2L', '1.6 CDTI']],
  ['Ford', ['Focus', 'Fiesta', 'Kuga', 'Transit', 'F-150'], ['1.0 EcoBoost', '2.0 EcoBlue', '3.5L V6']],
  ['Skoda', ['Octavia', 'Fabia', 'Superb', 'Kodiaq'], ['1.5 TSI', '2.0 TDI']],
  ['Toyota', ['Corolla', 'Yaris', 'RAV4', 'C-HR'], ['1.8L Hybrid', '2.0L']],
  ['Renault', ['Clio', 'Megane', 'Captur'], ['1.0 TCe', '1.5 dCi']],
  ['Hyundai', ['i30', 'Tucson', 'Kona'], ['1.6 T-GDi', '1.6 CRDi']],
  ['Peugeot', ['208', '308', '3008'], ['1.2 PureTech', '1.5 BlueHDi']],
  ['Kia', ['Ceed', 'Sportage', 'Niro'], ['1.6 GDi', '1.6 CRDi']],
];

const KINDS: {
  kind: PartKind;
  prefix: string;
  category: string;
  count: number;
  price: [number, number];
  weight: [number, number];
  temp: boolean;
  haz: boolean;
  brands: string[];
  noun: string;
}[] = [
  {
    kind: 'brake_pads',
    prefix: 'BRK-PAD',
    category: 'Brakes/Pads',
    count: 80,
    price: [29, 119],
    weight: [0.9, 2.4],
    temp: false,
    haz: false,
    brands: ['Brembo', 'ATE', 'Textar', 'Bosch'],
    noun: 'brake pads',
  },
  {
    kind: 'brake_rotors',
    prefix: 'BRK-ROT',
    category: 'Brakes/Rotors',
    count: 60,
    price: [45, 210],
    weight: [5, 14],
    temp: false,
    haz: false,
    brands: ['Brembo', 'Zimmermann', 'ATE'],
    noun: 'brake rotor',
  },
  {
    kind: 'battery',
    prefix: 'BAT',
    category: 'Electrical/Batteries',
    count: 45,
    price: [89, 289],
    weight: [12, 26],
    temp: true,
    haz: true,
    brands: ['Varta', 'Bosch', 'Exide'],
    noun: 'battery',
  },
  {
    kind: 'oil_filter',
    prefix: 'OIL-FLT',
    category: 'Filters/Oil',
    count: 55,
    price: [6, 24],
    weight: [0.2, 0.6],
    temp: false,
    haz: false,
    brands: ['Mann', 'Mahle', 'Bosch'],
    noun: 'oil filter',
  },
  {
    kind: 'air_filter',
    prefix: 'AIR-FLT',
    category: 'Filters/Air',
    count: 50,
    price: [9, 39],
    weight: [0.3, 0.9],
    temp: false,
    haz: false,
    brands: ['Mann', 'Mahle', 'K&N'],
    noun: 'air filter',
  },
  {
    kind: 'wipers',
    prefix: 'WIP',
    category: 'Visibility/Wipers',
    count: 45,
    price: [12, 49],
    weight: [0.2, 0.5],
    temp: false,
    haz: false,
    brands: ['Bosch', 'Valeo', 'SWF'],
    noun: 'wiper blades',
  },
  {
    kind: 'spark_plugs',
    prefix: 'SPK',
    category: 'Ignition/Spark plugs',
    count: 40,
    price: [7, 29],
    weight: [0.05, 0.2],
    temp: false,
    haz: false,
    brands: ['NGK', 'Bosch', 'Denso'],
    noun: 'spark plug set',
  },
  {
    kind: 'sensor',
    prefix: 'SEN',
    category: 'Electrical/Sensors',
    count: 55,
    price: [25, 180],
    weight: [0.1, 0.5],
    temp: false,
    haz: false,
    brands: ['Bosch', 'Hella', 'Continental'],
    noun: 'sensor',
  },
  {
    kind: 'adhesive',
    prefix: 'ADH',
    category: 'Chemicals/Adhesives',
    count: 30,
    price: [8, 35],
    weight: [0.1, 0.6],
    temp: true,
    haz: false,
    brands: ['Loctite', 'Teroson', 'Würth'],
    noun: 'adhesive',
  },
  {
    kind: 'fluid',
    prefix: 'FLD',
    category: 'Chemicals/Fluids',
    count: 40,
    price: [9, 79],
    weight: [1, 5.5],
    temp: true,
    haz: true,
    brands: ['Castrol', 'Liqui Moly', 'Mobil'],
    noun: 'fluid',
  },
];

const SIDES = ['front', 'rear'];

export function buildShopModel(seed: number | string): ShopModel {
  const rng = new Rng(seed).fork('model');
  const models: VehicleModel[] = [];
  for (const [make, names, engines] of MAKES)
    for (const model of names) {
      const yearFrom = rng.int(2008, 2019);
      models.push({ make, model, yearFrom, yearTo: Math.min(2026, yearFrom + rng.int(5, 9)), engine: rng.pick(engines) });
    }
  const skus: Sku[] = [];
  for (const k of KINDS) {
    for (let i = 0; i < k.count; i++) {
      const num = 1000 + i * 7 + rng.int(0, 6);
      const brand = rng.pick(k.brands);
      const side = k.kind === 'brake_pads' || k.kind === 'brake_rotors' ? rng.pick(SIDES) : undefined;
      const sku = `${k.prefix}-${side ? `${side[0]?.toUpperCase()}-` : ''}${num}`;
      const price = Math.round(rng.between(k.price[0], k.price[1]) * 10) / 10 - 0.01;
      const fits: number[] = [];
      const n = rng.int(2, 7);
      const first = rng.int(0, models.length - 1);
      // Parts fit models of one make mostly (platform sharing), plus a stray one.
      for (let j = 0; j < n; j++) {
        const idx = j === n - 1 ? rng.int(0, models.length - 1) : (first + j) % models.length;
        if (!fits.includes(idx)) fits.push(idx);
      }
      skus.push({
        sku,
        name: `${brand} ${side ? `${side} ` : ''}${k.noun} ${num}`,
        category: k.category,
        kind: k.kind,
        price: Math.max(1, Math.round(price * 100) / 100),
        unitCost: Math.round(price * rng.between(0.42, 0.68) * 100) / 100,
        weightKg: Math.round(rng.between(k.weight[0], k.weight[1]) * 100) / 100,
        hazardous: k.haz,
        temperatureSensitive: k.temp,
        fits,
        weight: 1 / (1 + i) ** 0.9,
        reorderPoint: rng.int(4, 12),
      });
    }
  }
  const warehouses: Warehouse[] = [
    // DE-HAM-1's cold room is the one the starter workflow `cold-room-alert` watches.
    { id: 'DE-HAM-1', name: 'Hamburg', region: 'DE-NORTH', lat: 53.55, lon: 9.99, mac: '0024befffe804ff1' },
    { id: 'DE-MUC-1', name: 'Munich', region: 'DE-SOUTH', lat: 48.14, lon: 11.58, mac: '0024befffe804ff2' },
    { id: 'DE-CGN-1', name: 'Cologne', region: 'DE-WEST', lat: 50.94, lon: 6.96, mac: '0024befffe804ff3' },
  ];
  const regions: Region[] = [
    { id: 'DE-NORTH', lat: 53.1, lon: 9.5, share: 0.3 },
    { id: 'DE-SOUTH', lat: 48.6, lon: 11.2, share: 0.3 },
    { id: 'DE-WEST', lat: 51.2, lon: 7.2, share: 0.25 },
    { id: 'DE-EAST', lat: 52.4, lon: 13.2, share: 0.15 },
  ];
  const carriers: Carrier[] = [
    { id: 'northline', name: 'Northline Parcel', pace: 1.0, express: false },
    { id: 'rapidpost', name: 'RapidPost', pace: 0.85, express: false },
    { id: 'cargoline', name: 'Cargoline Freight', pace: 1.35, express: false },
    { id: 'swift-express', name: 'Swift Express', pace: 0.5, express: true },
  ];
  const lanes: Lane[] = [];
  for (const c of carriers)
    for (const w of warehouses)
      for (const r of regions) {
        const km = distanceKm(w.lat, w.lon, r.lat, r.lon);
        const p50 = Math.round((16 + km / 25) * c.pace);
        lanes.push({
          carrier: c.id,
          origin: w.id,
          destination: r.id,
          p50Hours: p50,
          p90Hours: Math.round(p50 * 1.5),
          cost: c.express ? 14.9 : 4.9,
        });
      }
  return { models, skus, warehouses, regions, carriers, lanes };
}

export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = 6371;
  const dLat = ((lat2 - lat1) * Math.PI) / 180;
  const dLon = ((lon2 - lon1) * Math.PI) / 180;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos((lat1 * Math.PI) / 180) * Math.cos((lat2 * Math.PI) / 180) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(a));
}

/** The import bodies for PUT /v1/catalog, /v1/warehouses, /v1/carriers, /v1/lanes. */
export function referenceData(m: ShopModel) {
  return {
    products: m.skus.map((s) => ({
      sku: s.sku,
      name: s.name,
      category: s.category,
      price: s.price,
      currency: 'EUR',
      unit_cost: s.unitCost,
      weight_kg: s.weightKg,
      hazardous: s.hazardous,
      temperature_sensitive: s.temperatureSensitive,
      attributes: { brand: s.name.split(' ')[0], reorder_point: s.reorderPoint, demo: true },
      fitment: s.fits.map((i) => {
        const v = m.models[i] as VehicleModel;
        return { make: v.make, model: v.model, year_from: v.yearFrom, year_to: v.yearTo, engine: v.engine };
      }),
    })),
    warehouses: m.warehouses.map((w) => ({
      id: w.id,
      name: `${w.name} warehouse`,
      region: w.region,
      country: 'DE',
      lat: w.lat,
      lon: w.lon,
      timezone: 'Europe/Berlin',
      cutoff_time: '15:00',
      handling_hours: 4,
    })),
    carriers: m.carriers.map((c) => ({ id: c.id, name: c.name, tracking_url: `https://track.example.com/${c.id}/{tracking_number}` })),
    lanes: m.lanes.map((l) => ({
      carrier_id: l.carrier,
      origin: l.origin,
      destination: l.destination,
      transit_hours_p50: l.p50Hours,
      transit_hours_p90: l.p90Hours,
      cost: l.cost,
      currency: 'EUR',
      attributes: { service: m.carriers.find((c) => c.id === l.carrier)?.express ? 'express' : 'standard' },
    })),
  };
}
