/**
 * The maturity scorecard after the seed's table (early → mature stage), scored 0–3 per aspect from
 * what is actually connected and active, each with the next step to take.
 */
import { sql } from 'kysely';
import type { Db } from '../detect/index.ts';
import { SEEN_PREFIX } from './fold.ts';

export interface Aspect {
  aspect: 'data_handling' | 'workflow_impact' | 'financial_insight' | 'tool_use';
  /** 0 (nothing yet) … 3 (the seed's mature stage). */
  score: number;
  level: string;
  evidence: string;
  nextStep: string | null;
}

export interface MaturityReport {
  asOf: string;
  /** Mean of the four scores. */
  overall: number;
  aspects: Aspect[];
}

const DAY_MS = 86_400_000;
const IOT_DOMAINS = ['sensor', 'shipment', 'device', 'vehicle'];
const NOTIFY_ONLY = new Set(['alert', 'emit']);
const CART_CHECKOUT = new Set(['checkout.offer', 'storefront.message']);

export async function maturityReport(db: Db, nowMs: number): Promise<MaturityReport> {
  const seenRows = await db.selectFrom('learn_progress').select(['name', 'seq']).where('name', 'like', `${SEEN_PREFIX}%`).execute();
  const seen = new Map(seenRows.map((r) => [r.name.slice(SEEN_PREFIX.length), Number(r.seq)]));
  const live = (d: string) => (seen.get(d) ?? 0) >= nowMs - 7 * DAY_MS;
  const since = nowMs - 30 * DAY_MS;
  const actionTypes = (
    await db.selectFrom('outbox').select('type').distinct().where('status', '=', 'done').where('finished_ms', '>=', since).execute()
  ).map((r) => r.type);
  const orders = Number((await db.selectFrom('learn_orders').select(sql<number>`count(*)`.as('n')).executeTakeFirst())?.n ?? 0);
  const holdouts = Number(
    (await db.selectFrom('runs').select(sql<number>`count(*)`.as('n')).where('status', '=', 'holdout').executeTakeFirst())?.n ?? 0,
  );
  const surveys = await db
    .selectFrom('learn_surveys')
    .select([sql<number>`count(*)`.as('n'), sql<number>`count(delayed)`.as('with_context')])
    .where('time_ms', '>=', since)
    .executeTakeFirst();
  const answered = Number(surveys?.n ?? 0);
  const withContext = Number(surveys?.with_context ?? 0);

  const iotLive = IOT_DOMAINS.filter(live);
  const anySeen = seen.size > 0;
  const data: Aspect = live('commerce')
    ? iotLive.length > 0
      ? at(
          'data_handling',
          3,
          'Real-time event-driven integration',
          `live commerce and IoT events (${iotLive.join(', ')}) in the last 7 days`,
          null,
        )
      : at(
          'data_handling',
          2,
          'Event-driven commerce',
          'live commerce events, no IoT events in the last 7 days',
          'Connect an IoT source: devices over MQTT/SenML or a carrier feed (shipment.*).',
        )
    : anySeen
      ? at(
          'data_handling',
          1,
          'Manual aggregation',
          'events arrive only as backfills or not in the last 7 days',
          'Send storefront events live (Segment or CloudEvents) instead of batch imports.',
        )
      : at('data_handling', 0, 'Not connected', 'no events yet', 'Send storefront events to POST /v1/batch (Segment) or /v1/events.');

  const cart = actionTypes.filter((t) => CART_CHECKOUT.has(t));
  const customerFacing = actionTypes.filter((t) => !NOTIFY_ONLY.has(t));
  const workflow: Aspect =
    cart.length > 0
      ? at(
          'workflow_impact',
          3,
          'Automated cart and checkout adjustments',
          `completed ${cart.join(', ')} actions in the last 30 days`,
          null,
        )
      : customerFacing.length > 0
        ? at(
            'workflow_impact',
            2,
            'Automated customer actions',
            `completed ${customerFacing.join(', ')} actions in the last 30 days`,
            'Add a workflow that adjusts the cart or checkout (checkout.offer) when a shipment is delayed.',
          )
        : actionTypes.length > 0
          ? at(
              'workflow_impact',
              1,
              'Notifications only',
              `only ${actionTypes.join(', ')} actions in the last 30 days`,
              'Act for the customer: a survey.show, email or checkout.offer step.',
            )
          : at(
              'workflow_impact',
              0,
              'No automation',
              'no completed actions in the last 30 days',
              'Enable a workflow (pitwall workflows, docs/act/workflows.md).',
            );

  const predictive = live('plan');
  const financial: Aspect = predictive
    ? at('financial_insight', 3, 'Predictive cash flow adjustments', 'a risk recommendation was applied in the last 7 days', null)
    : holdouts > 0
      ? at(
          'financial_insight',
          2,
          'Measured uplift',
          `${holdouts} holdout runs give workflows a measured uplift`,
          'Run the cash and margin risk model (pitwall risk) and apply its recommendations.',
        )
      : orders > 0
        ? at(
            'financial_insight',
            1,
            'Post-facto reporting',
            `${orders} orders reported after the fact`,
            'Give a workflow a holdout so its uplift and impact can be measured.',
          )
        : at('financial_insight', 0, 'No financial data', 'no orders yet', 'Send Order Completed events with products and prices.');

  const tool: Aspect =
    withContext > 0
      ? at('tool_use', 3, 'Embedded IoT feedback', `${withContext} survey answers in the last 30 days carried IoT context`, null)
      : answered > 0
        ? at(
            'tool_use',
            2,
            'Embedded feedback',
            `${answered} survey answers in the last 30 days, none with IoT context`,
            "Use Pitwall's own surveys (widget) so answers carry the shipment context.",
          )
        : at(
            'tool_use',
            1,
            'Standalone analytics',
            'reports only: no survey answers in the last 30 days',
            'Show the exit-intent or post-purchase survey through the widget.',
          );

  const aspects = [data, workflow, financial, tool];
  return { asOf: new Date(nowMs).toISOString(), overall: aspects.reduce((s, a) => s + a.score, 0) / aspects.length, aspects };
}

function at(aspect: Aspect['aspect'], score: number, level: string, evidence: string, nextStep: string | null): Aspect {
  return { aspect, score, level, evidence, nextStep };
}
