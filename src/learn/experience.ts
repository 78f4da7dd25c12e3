/**
 * Customer experience: CSAT (share of answers 4–5 and the mean, 1–5) and NPS (% promoters 9–10 −
 * % detractors 0–6) by week, by placement and by the IoT context at answer time (a delayed shipment or not).
 */
import { sql } from 'kysely';
import type { Db } from '../detect/index.ts';
import type { DayRange } from './range.ts';
import { weekOf } from './work.ts';

const DAY_MS = 86_400_000;

export interface Scores {
  csatResponses: number;
  /** Share of CSAT answers of 4 or 5. */
  csat: number | null;
  csatMean: number | null;
  npsResponses: number;
  /** −100 … 100. */
  nps: number | null;
}

export interface ExperienceReport {
  from: string;
  to: string;
  totals: Scores;
  byWeek: ({ week: string } & Scores)[];
  byPlacement: ({ placement: string } & Scores)[];
  /** `delayed`: a shipment of the cart / order was delayed at answer time; `on_time`: context said none; `unknown`: no context. */
  byShipmentContext: ({ context: 'delayed' | 'on_time' | 'unknown' } & Scores)[];
}

/** Counts per bucket, added up from SQL groups. */
class Acc {
  csatN = 0;
  csatSum = 0;
  csatHigh = 0;
  npsN = 0;
  promoters = 0;
  detractors = 0;
  add(g: Group): void {
    this.csatN += g.csatN;
    this.csatSum += g.csatSum;
    this.csatHigh += g.csatHigh;
    this.npsN += g.npsN;
    this.promoters += g.promoters;
    this.detractors += g.detractors;
  }
  scores(): Scores {
    return {
      csatResponses: this.csatN,
      csat: this.csatN ? this.csatHigh / this.csatN : null,
      csatMean: this.csatN ? this.csatSum / this.csatN : null,
      npsResponses: this.npsN,
      nps: this.npsN ? (100 * (this.promoters - this.detractors)) / this.npsN : null,
    };
  }
}

interface Group {
  csatN: number;
  csatSum: number;
  csatHigh: number;
  npsN: number;
  promoters: number;
  detractors: number;
}

function bucket<K extends string>(m: Map<K, Acc>, k: K): Acc {
  let a = m.get(k);
  if (!a) {
    a = new Acc();
    m.set(k, a);
  }
  return a;
}

export async function experienceReport(db: Db, range: DayRange, placement?: string): Promise<ExperienceReport> {
  // Aggregated in SQL per (day, placement, shipment context): a few rows whatever the number of answers.
  let q = db
    .selectFrom('learn_surveys')
    .select([
      sql<number>`time_ms / ${sql.lit(DAY_MS)}`.as('day'),
      'placement',
      'delayed',
      sql<number>`count(csat)`.as('csat_n'),
      sql<number>`coalesce(sum(csat), 0)`.as('csat_sum'),
      sql<number>`sum(case when csat >= 4 then 1 else 0 end)`.as('csat_high'),
      sql<number>`count(nps)`.as('nps_n'),
      sql<number>`sum(case when nps >= 9 then 1 else 0 end)`.as('promoters'),
      sql<number>`sum(case when nps <= 6 then 1 else 0 end)`.as('detractors'),
    ])
    .where('time_ms', '>=', range.fromMs)
    .where('time_ms', '<', range.toMs)
    .where((eb) => eb.or([eb('csat', 'is not', null), eb('nps', 'is not', null)]));
  if (placement !== undefined) q = q.where('placement', '=', placement);
  const rows = await q.groupBy([sql`time_ms / ${sql.lit(DAY_MS)}`, 'placement', 'delayed']).execute();
  const total = new Acc();
  const weeks = new Map<string, Acc>();
  const places = new Map<string, Acc>();
  const ctx = new Map<'delayed' | 'on_time' | 'unknown', Acc>();
  for (const r of rows) {
    const g: Group = {
      csatN: Number(r.csat_n),
      csatSum: Number(r.csat_sum),
      csatHigh: Number(r.csat_high ?? 0),
      npsN: Number(r.nps_n),
      promoters: Number(r.promoters ?? 0),
      detractors: Number(r.detractors ?? 0),
    };
    total.add(g);
    bucket(weeks, weekOf(Math.floor(Number(r.day)))).add(g);
    bucket(places, r.placement).add(g);
    bucket(ctx, r.delayed === null ? 'unknown' : Number(r.delayed) === 1 ? 'delayed' : 'on_time').add(g);
  }
  const sorted = <K extends string>(m: Map<K, Acc>) => [...m].sort(([a], [b]) => a.localeCompare(b));
  return {
    from: range.from,
    to: range.to,
    totals: total.scores(),
    byWeek: sorted(weeks).map(([week, a]) => ({ week, ...a.scores() })),
    byPlacement: sorted(places).map(([p, a]) => ({ placement: p, ...a.scores() })),
    byShipmentContext: sorted(ctx).map(([context, a]) => ({ context, ...a.scores() })),
  };
}
